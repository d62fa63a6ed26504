"""WTForms of the guided F-A-S-D entry, field for field as in the seed procedures.

Labels, value lists, `*` marks and limits come from the seeds (``seeds/000_…``). Fields
marked with :class:`Mandatory` are checked when the action is sent for validation; only what
a record cannot exist without is required to save a draft.
"""

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import URL, ValidationError

from admin_views.fields import (
    REQUIRED,
    Mandatory,
    MultiCheckboxField,
    NotBefore,
    RichTextField,
    at_least,
    choice_list,
    code_choices,
    counter,
    limited,
    optional,
    percentage,
    required,
)

YES_NO = choice_list([("1", "Oui"), ("0", "Non")])
TEXT = 3000


def _url(label: str):
    return [optional(), limited(400), URL(require_tld=False, message=f"{label} : adresse web invalide (https://…).")]


class VersionedForm(FlaskForm):
    """Carries the version of the record it was read at, to refuse overwriting a newer save."""

    version = HiddenField()


class CertifyingFormationForm(VersionedForm):
    """Formation with a Certif Info reference: texts come from the certification (read-only)."""

    certifinfo_code = HiddenField(validators=[required()])
    individualisation_blocs = RadioField(
        "Souhaitez-vous individualiser le parcours par bloc de compétences",
        choices=YES_NO,
        default="0",
        validators=[required()],
    )
    validation_blocs = RadioField(
        "Validation de la formation",
        choices=choice_list([("0", "Partielle"), ("1", "Totale")]),
        default="1",
        validators=[required()],
    )
    blocs = MultiCheckboxField("Blocs de compétences", choices=[])

    def validate_blocs(self, field):
        if self.validation_blocs.data == "0" and not field.data:
            raise ValidationError("Validation partielle : cochez au moins un bloc de compétences.")
        if self.validation_blocs.data == "0" and field.choices and len(field.data) == len(field.choices):
            raise ValidationError("Tous les blocs sont cochés : choisissez « Totale ».")


class NonCertifyingFormationForm(VersionedForm):
    intitule = StringField("Intitulé", validators=[required(), limited(255)], render_kw=counter(255))
    objectif_general = SelectField(
        "Objectif général", choices=code_choices("dict-AIS", exclude=("1", "3"), blank=""), validators=[required()]
    )
    niveau_sortie = SelectField("Niveau de sortie", choices=code_choices("dict-niveaux", blank=""), default="")
    formacodes = MultiCheckboxField("Domaine formation", choices=[], validators=[Mandatory()])
    formacode_principal = SelectField("Domaine principal", choices=[], validators=[Mandatory()])
    formacode_query = StringField("Intitulé/code du formacode")

    def validate_formacodes(self, field):
        if len(field.data) > 5:
            raise ValidationError("5 domaines de formation au plus.")

    def validate_formacode_principal(self, field):
        if field.data and field.data not in self.formacodes.data:
            raise ValidationError("Le domaine principal doit être l'un des domaines cochés.")


class ActionForm(VersionedForm):
    site_id = SelectField("Site dispensateur", coerce=int, validators=[required()])
    complement_intitule = StringField(
        "Complément intitulé",
        validators=[optional(), limited(255)],
        description="À remplir uniquement si l'intitulé de la Fiche Formation n'est pas suffisant. "
        "Ex : option ou spécialité.",
        render_kw=counter(255),
    )
    complement_programme = RichTextField(
        "Complément programme",
        validators=[limited(TEXT)],
        description="Informations complémentaires liées au programme et qui ne seraient pas visibles "
        "sur la fiche Formation.",
        render_kw=counter(TEXT),
    )
    objectifs = RichTextField(
        "Objectifs",
        validators=[limited(TEXT)],
        description="Ne pas insérer de tableaux, caractères spéciaux, images, documents PDF… "
        "À remplir uniquement si les objectifs et programme de la Fiche Formation ne sont pas suffisants.",
        render_kw=counter(TEXT),
    )
    resultats_attendus = RichTextField("Résultats attendus", validators=[limited(TEXT)], render_kw=counter(TEXT))
    plus_formation = RichTextField(
        "Mon + formation",
        validators=[limited(250)],
        description="À compléter pour mettre en avant les points forts de votre offre de formation.",
        render_kw=counter(250),
    )
    url_video = StringField("URL Vidéo", validators=_url("URL vidéo"), description="YouTube ou format MP4.")
    url_pdf = StringField("URL PDF", validators=_url("URL PDF"), description="Une plaquette d'information.")
    url_action = StringField(
        "URL Action",
        validators=_url("URL action"),
        description="La page de votre site Internet qui décrit cette action.",
    )
    equipement_type = SelectField(
        "Type d'équipement", choices=code_choices("dict-type-equipement", blank=""), default=""
    )
    equipement_cout = DecimalField("Coût indicatif (€)", places=2, validators=[optional(), at_least(0, "Le coût")])
    equipement_commentaire = RichTextField(
        "Commentaire équipement", validators=[limited(TEXT)], render_kw=counter(TEXT)
    )
    niveau_entree = SelectField(
        "Niveau d'entrée", choices=code_choices("dict-niveaux"), default="1", validators=[required()]
    )
    prerequis = MultiCheckboxField("Pré-requis", choices=code_choices("sofi-prerequis"))
    commentaire_prerequis = RichTextField("Commentaire pré-requis", validators=[limited(TEXT)], render_kw=counter(TEXT))


class InformationCollectiveForm(Form):
    date = DateField("Date", validators=[optional()])
    heure_debut = TimeField("Heure de début", validators=[optional()])
    heure_fin = TimeField(
        "Heure de fin",
        validators=[optional(), NotBefore("heure_debut", "L'heure de fin doit suivre l'heure de début.")],
    )
    lieu = StringField("Lieu", validators=[limited(255)])
    commentaire = StringField("Commentaire", validators=[limited(500)])

    def validate_lieu(self, field):
        if self.date.data and not (field.data or "").strip():
            raise ValidationError("Indiquez le lieu de l'information collective.")

    def validate_date(self, field):
        if not field.data and ((self.lieu.data or "").strip() or self.commentaire.data):
            raise ValidationError("Indiquez la date de l'information collective.")


class PeriodeInscriptionForm(Form):
    type = SelectField("Type", choices=code_choices("sofi-types-periode-inscription", blank=""), default="")
    date_debut = DateField("Date début", validators=[optional()])
    date_fin = DateField(
        "Date fin", validators=[optional(), NotBefore("date_debut", "La date de fin doit suivre la date de début.")]
    )

    def validate_date_debut(self, field):
        if self.type.data and not field.data:
            raise ValidationError("Indiquez la date de début de la période.")
        if field.data and not self.type.data:
            raise ValidationError("Choisissez le type de la période d'inscription.")


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class SessionForm(VersionedForm):
    site_id = SelectField("Site lieu", coerce=int, validators=[required()])
    date_debut = DateField("Date début", validators=[required()])
    date_fin = DateField(
        "Date fin",
        validators=[
            required(),
            NotBefore("date_debut", "La date de fin doit être postérieure ou égale à la date de début."),
        ],
    )
    entrees_sorties = RadioField(
        "ESP",
        choices=code_choices("dict-modalites-es"),
        default="0",
        validators=[required()],
        description="Entrées/sorties permanentes ou à dates fixes.",
    )
    rythmes = MultiCheckboxField("Rythmes", choices=code_choices("sofi-rythmes"), validators=[Mandatory()])
    periodes = MultiCheckboxField(
        "Périodes de formations", choices=code_choices("sofi-periodes-formation"), validators=[Mandatory()]
    )
    type_parcours = SelectField(
        "Type de parcours",
        choices=code_choices("dict-type-parcours", blank=""),
        default="",
        validators=[Mandatory()],
        description="Si vous avez coché « oui » pour l'individualisation des parcours, ajoutez « modulaire » et "
        "« individualisé ».",
    )
    modalites_pedagogiques = MultiCheckboxField(
        "Modalités pédagogiques", choices=code_choices("sofi-modalites-pedagogiques"), validators=[Mandatory()]
    )
    modalite_enseignement = SelectField(
        "Modalités d'enseignement", choices=code_choices("dict-modalites-enseignement"), validators=[required()]
    )
    duree_centre = IntegerField("Durée en centre (en h)", validators=[Mandatory(), optional(), at_least(0, "La durée")])
    duree_entreprise = IntegerField("Durée en entreprise (en h)", validators=[optional(), at_least(0, "La durée")])
    duree_hebdo = DecimalField("Durée hebdo (en h)", places=2, validators=[optional(), at_least(0, "La durée")])
    commentaire_duree = RichTextField(
        "Commentaire durée",
        validators=[limited(TEXT)],
        render_kw=counter(TEXT),
        description="Précisez si entrées séquencées en cours de l'année, planning.",
    )
    cycle_unite = SelectField(
        "Cycle de l'alternance",
        choices=code_choices("dict-unite-rythme", blank=""),
        default="",
        description="Obligatoire pour contrat d'apprentissage et contrat de professionnalisation. Ex. : 1 semaine en "
        "centre, 2 semaines en entreprise : unité « Semaine », unité entreprise 2, unité centre 1.",
    )
    cycle_unites_entreprise = IntegerField("Unité entreprise", validators=[optional(), at_least(0, "L'unité")])
    cycle_unites_centre = IntegerField("Unité centre", validators=[optional(), at_least(0, "L'unité")])
    organisme_responsable_id = SelectField(
        "Organisme responsable",
        coerce=int,
        validators=[required()],
        description="Par défaut l'organisme dispensateur ; sinon un établissement de même SIREN ou un organisme "
        "auquel vous êtes rattaché.",
    )
    etat_recrutement = SelectField(
        "Recrutement", choices=code_choices("dict-etat-recrutement"), default="1", validators=[required()]
    )
    modalites_recrutement = MultiCheckboxField(
        "Modalité de recrutement", choices=code_choices("dict-modalite-recrutement"), validators=[Mandatory()]
    )
    informations_collectives = FieldList(FormField(InformationCollectiveForm), label="Informations collectives")
    periodes_inscription = FieldList(FormField(PeriodeInscriptionForm), label="Périodes d'inscription")
    referent_pmr_id = SelectField("Référent PMR", coerce=_optional_int, validators=[Mandatory()])
    referent_prf_id = SelectField("Référent PRF", coerce=_optional_int)
    mail_liaison_id = SelectField("Mail de liaison", coerce=_optional_int)
    referent_mobilite_id = SelectField("Référent mobilité", coerce=_optional_int, validators=[Mandatory()])

    def validate_cycle_unites_entreprise(self, field):
        if self.cycle_unite.data and field.data is None:
            raise ValidationError("Indiquez le nombre d'unités en entreprise du cycle.")

    def validate_cycle_unites_centre(self, field):
        if self.cycle_unite.data and field.data is None:
            raise ValidationError("Indiquez le nombre d'unités en centre du cycle.")


class DispositifForm(VersionedForm):
    dispositif_code = SelectField(
        "Dispositif",
        coerce=_optional_int,
        validators=[required()],
        description="Certains dispositifs ne peuvent être utilisés que si votre organisme est conventionné "
        "(Conseil régional, Agefiph notamment).",
    )
    publics = MultiCheckboxField("Publics", choices=[], validators=[Mandatory()])
    reference_marche = StringField(
        "Référence marché",
        validators=[optional(), limited(255)],
        description="Dans le cas d'une POEC, préciser l'OPCO et la référence de la POEC (ex : POEC AKTO 34567).",
    )
    nb_places = IntegerField(
        "Nb places dispositif",
        validators=[required(), at_least(1, "Le nombre de places")],
        description="Champ obligatoire (minimum 1).",
    )
    nb_places_restantes = IntegerField("Nb places restantes", validators=[optional(), at_least(0, "Le nombre")])
    effectif_minimal = IntegerField(
        "Effectif minimal",
        validators=[optional(), at_least(1, "L'effectif minimal")],
        description="Nombre d'apprenants requis pour que la session débute. Obligatoire pour l'apprentissage.",
    )
    capacite_simultanee = IntegerField(
        "Capacité simultanée",
        validators=[optional(), at_least(1, "La capacité")],
        description="Nombre maximal d'apprenants accueillis simultanément. Obligatoire pour l'apprentissage.",
    )
    annee_cycle = IntegerField("Année du cycle", validators=[optional(), at_least(1, "L'année du cycle")])
    frais_ht = DecimalField("Frais HT (€)", places=2, validators=[optional(), at_least(0, "Les frais")])
    taux_tva = DecimalField("Taux TVA (%)", places=2, validators=[optional(), percentage()])
    frais_ttc = DecimalField("Frais TTC (€)", places=2, validators=[optional(), at_least(0, "Les frais")])
    frais_additionnels_montant = DecimalField(
        "Montant total des frais additionnels non pris en charge (€)",
        places=2,
        validators=[optional(), at_least(0, "Le montant")],
    )
    frais_certification = RadioField("Frais afférents au passage de la certification", choices=YES_NO, default="0")
    prise_en_charge_frais = RadioField("Prise en charge des frais pédagogiques", choices=YES_NO, default="0")
    frais_additionnels_details = TextAreaField(
        "Détails des frais additionnels non pris en charge", validators=[limited(TEXT)], render_kw=counter(TEXT)
    )

    def validate_nb_places_restantes(self, field):
        if field.data is not None and self.nb_places.data is not None and field.data > self.nb_places.data:
            raise ValidationError("Le nombre de places restantes ne peut dépasser le nombre de places.")


class CopySessionForm(Form):
    session_id = HiddenField()
    date_debut = DateField("Nouvelle date de début", validators=[required()])
    date_fin = DateField(
        "Nouvelle date de fin",
        validators=[
            required(),
            NotBefore("date_debut", "La date de fin doit être postérieure ou égale à la date de début."),
        ],
    )


class CopySessionsForm(FlaskForm):
    sessions = FieldList(FormField(CopySessionForm))


__all__ = [
    "REQUIRED",
    "ActionForm",
    "CertifyingFormationForm",
    "CopySessionsForm",
    "DispositifForm",
    "NonCertifyingFormationForm",
    "SessionForm",
]
