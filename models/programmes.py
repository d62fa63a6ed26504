"""The Region's programme (seed 002): programmes, their lots, templates, and the Region's consent.

Each year the Conseil régional sends an extraction of its regional programme (``sofi
import-programme``): the programmes (PREPA Avenir Sup…), their lots (``PAS2025_4``: places
ordered, bon de commande and its semester, ID action CR) and, for each lot, the "mandataire"
and "formateur" organisations. A :class:`ProgrammeTemplate` holds what the Region imposes on
the offer of a programme; an action created from a lot is linked to it by a
:class:`ProgrammeAction`. Changes to a published programme action wait for the Region's
agreement (:class:`RegionConsent`) before a validator may approve them.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship, validates

from models.base import TimestampMixin, db, utcnow
from models.offer import TEXT_LIMIT, Action, SessionDispositif, SessionFormation
from models.organisations import Organisation
from models.referentials import Dispositif
from models.validation import ModelValidationError, check_code, check_codes, check_length, check_min


class LotRole(enum.StrEnum):
    MANDATAIRE = "mandataire"
    FORMATEUR = "formateur"

    @property
    def label(self) -> str:
        return {"mandataire": "Mandataire", "formateur": "Formateur"}[self.value]


class Programme(TimestampMixin, db.Model):
    """A programme of the Region (1 emploi = 1 formation, PREPA Avenir Sup…), keyed by its code."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    intitule: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    lots: Mapped[list["Lot"]] = relationship(back_populates="programme", order_by="Lot.code")
    template: Mapped["ProgrammeTemplate | None"] = relationship(back_populates="programme", uselist=False)

    __table_args__ = (sa.CheckConstraint("length(code) BETWEEN 1 AND 20", name="code_length"),)

    @validates("code")
    def _validate_code(self, key, value):
        value = (value or "").strip().upper()
        if not value:
            raise ModelValidationError(key, "le code du programme est obligatoire.")
        return check_length(key, value, 20, "Le code du programme")

    @validates("intitule")
    def _validate_intitule(self, key, value):
        value = (value or "").strip()
        if not value:
            raise ModelValidationError(key, "l'intitulé du programme est obligatoire.")
        return check_length(key, value, 255, "L'intitulé du programme")

    def __str__(self) -> str:
        return self.intitule


class Lot(TimestampMixin, db.Model):
    """A lot of the regional programme: what the Region ordered from its mandataire(s)."""

    __tablename__ = "programme_lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    intitule: Mapped[str] = mapped_column(sa.String(255))
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programme.id"), index=True)
    annee: Mapped[int]
    nb_places: Mapped[int]
    bon_commande: Mapped[str | None] = mapped_column(sa.String(50))
    # Semester (1: January–June, 2: July–December of ``annee``) in which the action must start.
    semestre: Mapped[int | None]
    id_action_cr: Mapped[str | None] = mapped_column(sa.String(30))

    programme: Mapped[Programme] = relationship(back_populates="lots")
    organisations: Mapped[list["LotOrganisation"]] = relationship(
        back_populates="lot", cascade="all, delete-orphan", order_by=lambda: [LotOrganisation.role, LotOrganisation.id]
    )

    __table_args__ = (
        sa.CheckConstraint("nb_places >= 1", name="nb_places_min"),
        sa.CheckConstraint("annee BETWEEN 2000 AND 2100", name="annee_range"),
        sa.CheckConstraint("semestre IS NULL OR semestre IN (1, 2)", name="semestre_values"),
    )

    @validates("code")
    def _validate_code(self, key, value):
        value = (value or "").strip()
        if not value:
            raise ModelValidationError(key, "le code du lot est obligatoire.")
        return check_length(key, value, 30, "Le code du lot")

    @validates("intitule")
    def _validate_intitule(self, key, value):
        value = (value or "").strip()
        if not value:
            raise ModelValidationError(key, "l'intitulé du lot est obligatoire.")
        return check_length(key, value, 255, "L'intitulé du lot")

    @validates("annee")
    def _validate_annee(self, key, value):
        if value is None or not 2000 <= value <= 2100:
            raise ModelValidationError(key, "l'année du lot doit être comprise entre 2000 et 2100.")
        return value

    @validates("nb_places")
    def _validate_nb_places(self, key, value):
        if value is None:
            raise ModelValidationError(key, "le nombre de places commandées est obligatoire.")
        return check_min(key, value, 1, "Le nombre de places commandées")

    @validates("semestre")
    def _validate_semestre(self, key, value):
        if value is not None and value not in (1, 2):
            raise ModelValidationError(key, "le semestre du bon de commande est 1 ou 2.")
        return value

    def organisations_with(self, role: LotRole) -> list[Organisation]:
        return [link.organisation for link in self.organisations if link.role == role]

    @property
    def mandataires(self) -> list[Organisation]:
        return self.organisations_with(LotRole.MANDATAIRE)

    @property
    def formateurs(self) -> list[Organisation]:
        return self.organisations_with(LotRole.FORMATEUR)

    def mandataire_code(self, organisation_id: int) -> str | None:
        """The Region's code of a mandataire of this lot (« OF Mandataire CR »)."""
        for link in self.organisations:
            if link.role == LotRole.MANDATAIRE and link.organisation_id == organisation_id:
                return link.code_cr
        return None

    def __str__(self) -> str:
        return f"{self.code} - {self.intitule}"


class LotOrganisation(db.Model):
    """An organisation of a lot, as mandataire or as formateur (both roles are two rows)."""

    __tablename__ = "programme_lot_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed by uq_programme_lot_organisation (lot_id, organisation_id, role)
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_lot.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    role: Mapped[LotRole] = mapped_column(
        sa.Enum(
            LotRole,
            name="lot_role",
            native_enum=False,
            length=12,
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    # The Region's own number of the organisation (« OF Mandataire CR » for a mandataire).
    code_cr: Mapped[str | None] = mapped_column(sa.String(30))

    lot: Mapped[Lot] = relationship(back_populates="organisations")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (sa.UniqueConstraint("lot_id", "organisation_id", "role", name="uq_programme_lot_organisation"),)


class ProgrammeTemplate(TimestampMixin, db.Model):
    """What the Region imposes on the offer of a programme: pre-filled values and allowed modes."""

    __tablename__ = "programme_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programme.id", ondelete="CASCADE"), unique=True)
    # Fiche Formation
    intitule: Mapped[str] = mapped_column(sa.String(255))
    objectif_general: Mapped[str] = mapped_column(sa.String(2))
    niveau_sortie: Mapped[str | None] = mapped_column(sa.String(2))
    formacodes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    formacode_principal: Mapped[str | None] = mapped_column(sa.String(5))
    # Fiche Action
    complement_programme: Mapped[str | None] = mapped_column(sa.Text)
    objectifs: Mapped[str | None] = mapped_column(sa.Text)
    resultats_attendus: Mapped[str | None] = mapped_column(sa.Text)
    niveau_entree: Mapped[str | None] = mapped_column(sa.String(2))
    prerequis: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    commentaire_prerequis: Mapped[str | None] = mapped_column(sa.Text)
    # Fiche Session: the allowed values (empty: no constraint)
    entrees_sorties: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    types_parcours: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Fiche Dispositif
    dispositif_code: Mapped[int] = mapped_column(sa.ForeignKey("dispositif.code"), index=True)
    publics: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    prise_en_charge_frais: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    programme: Mapped[Programme] = relationship(back_populates="template")
    dispositif: Mapped[Dispositif] = relationship()

    __table_args__ = (
        sa.CheckConstraint("length(intitule) BETWEEN 1 AND 255", name="intitule_length"),
        sa.CheckConstraint(
            f"complement_programme IS NULL OR length(complement_programme) <= {TEXT_LIMIT}",
            name="complement_programme_length",
        ),
        sa.CheckConstraint(f"objectifs IS NULL OR length(objectifs) <= {TEXT_LIMIT}", name="objectifs_length"),
        sa.CheckConstraint(
            f"resultats_attendus IS NULL OR length(resultats_attendus) <= {TEXT_LIMIT}",
            name="resultats_attendus_length",
        ),
        sa.CheckConstraint(
            f"commentaire_prerequis IS NULL OR length(commentaire_prerequis) <= {TEXT_LIMIT}",
            name="commentaire_prerequis_length",
        ),
    )

    @validates("intitule")
    def _validate_intitule(self, key, value):
        value = (value or "").strip()
        if not value:
            raise ModelValidationError(key, "l'intitulé de la formation est obligatoire.")
        return check_length(key, value, 255, "L'intitulé")

    @validates("objectif_general")
    def _validate_objectif(self, key, value):
        if not value:
            raise ModelValidationError(key, "l'objectif général est obligatoire.")
        return check_code(key, value, "dict-AIS", "l'objectif général")

    @validates("niveau_sortie")
    def _validate_niveau_sortie(self, key, value):
        return check_code(key, value or None, "dict-niveaux", "le niveau de sortie")

    @validates("niveau_entree")
    def _validate_niveau_entree(self, key, value):
        return check_code(key, value or None, "dict-niveaux", "le niveau d'entrée")

    @validates("formacodes")
    def _validate_formacodes(self, key, value):
        value = list(value or [])
        if len(value) > 5:
            raise ModelValidationError(key, "5 domaines de formation au plus.")
        if len(set(value)) != len(value):
            raise ModelValidationError(key, "les domaines de formation contiennent des doublons.")
        return value

    @validates("prerequis")
    def _validate_prerequis(self, key, value):
        return check_codes(key, value, "sofi-prerequis", "les pré-requis")

    @validates("entrees_sorties")
    def _validate_es(self, key, value):
        return check_codes(key, value, "dict-modalites-es", "les entrées/sorties")

    @validates("types_parcours")
    def _validate_parcours(self, key, value):
        return check_codes(key, value, "dict-type-parcours", "les types de parcours")

    @validates("publics")
    def _validate_publics(self, key, value):
        value = list(value or [])
        if len(set(value)) != len(value):
            raise ModelValidationError(key, "les publics contiennent des doublons.")
        return value

    @validates("complement_programme", "objectifs", "resultats_attendus", "commentaire_prerequis")
    def _validate_texts(self, key, value):
        return check_length(key, value or None, TEXT_LIMIT, f"Le champ « {key} »")

    def check_consistency(self) -> None:
        if self.formacode_principal and self.formacode_principal not in (self.formacodes or []):
            raise ModelValidationError("formacode_principal", "le domaine principal doit être un des domaines.")

    def __str__(self) -> str:
        return f"Modèle {self.intitule}"


class ProgrammeAction(db.Model):
    """An action created from a lot ("Formations publiques > Créer"): its lot and its mandataire."""

    __tablename__ = "programme_action"

    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    lot_id: Mapped[int] = mapped_column(sa.ForeignKey("programme_lot.id"), index=True)
    mandataire_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    # ``action.programme_link``: loaded with the action's tree (``sofi.rules.tree_options``) for the rules.
    action: Mapped[Action] = relationship(
        backref=backref("programme_link", uselist=False, cascade="all, delete-orphan", passive_deletes=True)
    )
    lot: Mapped[Lot] = relationship()
    mandataire: Mapped[Organisation] = relationship()


class RegionConsent(db.Model):
    """The Region's decision on a change of a published programme action (one submission)."""

    __tablename__ = "region_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="CASCADE"), index=True)
    agreed: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The submission it answers: a new submission asks the Region again.
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user = relationship("User")


def programme_dispositif_with_lot():
    """WHERE clause on SessionDispositif: a dispositif of the regional programme carrying a lot code."""
    return sa.and_(
        SessionDispositif.dispositif_code.in_(sa.select(Dispositif.code).where(Dispositif.programme_regional)),
        sa.func.coalesce(sa.func.trim(SessionDispositif.numero_lot_cr), "") != "",
    )


def programme_actions_clause():
    """Actions of the Region's programme: created from a lot, or carrying a programme dispositif with a lot."""
    return sa.or_(
        Action.id.in_(sa.select(ProgrammeAction.action_id)),
        Action.id.in_(
            sa.select(SessionFormation.action_id)
            .join(SessionDispositif, SessionDispositif.session_id == SessionFormation.id)
            .where(programme_dispositif_with_lot())
        ),
    )
