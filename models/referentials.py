"""Reference data: Formacode, NSF, ROME, publics, dispositifs, certifications, communes.

These tables are loaded from the files shipped under ``sofi/data`` (``sofi
load-referentials``) and refreshed from the full official files by the import commands.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db


class Formacode(db.Model):
    """A Formacode descriptor; ``parent_code`` gives the generic term (the tree of the seeds)."""

    __tablename__ = "formacode"

    code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(255))
    kind: Mapped[str | None] = mapped_column(sa.String(20))
    field_code: Mapped[str | None] = mapped_column(sa.String(3))
    field_label: Mapped[str | None] = mapped_column(sa.String(255))
    parent_code: Mapped[str | None] = mapped_column(sa.String(5), index=True)
    nsf_code: Mapped[str | None] = mapped_column(sa.String(4))
    synonyms: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[str] = mapped_column(sa.String(10), default="V8")
    # Accent-free lower-case "code label synonyms", filled by the loaders, for searching.
    search_text: Mapped[str | None] = mapped_column(sa.Text)

    def __str__(self) -> str:
        return f"{self.code} - {self.label}"


class Nsf(db.Model):
    __tablename__ = "nsf"

    code: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(255))

    def __str__(self) -> str:
        return f"{self.code} - {self.label}"


class Rome(db.Model):
    __tablename__ = "rome"

    code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(255))

    def __str__(self) -> str:
        return f"{self.code} - {self.label}"


class Public(db.Model):
    """A public (demandeur d'emploi, salarié…); ``formacode_code`` is the LHÉO code-public-vise."""

    __tablename__ = "public"

    code: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(255))
    formacode_code: Mapped[str | None] = mapped_column(sa.String(5))

    def __str__(self) -> str:
        return self.label


dispositif_public = sa.Table(
    "dispositif_default_public",
    db.metadata,
    sa.Column("dispositif_code", sa.ForeignKey("dispositif.code", ondelete="CASCADE"), primary_key=True),
    sa.Column("public_code", sa.ForeignKey("public.code", ondelete="CASCADE"), primary_key=True),
)


class Dispositif(db.Model):
    """An entry of the "base Dispositif": a funding scheme a session may carry."""

    __tablename__ = "dispositif"

    code: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(sa.String(255), unique=True)
    financeur_code: Mapped[str] = mapped_column(sa.String(2))
    # The funder an organisation must have an agreement with to use this dispositif.
    conventionnement_financeur: Mapped[str | None] = mapped_column(sa.String(2))
    contrat_apprentissage: Mapped[bool] = mapped_column(default=False)
    contrat_professionnalisation: Mapped[bool] = mapped_column(default=False)
    programme_regional: Mapped[bool] = mapped_column(default=False)
    formation_initiale: Mapped[bool] = mapped_column(default=False)
    prise_en_charge_frais: Mapped[bool] = mapped_column(default=False)
    # Funder circuits (seeds/004): the funder approves the sessions of this scheme before the
    # Cariforef publishes them, or a supporting document (convention…) must come with the action.
    requires_funder_approval: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    requires_document: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True)

    default_publics: Mapped[list[Public]] = relationship(secondary=dispositif_public)

    @property
    def requires_agreement(self) -> bool:
        return self.conventionnement_financeur is not None

    def __str__(self) -> str:
        return self.label


class Commune(db.Model):
    __tablename__ = "commune"

    code_insee: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(sa.String(255), index=True)
    departement: Mapped[str] = mapped_column(sa.String(3), index=True)
    region: Mapped[str | None] = mapped_column(sa.String(3))
    kind: Mapped[str] = mapped_column(sa.String(30), default="commune-actuelle")
    chef_lieu: Mapped[str | None] = mapped_column(sa.String(5))
    population: Mapped[int | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    codes_postaux: Mapped[list["CommuneCodePostal"]] = relationship(
        back_populates="commune", cascade="all, delete-orphan", order_by="CommuneCodePostal.code_postal"
    )

    def __str__(self) -> str:
        return f"{self.nom} ({self.code_insee})"


class CommuneCodePostal(db.Model):
    __tablename__ = "commune_code_postal"

    code_insee: Mapped[str] = mapped_column(sa.ForeignKey("commune.code_insee", ondelete="CASCADE"), primary_key=True)
    code_postal: Mapped[str] = mapped_column(sa.String(5), primary_key=True, index=True)

    commune: Mapped[Commune] = relationship(back_populates="codes_postaux")


class CertifInfo(db.Model):
    """A Certif Info entry (what the organisation picks in "Recherche certifinfo")."""

    __tablename__ = "certifinfo"

    code: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    intitule: Mapped[str] = mapped_column(sa.String(500))
    type_libelle: Mapped[str | None] = mapped_column(sa.String(255))
    niveau_europeen: Mapped[str | None] = mapped_column(sa.String(2))
    formacode_code: Mapped[str | None] = mapped_column(sa.String(5))
    formacode_label: Mapped[str | None] = mapped_column(sa.String(255))
    nsf_code: Mapped[str | None] = mapped_column(sa.String(4))
    rome_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rncp_code: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    rs_code: Mapped[str | None] = mapped_column(sa.String(12), index=True)
    certificateur: Mapped[str | None] = mapped_column(sa.String(500))
    etat: Mapped[str | None] = mapped_column(sa.String(50))
    updated_on: Mapped[date | None]
    # Accent-free lower-case "code intitulé RNCP certificateur", filled by the importer, for searching.
    search_text: Mapped[str | None] = mapped_column(sa.Text)

    @property
    def fiche_numero(self) -> str | None:
        """The RNCP/RS fiche number (``RNCP35030``) this entry refers to."""
        if self.rncp_code:
            return f"RNCP{self.rncp_code}"
        if self.rs_code:
            return f"RS{self.rs_code}"
        return None

    def __str__(self) -> str:
        return f"{self.code} - {self.intitule}"


certification_formacode = sa.Table(
    "certification_formacode",
    db.metadata,
    sa.Column("certification_id", sa.ForeignKey("certification.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("formacode_code", sa.String(5), primary_key=True),
)


class Certification(TimestampMixin, db.Model):
    """A fiche of the RNCP or of the Répertoire spécifique (France compétences)."""

    __tablename__ = "certification"

    id: Mapped[int] = mapped_column(primary_key=True)
    numero_fiche: Mapped[str] = mapped_column(sa.String(12), unique=True)
    intitule: Mapped[str] = mapped_column(sa.String(500))
    type_code: Mapped[str | None] = mapped_column(sa.String(30))
    type_libelle: Mapped[str | None] = mapped_column(sa.String(255))
    niveau_europeen: Mapped[str | None] = mapped_column(sa.String(2))
    date_fin_enregistrement: Mapped[date | None]
    actif: Mapped[bool] = mapped_column(default=True)
    etat_fiche: Mapped[str | None] = mapped_column(sa.String(60))
    objectifs: Mapped[str | None] = mapped_column(sa.Text)
    activites_visees: Mapped[str | None] = mapped_column(sa.Text)
    capacites_attestees: Mapped[str | None] = mapped_column(sa.Text)
    prerequis: Mapped[str | None] = mapped_column(sa.Text)
    nsf_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rome_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    formacode_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    blocs: Mapped[list["BlocCompetences"]] = relationship(
        back_populates="certification", cascade="all, delete-orphan", order_by="BlocCompetences.code"
    )
    certificateurs: Mapped[list["Certificateur"]] = relationship(
        back_populates="certification", cascade="all, delete-orphan"
    )

    @property
    def repertoire(self) -> str:
        return "RS" if self.numero_fiche.startswith("RS") else "RNCP"

    def __str__(self) -> str:
        return f"{self.numero_fiche} - {self.intitule}"


class BlocCompetences(db.Model):
    __tablename__ = "bloc_competences"

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed by uq_bloc_code (certification_id, code)
    certification_id: Mapped[int] = mapped_column(sa.ForeignKey("certification.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(30))
    libelle: Mapped[str] = mapped_column(sa.Text)
    competences: Mapped[str | None] = mapped_column(sa.Text)
    modalites_evaluation: Mapped[str | None] = mapped_column(sa.Text)

    certification: Mapped[Certification] = relationship(back_populates="blocs")

    __table_args__ = (sa.UniqueConstraint("certification_id", "code", name="uq_bloc_code"),)

    def __str__(self) -> str:
        return f"{self.code} - {self.libelle}"


class Certificateur(db.Model):
    __tablename__ = "certificateur"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(sa.ForeignKey("certification.id", ondelete="CASCADE"), index=True)
    siret: Mapped[str | None] = mapped_column(sa.String(14))
    nom: Mapped[str] = mapped_column(sa.String(500))

    certification: Mapped[Certification] = relationship(back_populates="certificateurs")
