"""Training organisations (one row per establishment / SIRET), their sites and contacts."""

from datetime import date, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import TimestampMixin, VersionedMixin, db
from models.referentials import Certification
from models.validation import (
    ModelValidationError,
    check_code,
    check_length,
    check_nda,
    check_siret,
    check_url,
)

organisation_habilitation = sa.Table(
    "organisation_habilitation",
    db.metadata,
    sa.Column("organisation_id", sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("certification_id", sa.ForeignKey("certification.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(VersionedMixin, TimestampMixin, db.Model):
    """An establishment of a training organisation.

    Establishments that share a SIREN form one "organisme": :meth:`same_organisme` lists them
    (they are the choices offered as "organisme responsable").
    """

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_sofi: Mapped[int | None] = mapped_column(sa.Integer, unique=True)
    raison_sociale: Mapped[str] = mapped_column(sa.String(255))
    nom_usuel: Mapped[str | None] = mapped_column(sa.String(255))
    siret: Mapped[str] = mapped_column(sa.String(14), unique=True)
    siren: Mapped[str] = mapped_column(sa.String(9), index=True)
    nda: Mapped[str | None] = mapped_column(sa.String(11))
    adresse1: Mapped[str | None] = mapped_column(sa.String(255))
    adresse2: Mapped[str | None] = mapped_column(sa.String(255))
    code_postal: Mapped[str | None] = mapped_column(sa.String(5))
    commune_code: Mapped[str | None] = mapped_column(sa.ForeignKey("commune.code_insee"))
    telephone: Mapped[str | None] = mapped_column(sa.String(30))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    site_web: Mapped[str | None] = mapped_column(sa.String(400))
    active: Mapped[bool] = mapped_column(default=True)

    commune = relationship("Commune")
    sites: Mapped[list["Site"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Site.id"
    )
    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Contact.id"
    )
    conventionnements: Mapped[list["Conventionnement"]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )
    habilitations: Mapped[list[Certification]] = relationship(secondary=organisation_habilitation)

    __table_args__ = (
        sa.CheckConstraint("length(siret) = 14", name="siret_length"),
        sa.CheckConstraint("length(siren) = 9", name="siren_length"),
        sa.CheckConstraint("nda IS NULL OR length(nda) = 11", name="nda_length"),
    )

    @validates("siret")
    def _validate_siret(self, key, value):
        value = check_siret(key, value)
        if value is None:
            raise ModelValidationError(key, "le SIRET est obligatoire.")
        self.siren = value[:9]
        return value

    @validates("nda")
    def _validate_nda(self, key, value):
        return check_nda(key, value)

    @validates("raison_sociale")
    def _validate_raison_sociale(self, key, value):
        if not value or not value.strip():
            raise ModelValidationError(key, "la raison sociale est obligatoire.")
        return check_length(key, value.strip(), 255, "La raison sociale")

    @validates("site_web")
    def _validate_site_web(self, key, value):
        return check_url(key, value, "Le site web")

    def has_agreement_with(self, financeur_code: str) -> bool:
        return any(c.financeur_code == financeur_code for c in self.conventionnements)

    def same_organisme(self):
        """Query of the establishments sharing this one's SIREN (this one included)."""
        return sa.select(Organisation).where(Organisation.siren == self.siren).order_by(Organisation.siret)

    @property
    def display_name(self) -> str:
        return self.nom_usuel or self.raison_sociale

    def __str__(self) -> str:
        return f"{self.siret} - {self.code_sofi or ''} - {self.raison_sociale}"


class Conventionnement(db.Model):
    """An agreement of an organisation with a funder (Conseil régional, Agefiph…)."""

    __tablename__ = "conventionnement"

    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    financeur_code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    reference: Mapped[str | None] = mapped_column(sa.String(100))
    date_debut: Mapped[date | None]
    date_fin: Mapped[date | None]

    organisation: Mapped[Organisation] = relationship(back_populates="conventionnements")

    @validates("financeur_code")
    def _validate_financeur(self, key, value):
        return check_code(key, value, "dict-financeurs", "le financeur")


class Site(VersionedMixin, TimestampMixin, db.Model):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    nom: Mapped[str] = mapped_column(sa.String(255))
    adresse1: Mapped[str] = mapped_column(sa.String(255))
    adresse2: Mapped[str | None] = mapped_column(sa.String(255))
    code_postal: Mapped[str] = mapped_column(sa.String(5))
    commune_code: Mapped[str] = mapped_column(sa.ForeignKey("commune.code_insee"), index=True)
    siret: Mapped[str | None] = mapped_column(sa.String(14))
    uai: Mapped[str | None] = mapped_column(sa.String(8))
    accessible_pmr: Mapped[bool] = mapped_column(default=False)
    accessibilite: Mapped[str | None] = mapped_column(sa.Text)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    active: Mapped[bool] = mapped_column(default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="sites")
    commune = relationship("Commune")
    portes_ouvertes: Mapped[list["PorteOuverte"]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="PorteOuverte.date"
    )

    __table_args__ = (
        sa.CheckConstraint("length(code_postal) = 5", name="code_postal_length"),
        sa.CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        sa.CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    @validates("siret")
    def _validate_siret(self, key, value):
        return check_siret(key, value)

    @validates("code_postal")
    def _validate_code_postal(self, key, value):
        if value is None or len(value) != 5 or not value.isdigit():
            raise ModelValidationError(key, "le code postal doit comporter 5 chiffres.")
        return value

    @validates("uai")
    def _validate_uai(self, key, value):
        if value and (len(value) != 8 or not value[:7].isdigit() or not value[7].isalpha()):
            raise ModelValidationError(key, "le code UAI comporte 7 chiffres suivis d'une lettre.")
        return value.upper() if value else None

    def __str__(self) -> str:
        organisation = self.organisation
        code = organisation.code_sofi if organisation else ""
        name = organisation.raison_sociale if organisation else ""
        return f"{code} - {name} - {self.nom}"


class PorteOuverte(db.Model):
    """An open day ("portes ouvertes") at a site."""

    __tablename__ = "porte_ouverte"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="CASCADE"), index=True)
    date: Mapped[date]
    heure_debut: Mapped[time | None]
    heure_fin: Mapped[time | None]
    commentaire: Mapped[str | None] = mapped_column(sa.String(500))

    site: Mapped[Site] = relationship(back_populates="portes_ouvertes")

    __table_args__ = (
        sa.CheckConstraint("heure_fin IS NULL OR heure_debut IS NULL OR heure_fin >= heure_debut", name="hours_order"),
    )


class Contact(VersionedMixin, TimestampMixin, db.Model):
    """A person of an organisation; flags say which référent roles it may be chosen for."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    civilite: Mapped[str | None] = mapped_column(sa.String(3))
    nom: Mapped[str] = mapped_column(sa.String(100))
    prenom: Mapped[str | None] = mapped_column(sa.String(100))
    fonction: Mapped[str | None] = mapped_column(sa.String(255))
    type_contact: Mapped[str | None] = mapped_column(sa.String(2))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    telephone_fixe: Mapped[str | None] = mapped_column(sa.String(30))
    telephone_portable: Mapped[str | None] = mapped_column(sa.String(30))
    fax: Mapped[str | None] = mapped_column(sa.String(30))
    referent_pmr: Mapped[bool] = mapped_column(default=False)
    referent_mobilite: Mapped[bool] = mapped_column(default=False)
    referent_prf: Mapped[bool] = mapped_column(default=False)
    mail_liaison: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")

    @validates("civilite")
    def _validate_civilite(self, key, value):
        return check_code(key, value, "sofi-civilites", "la civilité")

    @validates("type_contact")
    def _validate_type(self, key, value):
        return check_code(key, value, "dict-type-contact", "le type de contact")

    @validates("nom")
    def _validate_nom(self, key, value):
        if not value or not value.strip():
            raise ModelValidationError(key, "le nom du contact est obligatoire.")
        return check_length(key, value.strip(), 100, "Le nom")

    @validates("email")
    def _validate_email(self, key, value):
        if value and ("@" not in value or len(value) > 255):
            raise ModelValidationError(key, "l'adresse e-mail n'est pas valide.")
        return value or None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.prenom, self.nom) if part)

    def __str__(self) -> str:
        organisation = self.organisation
        return (
            f"{self.id}, {self.full_name} - {organisation.code_sofi if organisation else ''}, "
            f"{organisation.raison_sociale if organisation else ''}, SIRET {organisation.siret if organisation else ''}"
        )
