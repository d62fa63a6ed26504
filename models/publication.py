"""Published versions: what the catalogue, the API and the LHÉO export read.

Approving an action stores an immutable snapshot of its whole F-A-S-D tree (with the
organisation, site and contact data it shows) in ``PublishedAction.data``, plus one
``PublishedSession`` row per session with the columns the public search filters on. The
live records may then be edited (a new draft revision): the published version does not
change until the revision is approved.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow


class PublishedAction(db.Model):
    __tablename__ = "published_action"

    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    formation_id: Mapped[int] = mapped_column(index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    organisation_siret: Mapped[str] = mapped_column(sa.String(14), index=True)
    version: Mapped[int] = mapped_column(default=1)
    published_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    intitule: Mapped[str] = mapped_column(sa.String(600))
    search_text: Mapped[str] = mapped_column(sa.Text)
    certifiante: Mapped[bool] = mapped_column(default=False, index=True)
    niveau_sortie: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    formacode_principal: Mapped[str | None] = mapped_column(sa.String(5), index=True)
    data: Mapped[dict] = mapped_column(sa.JSON)
    # The LHÉO 2.3 rendering of ``data`` (``exporters.lheo.fragment``), written with it, and the
    # version of the renderer that wrote it: the export streams it instead of rendering every
    # snapshot again, and renders the rows whose version is not the current one itself.
    lheo: Mapped[str | None] = mapped_column(sa.Text, deferred=True)
    lheo_version: Mapped[int | None]

    sessions: Mapped[list["PublishedSession"]] = relationship(
        back_populates="published_action", cascade="all, delete-orphan", order_by="PublishedSession.date_debut"
    )
    formacodes: Mapped[list["PublishedFormacode"]] = relationship(cascade="all, delete-orphan")


@sa.event.listens_for(PublishedAction.data, "set")
def _render_lheo(target: PublishedAction, value: dict, _old, _initiator) -> None:
    """Whoever writes a snapshot (publication, recruitment updates, tests) writes its LHÉO rendering with it.

    Imported here, not at the top: the exporter reads these models.
    """
    from exporters.lheo import fragment

    target.lheo = fragment.dumps(value)
    target.lheo_version = fragment.VERSION


class PublishedFormacode(db.Model):
    __tablename__ = "published_formacode"

    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("published_action.action_id", ondelete="CASCADE"), primary_key=True
    )
    formacode_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True, index=True)


published_session_dispositif = sa.Table(
    "published_session_dispositif",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("published_session.session_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("dispositif_code", sa.Integer, primary_key=True, index=True),
)

published_session_public = sa.Table(
    "published_session_public",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("published_session.session_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("public_code", sa.String(10), primary_key=True, index=True),
)


def formacode_domains(codes) -> list[str]:
    """The semantic fields of Formacodes (their first three digits), each once, sorted: what the
    catalogue's "domaine" facet counts a session under."""
    return sorted({code[:3] for code in codes})


# The columns of a published session the public search's facet counts read (``search_public.counting``)
FACET_COLUMNS = (
    "session_id", "action_id", "latitude", "longitude", "departement", "commune_code", "niveau_sortie",
    "modalite_enseignement", "certifiante", "entrees_sorties", "etat_recrutement", "domaines",
)  # fmt: skip


class PublishedSession(db.Model):
    """One published session, with what the public search filters and sorts on."""

    __tablename__ = "published_session"

    session_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("published_action.action_id", ondelete="CASCADE"))
    fas_code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    # indexed by ix_published_session_dates and ix_published_session_date_debut_id
    date_debut: Mapped[date]
    date_fin: Mapped[date] = mapped_column(index=True)
    commune_code: Mapped[str | None] = mapped_column(sa.String(5), index=True)
    departement: Mapped[str | None] = mapped_column(sa.String(3), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    etat_recrutement: Mapped[str] = mapped_column(sa.String(1), index=True)
    modalite_enseignement: Mapped[str] = mapped_column(sa.String(1), index=True)
    entrees_sorties: Mapped[str] = mapped_column(sa.String(1))
    places_restantes: Mapped[int | None]
    # Denormalised for the facet counts of the public search: the action's values, and the semantic
    # fields of its Formacodes (``formacode_domains``) as a JSON list (the dispositifs and publics are
    # counted through the association tables).
    certifiante: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    niveau_sortie: Mapped[str | None] = mapped_column(sa.String(2))
    domaines: Mapped[list] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    # Indexed: the incremental LHÉO export reads the sessions updated since its last run.
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow, index=True
    )

    published_action: Mapped[PublishedAction] = relationship(back_populates="sessions")

    __table_args__ = (
        # A keyword search reads the sessions of the matching actions: on PostgreSQL, the columns its
        # facet counts and its date filters read are in the index, so that those thousands of sessions
        # are read from it alone (an index-only scan).
        sa.Index(
            "ix_published_session_action_id",
            "action_id",
            postgresql_include=[*(c for c in FACET_COLUMNS if c != "action_id"), "date_debut", "date_fin"],
        ),
        sa.Index("ix_published_session_dates", "date_debut", "date_fin"),
        # The public search's sort by date and its cursor (date_debut, session_id).
        sa.Index("ix_published_session_date_debut_id", "date_debut", "session_id"),
    )
