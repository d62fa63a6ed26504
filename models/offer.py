"""The training offer: Formation → Action → Session → Dispositif (FASD).

Mandatory marks of the seeds that a draft may still lack are NOT NULL only where the
record cannot exist without them (a session without dates, a dispositif without places);
the completeness of a draft is checked by ``sofi.rules`` when it is sent for validation.
Limits and value lists are enforced here, on every write.
"""

import enum
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from models.base import TimestampMixin, VersionedMixin, db, utcnow
from models.organisations import Contact, Organisation, Site
from models.referentials import (
    BlocCompetences,
    Certification,
    CertifInfo,
    Dispositif,
    Formacode,
    Public,
)
from models.validation import (
    ModelValidationError,
    check_code,
    check_codes,
    check_length,
    check_min,
    check_url,
)

TEXT_LIMIT = 3000
MAX_FORMACODES = 5


class ActionStatus(enum.StrEnum):
    """Workflow states of an action (what the dashboards of the seeds count)."""

    EN_COURS_DE_SAISIE = "en_cours_de_saisie"
    EN_ATTENTE_VALIDATION = "en_attente_validation"
    EN_ATTENTE_REPONSES = "en_attente_reponses"
    PUBLIEE = "publiee"
    REFUSEE = "refusee"
    ARCHIVEE = "archivee"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ActionStatus.EN_COURS_DE_SAISIE: "En cours de saisie",
    ActionStatus.EN_ATTENTE_VALIDATION: "En attente de validation",
    ActionStatus.EN_ATTENTE_REPONSES: "En attente de réponses",
    ActionStatus.PUBLIEE: "Publiée",
    ActionStatus.REFUSEE: "Refusée",
    ActionStatus.ARCHIVEE: "Archivée",
}


def _length_check(column: str, limit: int) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IS NULL OR length({column}) <= {limit}", name=f"{column}_length")


class FormationFormacode(db.Model):
    """A Formacode domain of a formation, in the order the organisation gave them."""

    __tablename__ = "formation_formacode"

    formation_id: Mapped[int] = mapped_column(sa.ForeignKey("formation.id", ondelete="CASCADE"), primary_key=True)
    formacode_code: Mapped[str] = mapped_column(sa.ForeignKey("formacode.code"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)

    formacode: Mapped[Formacode] = relationship()


formation_bloc = sa.Table(
    "formation_bloc",
    db.metadata,
    sa.Column("formation_id", sa.ForeignKey("formation.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("bloc_id", sa.ForeignKey("bloc_competences.id", ondelete="CASCADE"), primary_key=True),
)


class Formation(VersionedMixin, TimestampMixin, db.Model):
    __tablename__ = "formation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    certifiante: Mapped[bool] = mapped_column(default=False)
    certifinfo_code: Mapped[int | None] = mapped_column(sa.ForeignKey("certifinfo.code"), index=True)
    certification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certification.id"), index=True)
    intitule: Mapped[str] = mapped_column(sa.String(255))
    objectif_general: Mapped[str] = mapped_column(sa.String(2))
    type_certification: Mapped[str | None] = mapped_column(sa.String(255))
    niveau_sortie: Mapped[str | None] = mapped_column(sa.String(2))
    formacode_principal: Mapped[str | None] = mapped_column(sa.ForeignKey("formacode.code"))
    nsf_code: Mapped[str | None] = mapped_column(sa.String(4))
    rome_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    individualisation_blocs: Mapped[bool] = mapped_column(default=False)
    validation_blocs: Mapped[str | None] = mapped_column(sa.String(1))
    objectifs: Mapped[str | None] = mapped_column(sa.Text)
    programme: Mapped[str | None] = mapped_column(sa.Text)
    resultats: Mapped[str | None] = mapped_column(sa.Text)
    # Identifier of the formation in the LHÉO flow it was imported from (re-imports update it).
    numero_lheo: Mapped[str | None] = mapped_column(sa.String(100), index=True)

    organisation: Mapped[Organisation] = relationship()
    certifinfo: Mapped[CertifInfo | None] = relationship()
    certification: Mapped[Certification | None] = relationship()
    domaines: Mapped[list[FormationFormacode]] = relationship(
        cascade="all, delete-orphan", order_by=FormationFormacode.position
    )
    blocs: Mapped[list[BlocCompetences]] = relationship(secondary=formation_bloc, order_by=BlocCompetences.code)
    actions: Mapped[list["Action"]] = relationship(
        back_populates="formation", cascade="all, delete-orphan", order_by="Action.id"
    )

    __table_args__ = (
        sa.CheckConstraint("length(intitule) BETWEEN 1 AND 255", name="intitule_length"),
        _length_check("objectifs", TEXT_LIMIT),
        _length_check("programme", TEXT_LIMIT),
        _length_check("resultats", TEXT_LIMIT),
        sa.CheckConstraint(
            "certifiante = false OR certifinfo_code IS NOT NULL OR certification_id IS NOT NULL",
            name="certifying_has_certification",
        ),
        {"sqlite_autoincrement": True},
    )

    @validates("intitule")
    def _validate_intitule(self, key, value):
        if not value or not value.strip():
            raise ModelValidationError(key, "l'intitulé de la formation est obligatoire.")
        return check_length(key, value.strip(), 255, "L'intitulé")

    @validates("objectif_general")
    def _validate_objectif_general(self, key, value):
        if not value:
            raise ModelValidationError(key, "l'objectif général est obligatoire.")
        return check_code(key, value, "dict-AIS", "l'objectif général")

    @validates("niveau_sortie")
    def _validate_niveau(self, key, value):
        return check_code(key, value, "dict-niveaux", "le niveau de sortie")

    @validates("validation_blocs")
    def _validate_validation_blocs(self, key, value):
        return check_code(key, value, "dict-type-validation-blocs", "la validation de la formation")

    @validates("objectifs", "programme", "resultats")
    def _validate_texts(self, key, value):
        return check_length(key, value, TEXT_LIMIT, f"Le champ « {key} »")

    @validates("rome_codes")
    def _validate_rome(self, key, value):
        value = list(value or [])
        if len(value) > 5:
            raise ModelValidationError(key, "5 codes ROME au plus.")
        return value

    @validates("domaines")
    def _validate_domaines(self, key, domaine):
        if len(self.domaines) >= MAX_FORMACODES:
            raise ModelValidationError(key, f"{MAX_FORMACODES} domaines de formation au plus.")
        return domaine

    @property
    def formacode_codes(self) -> list[str]:
        return [d.formacode_code for d in self.domaines]

    def set_formacodes(self, codes: list[str], principal: str | None = None) -> None:
        """Replace the Formacode domains; the principal defaults to the first one."""
        self.check_formacodes(codes, principal)
        self.domaines = [FormationFormacode(formacode_code=c, position=i) for i, c in enumerate(codes)]
        self.formacode_principal = principal or (codes[0] if codes else None)

    @staticmethod
    def check_formacodes(codes: list[str], principal: str | None) -> None:
        """The rules of a formation's domains (``set_formacodes``; the import's new formations, written
        without ORM objects, check theirs here too)."""
        if len(codes) > MAX_FORMACODES:
            raise ModelValidationError("domaines", f"{MAX_FORMACODES} domaines de formation au plus.")
        if principal is not None and principal not in codes:
            raise ModelValidationError("formacode_principal", "le domaine principal doit être un des domaines.")

    def __str__(self) -> str:
        return self.intitule


class Action(VersionedMixin, TimestampMixin, db.Model):
    __tablename__ = "action"

    # The action's own description, in the order of the published snapshot: the snapshot, the
    # generator, the write API and the back-office form read this list.
    DESCRIPTION_FIELDS = (
        "complement_intitule",
        "complement_programme",
        "objectifs",
        "resultats_attendus",
        "plus_formation",
        "url_video",
        "url_pdf",
        "url_action",
        "equipement_type",
        "equipement_cout",
        "equipement_commentaire",
        "niveau_entree",
        "prerequis",
        "commentaire_prerequis",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    formation_id: Mapped[int] = mapped_column(sa.ForeignKey("formation.id", ondelete="CASCADE"), index=True)
    # indexed by ix_action_organisation_status (organisation_id, status)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    complement_intitule: Mapped[str | None] = mapped_column(sa.String(255))
    complement_programme: Mapped[str | None] = mapped_column(sa.Text)
    objectifs: Mapped[str | None] = mapped_column(sa.Text)
    resultats_attendus: Mapped[str | None] = mapped_column(sa.Text)
    plus_formation: Mapped[str | None] = mapped_column(sa.String(250))
    url_video: Mapped[str | None] = mapped_column(sa.String(400))
    url_pdf: Mapped[str | None] = mapped_column(sa.String(400))
    url_action: Mapped[str | None] = mapped_column(sa.String(400))
    equipement_type: Mapped[str | None] = mapped_column(sa.String(2))
    equipement_cout: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    equipement_commentaire: Mapped[str | None] = mapped_column(sa.Text)
    niveau_entree: Mapped[str] = mapped_column(sa.String(2), default="1")
    prerequis: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    commentaire_prerequis: Mapped[str | None] = mapped_column(sa.Text)
    # indexed by ix_action_status_submitted_at_id (status, submitted_at, id)
    status: Mapped[ActionStatus] = mapped_column(
        sa.Enum(
            ActionStatus,
            name="action_status",
            native_enum=False,
            length=30,
            values_callable=lambda states: [s.value for s in states],
        ),
        default=ActionStatus.EN_COURS_DE_SAISIE,
    )
    status_changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), index=True)
    archived_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    certifinfo_replaced: Mapped[bool] = mapped_column(default=False)
    # Identifier of the action in the LHÉO flow it was imported from (re-imports update it).
    numero_lheo: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    # The Certif Info code the organisation had chosen, when a validator replaced it.
    certifinfo_code_initial: Mapped[int | None]

    formation: Mapped[Formation] = relationship(back_populates="actions")
    organisation: Mapped[Organisation] = relationship()
    site: Mapped[Site] = relationship()
    sessions: Mapped[list["SessionFormation"]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="SessionFormation.id"
    )

    __table_args__ = (
        _length_check("complement_programme", TEXT_LIMIT),
        _length_check("objectifs", TEXT_LIMIT),
        _length_check("resultats_attendus", TEXT_LIMIT),
        _length_check("plus_formation", 250),
        sa.CheckConstraint("equipement_cout IS NULL OR equipement_cout >= 0", name="equipement_cout_positive"),
        sa.Index("ix_action_organisation_status", "organisation_id", "status"),
        # The validation queue: one state, oldest first, keyset pages (admin_views/keyset.py).
        sa.Index("ix_action_status_submitted_at_id", "status", "submitted_at", "id"),
        {"sqlite_autoincrement": True},
    )

    @validates("complement_programme", "objectifs", "resultats_attendus")
    def _validate_texts(self, key, value):
        return check_length(key, value or None, TEXT_LIMIT, LABELS[key])

    @validates("plus_formation")
    def _validate_plus(self, key, value):
        return check_length(key, value or None, 250, LABELS[key])

    @validates("complement_intitule")
    def _validate_complement(self, key, value):
        return check_length(key, value or None, 255, LABELS[key])

    @validates("url_video", "url_pdf", "url_action")
    def _validate_urls(self, key, value):
        return check_url(key, value, LABELS[key])

    @validates("equipement_type")
    def _validate_equipement(self, key, value):
        return check_code(key, value, "dict-type-equipement", "le type d'équipement")

    @validates("equipement_cout")
    def _validate_cout(self, key, value):
        return check_min(key, value, 0, "Le coût indicatif")

    @validates("niveau_entree")
    def _validate_niveau(self, key, value):
        if not value:
            raise ModelValidationError(key, "le niveau d'entrée est obligatoire.")
        return check_code(key, value, "dict-niveaux", "le niveau d'entrée")

    @validates("prerequis")
    def _validate_prerequis(self, key, value):
        return check_codes(key, value, "sofi-prerequis", "les pré-requis")

    @property
    def intitule(self) -> str:
        base = self.formation.intitule if self.formation else ""
        return f"{base} - {self.complement_intitule}" if self.complement_intitule else base

    def __str__(self) -> str:
        return f"{self.id} - {self.intitule}"


class SessionFormation(VersionedMixin, TimestampMixin, db.Model):
    """A session: place and dates of an action. Named so as not to collide with DB sessions."""

    __tablename__ = "session_formation"

    # The session's own values (dates, rhythm, durations, recruitment), in the order of the published
    # snapshot: the snapshot, the generator, the write API and the session form read this list.
    DESCRIPTION_FIELDS = (
        "date_debut",
        "date_fin",
        "entrees_sorties",
        "rythmes",
        "periodes",
        "type_parcours",
        "modalites_pedagogiques",
        "modalite_enseignement",
        "duree_centre",
        "duree_entreprise",
        "duree_hebdo",
        "commentaire_duree",
        "cycle_unite",
        "cycle_unites_entreprise",
        "cycle_unites_centre",
        "etat_recrutement",
        "modalites_recrutement",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    # indexed with the id that breaks their ties (ix_session_formation_date_debut_id, _date_fin_id)
    date_debut: Mapped[date]
    date_fin: Mapped[date]
    entrees_sorties: Mapped[str] = mapped_column(sa.String(1), default="0")
    rythmes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    periodes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    type_parcours: Mapped[str | None] = mapped_column(sa.String(1))
    modalites_pedagogiques: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    modalite_enseignement: Mapped[str] = mapped_column(sa.String(1), default="0")
    duree_centre: Mapped[int | None]
    duree_entreprise: Mapped[int | None]
    duree_hebdo: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    commentaire_duree: Mapped[str | None] = mapped_column(sa.Text)
    cycle_unite: Mapped[str | None] = mapped_column(sa.String(1))
    cycle_unites_entreprise: Mapped[int | None]
    cycle_unites_centre: Mapped[int | None]
    organisme_responsable_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    etat_recrutement: Mapped[str] = mapped_column(sa.String(1), default="1")
    modalites_recrutement: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    referent_pmr_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    referent_prf_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    mail_liaison_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    referent_mobilite_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contact.id", ondelete="SET NULL"))
    # Identifier of the session in the LHÉO flow it was imported from (re-imports update it).
    numero_lheo: Mapped[str | None] = mapped_column(sa.String(100), index=True)

    action: Mapped[Action] = relationship(back_populates="sessions")
    site: Mapped[Site] = relationship()
    organisme_responsable: Mapped[Organisation] = relationship()
    referent_pmr: Mapped[Contact | None] = relationship(foreign_keys=[referent_pmr_id])
    referent_prf: Mapped[Contact | None] = relationship(foreign_keys=[referent_prf_id])
    mail_liaison: Mapped[Contact | None] = relationship(foreign_keys=[mail_liaison_id])
    referent_mobilite: Mapped[Contact | None] = relationship(foreign_keys=[referent_mobilite_id])
    informations_collectives: Mapped[list["InformationCollective"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="InformationCollective.date"
    )
    periodes_inscription: Mapped[list["PeriodeInscription"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="PeriodeInscription.date_debut"
    )
    dispositifs: Mapped[list["SessionDispositif"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionDispositif.id"
    )

    __table_args__ = (
        sa.CheckConstraint("date_fin >= date_debut", name="dates_order"),
        sa.CheckConstraint("duree_centre IS NULL OR duree_centre >= 0", name="duree_centre_positive"),
        sa.CheckConstraint("duree_entreprise IS NULL OR duree_entreprise >= 0", name="duree_entreprise_positive"),
        sa.CheckConstraint("duree_hebdo IS NULL OR duree_hebdo >= 0", name="duree_hebdo_positive"),
        sa.CheckConstraint(
            "cycle_unites_entreprise IS NULL OR cycle_unites_entreprise >= 0", name="cycle_entreprise_positive"
        ),
        sa.CheckConstraint("cycle_unites_centre IS NULL OR cycle_unites_centre >= 0", name="cycle_centre_positive"),
        # The session lists' sorts with their id tie-break, read page by page (admin_views/keyset.py).
        sa.Index("ix_session_formation_date_debut_id", "date_debut", "id"),
        sa.Index("ix_session_formation_date_fin_id", "date_fin", "id"),
        {"sqlite_autoincrement": True},
    )

    @validates("entrees_sorties")
    def _validate_es(self, key, value):
        return check_code(key, value, "dict-modalites-es", "les entrées/sorties") or "0"

    @validates("rythmes")
    def _validate_rythmes(self, key, value):
        return check_codes(key, value, "sofi-rythmes", "les rythmes")

    @validates("periodes")
    def _validate_periodes(self, key, value):
        return check_codes(key, value, "sofi-periodes-formation", "les périodes de formation")

    @validates("type_parcours")
    def _validate_parcours(self, key, value):
        return check_code(key, value, "dict-type-parcours", "le type de parcours")

    @validates("modalites_pedagogiques")
    def _validate_modalites(self, key, value):
        return check_codes(key, value, "sofi-modalites-pedagogiques", "les modalités pédagogiques")

    @validates("modalite_enseignement")
    def _validate_enseignement(self, key, value):
        return check_code(key, value, "dict-modalites-enseignement", "les modalités d'enseignement") or "0"

    @validates("cycle_unite")
    def _validate_cycle(self, key, value):
        return check_code(key, value, "dict-unite-rythme", "l'unité du cycle de l'alternance")

    @validates("etat_recrutement")
    def _validate_etat(self, key, value):
        return check_code(key, value, "dict-etat-recrutement", "l'état du recrutement") or "1"

    @validates("modalites_recrutement")
    def _validate_recrutement(self, key, value):
        return check_codes(key, value, "dict-modalite-recrutement", "les modalités de recrutement")

    @validates("duree_centre", "duree_entreprise", "duree_hebdo", "cycle_unites_entreprise", "cycle_unites_centre")
    def _validate_durations(self, key, value):
        return check_min(key, value, 0, LABELS[key])

    @validates("commentaire_duree")
    def _validate_commentaire(self, key, value):
        return check_length(key, value or None, TEXT_LIMIT, LABELS[key])

    def check_consistency(self) -> None:
        if self.date_debut and self.date_fin and self.date_fin < self.date_debut:
            raise ModelValidationError("date_fin", "la date de fin doit être postérieure ou égale à la date de début.")

    @property
    def fas_code(self) -> str:
        """The FAS code ``F-A-S`` of the seeds, e.g. ``19482-89393-143842``."""
        return f"{self.action.formation_id}-{self.action_id}-{self.id}"

    def is_active(self, today: date) -> bool:
        return self.date_fin >= today

    def __str__(self) -> str:
        return self.fas_code if self.id else "Nouvelle session"


class InformationCollective(db.Model):
    __tablename__ = "information_collective"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("session_formation.id", ondelete="CASCADE"), index=True)
    date: Mapped[date]
    heure_debut: Mapped[time | None]
    heure_fin: Mapped[time | None]
    lieu: Mapped[str] = mapped_column(sa.String(255))
    commentaire: Mapped[str | None] = mapped_column(sa.String(500))

    session: Mapped[SessionFormation] = relationship(back_populates="informations_collectives")

    __table_args__ = (
        sa.CheckConstraint("heure_fin IS NULL OR heure_debut IS NULL OR heure_fin >= heure_debut", name="hours_order"),
    )

    def check_consistency(self) -> None:
        if self.heure_debut and self.heure_fin and self.heure_fin < self.heure_debut:
            raise ModelValidationError("heure_fin", "l'heure de fin doit suivre l'heure de début.")


class PeriodeInscription(db.Model):
    __tablename__ = "periode_inscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("session_formation.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    date_debut: Mapped[date]
    date_fin: Mapped[date | None]

    session: Mapped[SessionFormation] = relationship(back_populates="periodes_inscription")

    __table_args__ = (sa.CheckConstraint("date_fin IS NULL OR date_fin >= date_debut", name="dates_order"),)

    @validates("type")
    def _validate_type(self, key, value):
        if not value:
            raise ModelValidationError(key, "le type de période d'inscription est obligatoire.")
        return check_code(key, value, "sofi-types-periode-inscription", "le type de période d'inscription")

    def check_consistency(self) -> None:
        if self.date_debut and self.date_fin and self.date_fin < self.date_debut:
            raise ModelValidationError("date_fin", "la date de fin doit être postérieure ou égale à la date de début.")


session_dispositif_public = sa.Table(
    "session_dispositif_public",
    db.metadata,
    sa.Column("session_dispositif_id", sa.ForeignKey("session_dispositif.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("public_code", sa.ForeignKey("public.code"), primary_key=True, index=True),
)


class SessionDispositif(VersionedMixin, TimestampMixin, db.Model):
    """A dispositif (funding scheme with its publics) carried by a session: the D of FASD."""

    __tablename__ = "session_dispositif"

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed by uq_session_dispositif (session_id, dispositif_code)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("session_formation.id", ondelete="CASCADE"))
    dispositif_code: Mapped[int] = mapped_column(sa.ForeignKey("dispositif.code"), index=True)
    numero_lot_cr: Mapped[str | None] = mapped_column(sa.String(30))
    id_action_cr: Mapped[str | None] = mapped_column(sa.String(30))
    of_mandataire_cr: Mapped[str | None] = mapped_column(sa.String(30))
    reference_marche: Mapped[str | None] = mapped_column(sa.String(255))
    nb_places: Mapped[int]
    nb_places_restantes: Mapped[int | None]
    effectif_minimal: Mapped[int | None]
    capacite_simultanee: Mapped[int | None]
    annee_cycle: Mapped[int | None]
    frais_ht: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    taux_tva: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    frais_ttc: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    frais_additionnels_montant: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    frais_additionnels_details: Mapped[str | None] = mapped_column(sa.Text)
    frais_certification: Mapped[bool] = mapped_column(default=False)
    prise_en_charge_frais: Mapped[bool] = mapped_column(default=False)

    # The terms the session is offered on under this dispositif, in the order of the published snapshot:
    # the snapshot, the generator, the write API, the LHÉO fragment and the back-office form all read this list.
    TERM_FIELDS = (
        "numero_lot_cr",
        "id_action_cr",
        "of_mandataire_cr",
        "reference_marche",
        "nb_places",
        "nb_places_restantes",
        "effectif_minimal",
        "capacite_simultanee",
        "annee_cycle",
        "frais_ht",
        "taux_tva",
        "frais_ttc",
        "frais_additionnels_montant",
        "frais_additionnels_details",
        "frais_certification",
        "prise_en_charge_frais",
    )
    # Terms copied from the regional programme lot: the back-office form shows them but does not edit them.
    LOT_FIELDS = ("numero_lot_cr", "id_action_cr", "of_mandataire_cr")
    # Yes/no terms (radio buttons on the back-office form).
    FLAG_FIELDS = ("frais_certification", "prise_en_charge_frais")

    session: Mapped[SessionFormation] = relationship(back_populates="dispositifs")
    dispositif: Mapped[Dispositif] = relationship()
    publics: Mapped[list[Public]] = relationship(secondary=session_dispositif_public, order_by=Public.label)

    __table_args__ = (
        sa.UniqueConstraint("session_id", "dispositif_code", name="uq_session_dispositif"),
        sa.CheckConstraint("nb_places >= 1", name="nb_places_min"),
        sa.CheckConstraint(
            "nb_places_restantes IS NULL OR (nb_places_restantes >= 0 AND nb_places_restantes <= nb_places)",
            name="nb_places_restantes_range",
        ),
        sa.CheckConstraint("effectif_minimal IS NULL OR effectif_minimal >= 1", name="effectif_minimal_min"),
        sa.CheckConstraint("capacite_simultanee IS NULL OR capacite_simultanee >= 1", name="capacite_min"),
        sa.CheckConstraint("annee_cycle IS NULL OR annee_cycle >= 1", name="annee_cycle_min"),
        sa.CheckConstraint("frais_ht IS NULL OR frais_ht >= 0", name="frais_ht_positive"),
        sa.CheckConstraint("frais_ttc IS NULL OR frais_ttc >= 0", name="frais_ttc_positive"),
        sa.CheckConstraint("taux_tva IS NULL OR (taux_tva >= 0 AND taux_tva <= 100)", name="taux_tva_range"),
        sa.CheckConstraint(
            "frais_additionnels_montant IS NULL OR frais_additionnels_montant >= 0", name="frais_additionnels_positive"
        ),
    )

    @validates("nb_places")
    def _validate_nb_places(self, key, value):
        if value is None:
            raise ModelValidationError(key, "le nombre de places du dispositif est obligatoire (minimum 1).")
        return check_min(key, value, 1, LABELS[key])

    @validates("nb_places_restantes", "frais_ht", "frais_ttc", "frais_additionnels_montant", "taux_tva")
    def _validate_non_negative(self, key, value):
        return check_min(key, value, 0, LABELS[key])

    @validates("effectif_minimal", "capacite_simultanee", "annee_cycle")
    def _validate_positive(self, key, value):
        return check_min(key, value, 1, LABELS[key])

    def check_consistency(self) -> None:
        restantes, places = self.nb_places_restantes, self.nb_places
        if restantes is not None and places is not None and restantes > places:
            raise ModelValidationError(
                "nb_places_restantes", "le nombre de places restantes ne peut dépasser le nombre de places."
            )
        if self.taux_tva is not None and self.taux_tva > 100:
            raise ModelValidationError("taux_tva", "le taux de TVA est un pourcentage (0 à 100).")

    def __str__(self) -> str:
        return self.dispositif.label if self.dispositif else "Nouveau dispositif"


LABELS = {
    "complement_intitule": "Le complément d'intitulé",
    "complement_programme": "Le complément programme",
    "objectifs": "Les objectifs",
    "resultats_attendus": "Les résultats attendus",
    "plus_formation": "Le « plus » formation",
    "url_video": "L'URL vidéo",
    "url_pdf": "L'URL PDF",
    "url_action": "L'URL action",
    "duree_centre": "La durée en centre",
    "duree_entreprise": "La durée en entreprise",
    "duree_hebdo": "La durée hebdomadaire",
    "cycle_unites_entreprise": "L'unité entreprise",
    "cycle_unites_centre": "L'unité centre",
    "commentaire_duree": "Le commentaire durée",
    "nb_places": "Le nombre de places du dispositif",
    "nb_places_restantes": "Le nombre de places restantes",
    "effectif_minimal": "L'effectif minimal",
    "capacite_simultanee": "La capacité simultanée",
    "annee_cycle": "L'année du cycle",
    "frais_ht": "Les frais HT",
    "frais_ttc": "Les frais TTC",
    "taux_tva": "Le taux de TVA",
    "frais_additionnels_montant": "Le montant des frais additionnels",
}
