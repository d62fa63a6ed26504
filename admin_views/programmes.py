"""The Region's programme: administrators' screens (programmes, lots, templates, the yearly file),
"Formations > Formations publiques" for organisations, and the Région's screen of pending changes.

Thin views: every write goes through ``sofi.services.programmes`` (or ``sofi.services.offer``).
"""

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField

from admin_views.base import SofiModelView
from admin_views.choices import organisation_choices, public_choices
from admin_views.fields import MultiCheckboxField, choice_list, code_choices, counter, limited, required
from models import (
    Action,
    Dispositif,
    Lot,
    LotOrganisation,
    ModelValidationError,
    Organisation,
    Programme,
    ProgrammeTemplate,
    PublishedAction,
    Role,
    Site,
    db,
)
from sofi import permissions
from sofi.diff import changes
from sofi.rules import check_action
from sofi.services import programmes, publication
from sofi.services.errors import DomainError, ImportFileError

CATEGORY = "Programme régional"
TEXT = 3000


# --- shared with the guided session and dispositif forms ------------------------------------------


def prefill_session(session, action) -> None:
    """A new session of a programme action: organisme responsable = mandataire, the template's modes."""
    for name, value in programmes.session_defaults(action).items():
        setattr(session, name, value)


def restrict_session_form(form, action) -> None:
    """Only the lot's mandataire as organisme responsable, only the modes the programme allows."""
    allowed = programmes.session_choices(action)
    if "organisme_responsable" in allowed:
        form.organisme_responsable_id.choices = organisation_choices(allowed["organisme_responsable"])
        form.organisme_responsable_id.description = "L'organisme responsable est le mandataire du lot."
    if "entrees_sorties" in allowed:
        form.entrees_sorties.choices = [
            c for c in form.entrees_sorties.choices if c.value in allowed["entrees_sorties"]
        ]
    if "type_parcours" in allowed:
        form.type_parcours.choices = [
            c for c in form.type_parcours.choices if c.value == "" or c.value in allowed["type_parcours"]
        ]


def programme_dispositif(session):
    """The pre-filled programme dispositif of a new dispositif of ``session`` (or None)."""
    return programmes.dispositif_defaults(session)


# --- administrators ------------------------------------------------------------------------------


class AdministratorView(SofiModelView):
    """Administrators only; writes go through ``sofi.services.programmes``."""

    roles = {Role.ADMINISTRATOR}
    can_delete = False

    def create_model(self, form):
        model = self.build_new_instance()
        return self._populate(form, model) and self._save(form, model, True)

    def update_model(self, form, model):
        return self._populate(form, model) and self._save(form, model, False)

    def _populate(self, form, model) -> bool:
        try:
            form.populate_obj(model)
        except ModelValidationError as error:  # the model's own check, in French
            db.session.rollback()
            flash(f"Enregistrement impossible : {error.message}", "error")
            return False
        return True

    def _save(self, form, model, is_created):
        try:
            programmes.save_programme_record(current_user, model)
        except DomainError as error:
            flash(error.message, "error")
            return False
        self.after_model_change(form, model, is_created)
        return model if is_created else True


class ProgrammeView(AdministratorView):
    column_list = ["code", "intitule", "active", "template", "lots"]
    column_labels = {
        "code": "Code",
        "intitule": "Programme",
        "active": "Actif",
        "template": "Modèle",
        "lots": "Lots",
    }
    column_formatters = {
        "template": lambda v, c, m, n: "oui" if m.template else "non",
        "lots": lambda v, c, m, n: ", ".join(lot.code for lot in m.lots),
    }
    column_searchable_list = ["code", "intitule"]
    column_filters = ["active"]
    column_sortable_list = ["code", "intitule"]
    column_default_sort = "intitule"
    form_columns = ["code", "intitule", "active"]

    def get_query(self):
        return super().get_query().options(selectinload(Programme.lots), joinedload(Programme.template))


def _organisations(role):
    def show(view, context, model, name):
        return "; ".join(
            f"{link.organisation.raison_sociale} ({link.organisation.siret}"
            + (f", code CR {link.code_cr}" if link.code_cr else "")
            + ")"
            for link in model.organisations
            if link.role == role
        )

    return show


class LotView(AdministratorView):
    """The lots of the Region's file (created by the import; administrators may correct them)."""

    can_create = False
    column_list = [
        "code",
        "programme",
        "intitule",
        "annee",
        "nb_places",
        "bon_commande",
        "semestre",
        "id_action_cr",
        "mandataires",
        "formateurs",
    ]
    column_labels = {
        "code": "Lot",
        "programme": "Programme",
        "intitule": "Intitulé",
        "annee": "Année",
        "nb_places": "Places commandées",
        "bon_commande": "Bon de commande",
        "semestre": "Semestre",
        "id_action_cr": "ID action CR",
        "mandataires": "Mandataire(s)",
        "formateurs": "Formateur(s)",
    }
    column_formatters = {
        "programme": lambda v, c, m, n: m.programme.intitule,
        "mandataires": _organisations("mandataire"),
        "formateurs": _organisations("formateur"),
    }
    column_details_list = column_list
    column_searchable_list = ["code", "intitule", "programme.intitule"]
    column_filters = ["annee", "programme.intitule", "semestre"]
    column_sortable_list = ["code", "annee", "nb_places"]
    column_default_sort = "code"
    form_columns = ["intitule", "annee", "nb_places", "bon_commande", "semestre", "id_action_cr"]

    def get_query(self):
        return (
            super()
            .get_query()
            .options(
                joinedload(Lot.programme),
                selectinload(Lot.organisations).joinedload(LotOrganisation.organisation),
            )
        )


class TemplateForm(FlaskForm):
    programme_id = SelectField("Programme", coerce=int, validators=[required()])
    intitule = StringField("Intitulé de la formation", validators=[required(), limited(255)], render_kw=counter(255))
    objectif_general = SelectField("Objectif général", choices=code_choices("dict-AIS"), validators=[required()])
    niveau_sortie = SelectField("Niveau de sortie", choices=code_choices("dict-niveaux", blank=""), default="")
    formacodes = StringField(
        "Domaines de formation (Formacodes)", description="Codes séparés par des virgules, 5 au plus : 15084, 15061."
    )
    formacode_principal = StringField("Domaine principal", description="Un des domaines ci-dessus.")
    complement_programme = TextAreaField("Complément programme", validators=[limited(TEXT)], render_kw=counter(TEXT))
    objectifs = TextAreaField("Objectifs", validators=[limited(TEXT)], render_kw=counter(TEXT))
    resultats_attendus = TextAreaField("Résultats attendus", validators=[limited(TEXT)], render_kw=counter(TEXT))
    niveau_entree = SelectField("Niveau d'entrée", choices=code_choices("dict-niveaux", blank=""), default="")
    prerequis = MultiCheckboxField("Pré-requis", choices=code_choices("sofi-prerequis"))
    commentaire_prerequis = TextAreaField("Commentaire pré-requis", validators=[limited(TEXT)], render_kw=counter(TEXT))
    entrees_sorties = MultiCheckboxField(
        "Entrées/sorties admises", choices=code_choices("dict-modalites-es"), description="Aucune case : pas de limite."
    )
    types_parcours = MultiCheckboxField(
        "Types de parcours admis",
        choices=code_choices("dict-type-parcours"),
        description="Aucune case : pas de limite.",
    )
    dispositif_code = SelectField("Dispositif", coerce=int, validators=[required()])
    publics = MultiCheckboxField("Publics du dispositif", choices=[])
    prise_en_charge_frais = RadioField(
        "Prise en charge des frais pédagogiques", choices=choice_list([("1", "Oui"), ("0", "Non")]), default="1"
    )


TEMPLATE_SCALARS = [
    "intitule",
    "objectif_general",
    "niveau_sortie",
    "formacode_principal",
    "complement_programme",
    "objectifs",
    "resultats_attendus",
    "niveau_entree",
    "commentaire_prerequis",
]
TEMPLATE_LISTS = ["prerequis", "entrees_sorties", "types_parcours", "publics"]


class ProgrammeTemplateView(AdministratorView):
    """What the Region imposes on each programme's offer (pre-filled forms, allowed modes)."""

    column_list = ["programme", "intitule", "objectif_general", "formacodes", "dispositif"]
    column_labels = {
        "programme": "Programme",
        "intitule": "Intitulé de la formation",
        "objectif_general": "Objectif général",
        "formacodes": "Formacodes",
        "dispositif": "Dispositif",
    }
    column_formatters = {
        "programme": lambda v, c, m, n: m.programme.intitule,
        "formacodes": lambda v, c, m, n: (
            ", ".join(m.formacodes or []) + (f" (principal {m.formacode_principal})" if m.formacode_principal else "")
        ),
        "dispositif": lambda v, c, m, n: m.dispositif.label,
    }
    column_sortable_list = ["intitule"]

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return self._form(ProgrammeTemplate())

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return self._form(self.get_one(request.args.get("id", "")))

    def _form(self, template: ProgrammeTemplate):
        form = TemplateForm(obj=template if request.method == "GET" and template.id else None)
        taken = set(db.session.scalars(sa.select(ProgrammeTemplate.programme_id)))
        programmes_list = db.session.scalars(sa.select(Programme).order_by(Programme.intitule)).all()
        form.programme_id.choices = choice_list(
            (p.id, f"{p.code} - {p.intitule}")
            for p in programmes_list
            if p.id not in taken or p.id == template.programme_id
        )
        form.dispositif_code.choices = choice_list(
            (d.code, d.label)
            for d in db.session.scalars(
                sa.select(Dispositif).where(Dispositif.programme_regional).order_by(Dispositif.label)
            )
        )
        form.publics.choices = public_choices()
        if request.method == "GET" and template.id:
            form.formacodes.data = ", ".join(template.formacodes or [])
            form.prise_en_charge_frais.data = "1" if template.prise_en_charge_frais else "0"
        if request.method == "POST" and form.validate():
            try:
                with db.session.no_autoflush:
                    template.programme_id = form.programme_id.data
                    for name in TEMPLATE_SCALARS:
                        value = form[name].data
                        setattr(template, name, value.strip() if isinstance(value, str) and value.strip() else None)
                    for name in TEMPLATE_LISTS:
                        setattr(template, name, list(form[name].data or []))
                    template.formacodes = [c.strip() for c in (form.formacodes.data or "").split(",") if c.strip()]
                    template.dispositif_code = form.dispositif_code.data
                    template.prise_en_charge_frais = form.prise_en_charge_frais.data == "1"
                programmes.save_template(current_user, template)
            except DomainError as error:
                target = form._fields.get(error.field) if error.field else None
                if target is not None:
                    target.errors = [*target.errors, error.message]
                else:
                    flash(error.message, "error")
            except ModelValidationError as error:  # a model validator: shown next to its field
                db.session.rollback()
                target = form._fields.get(error.field)
                message = error.message[:1].upper() + error.message[1:]
                if target is not None:
                    target.errors = [*target.errors, message]
                else:
                    flash(message, "error")
            else:
                flash("Modèle du programme enregistré.", "success")
                return redirect(url_for(".index_view"))
        return self.render("admin/programmes/template_form.html", form=form, record=template)


class ImportForm(FlaskForm):
    file = FileField("Fichier de la Région (.csv ou .xlsx)")
    dry_run = BooleanField("Simulation : vérifier le fichier et voir ce qui changerait, sans rien enregistrer")


class ProgrammeImportView(BaseView):
    """Upload of the Region's yearly file (administrators)."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.active and current_user.role is Role.ADMINISTRATOR

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = ImportForm()
        report = problems = None
        if request.method == "POST" and form.validate():
            upload = form.file.data
            if upload is None or not upload.filename:
                flash("Choisissez le fichier de la Région.", "error")
            else:
                try:
                    report = programmes.import_programme_file(
                        upload.read(), upload.filename, dry_run=form.dry_run.data, user=current_user
                    )
                except programmes.ProgrammeFileError as error:
                    problems = error.problems
                except (ImportFileError, DomainError) as error:
                    problems = [error.message]
                else:
                    flash(report.summary, "success")
        return self.render(
            "admin/programmes/import.html", form=form, report=report, problems=problems, columns=programmes.COLUMNS
        )


# --- organisations: "Formations > Formations publiques" ---------------------------------------------


class PublicFormationForm(FlaskForm):
    programme_id = SelectField("Programme", coerce=int, validators=[required()])
    lot_id = SelectField("Intitulé du lot", coerce=int, validators=[required()])
    mandataire_id = SelectField("Mandataire", coerce=int, validators=[required()])
    site_id = SelectField("Site de réalisation", coerce=int, validators=[required()])


class PublicFormationView(BaseView):
    """Create a programme action from a lot where the establishment is mandataire or formateur."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.active and current_user.role is Role.ORGANISATION

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @expose("/", methods=("GET", "POST"))
    def index(self):
        organisation = permissions.current_organisation(current_user)
        if organisation is None:
            abort(403)
        lots = programmes.lots_for(current_user)
        form = PublicFormationForm()
        chosen = programmes.lot_for(current_user, request.values.get("lot_id", ""))
        if request.method == "POST" and chosen is None:
            abort(404)  # another organisation's lot, or an unknown one
        form.programme_id.choices = choice_list(
            sorted({(lot.programme.id, lot.programme.intitule) for lot in lots}, key=lambda pair: pair[1])
        )
        form.lot_id.choices = choice_list(
            (lot.id, f"{lot.code} - {lot.intitule} ({lot.programme.intitule})") for lot in lots
        )
        # Every mandataire of the user's lots is accepted by the form; the service checks it is the lot's.
        mandataires = (
            chosen.mandataires
            if chosen and request.method == "GET"
            else sorted({o for lot in lots for o in lot.mandataires}, key=lambda o: o.raison_sociale)
        )
        form.mandataire_id.choices = organisation_choices(mandataires)
        sites = db.session.scalars(
            sa.select(Site).where(Site.organisation_id == organisation.id, Site.active).order_by(Site.nom)
        ).all()
        form.site_id.choices = choice_list(
            (s.id, f"{organisation.siret} - {organisation.raison_sociale} - {s.nom}") for s in sites
        )
        if request.method == "GET" and chosen is not None:
            form.lot_id.data = chosen.id
            form.programme_id.data = chosen.programme_id
        if request.method == "POST" and form.validate():
            if chosen.programme_id != form.programme_id.data:
                form.lot_id.errors = [*form.lot_id.errors, "Ce lot n'appartient pas au programme choisi."]
            else:
                mandataire = db.session.get(Organisation, form.mandataire_id.data)
                site = db.session.get(Site, form.site_id.data)
                try:
                    action = programmes.create_from_lot(current_user, chosen, mandataire, site)
                except DomainError as error:
                    target = form._fields.get(error.field) if error.field else None
                    if target is not None:
                        target.errors = [*target.errors, error.message]
                    else:
                        flash(error.message, "error")
                else:
                    flash(
                        f"Formation et action « {action.intitule} » créées à partir du lot {chosen.code}, "
                        "pré-remplies avec le modèle du programme (vérifiez-les depuis le bandeau FASD). "
                        "Saisissez maintenant la session.",
                        "success",
                    )
                    return redirect(url_for("sessions.create_view", action_id=action.id))
        return self.render(
            "admin/programmes/public_create.html", form=form, lots=lots, organisation=organisation, chosen=chosen
        )


# --- the Région ------------------------------------------------------------------------------------


class RegionView(BaseView):
    """The Region's agreement on changes to its published programme actions (read-only otherwise)."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.active and current_user.role is Role.REGION

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @expose("/")
    def index(self):
        everything = request.args.get("vue") == "toutes"
        actions = programmes.programme_actions() if everything else programmes.pending_changes()
        rows = [
            (
                action,
                programmes.lots_of(action),
                programmes.region_decision(action) if not everything else None,
            )
            for action in actions
        ]
        return self.render("admin/programmes/region_list.html", rows=rows, everything=everything)

    @expose("/review/", methods=("GET", "POST"))
    def review_view(self):
        wanted = request.values.get("id", "")
        action = db.session.get(Action, int(wanted)) if wanted.isdigit() else None
        if action is None or not programmes.is_programme_action(action):
            abort(404)
        if request.method == "POST":
            decision = request.form.get("decision")
            if decision not in ("accord", "refus"):
                flash("Choisissez votre décision : accord ou refus.", "error")
            else:
                try:
                    programmes.region_consent(
                        current_user, action, decision == "accord", request.form.get("comment", "")
                    )
                except DomainError as error:
                    flash(error.message, "error")
                else:
                    flash("La décision de la Région a été transmise au Cariforef.", "success")
                    return redirect(url_for(".index"))
        published = db.session.get(PublishedAction, action.id)
        return self.render(
            "admin/programmes/region_review.html",
            action=action,
            lots=programmes.lots_of(action),
            revision_changes=changes(published.data, publication.snapshot(action)) if published else None,
            decision=programmes.region_decision(action),
            can_decide=programmes.requires_region_consent(action) and action.status.value == "en_attente_validation",
            problems=[p for p in check_action(action) if p.blocking],
        )


def add_programme_views(admin) -> None:
    """Register the screens of the regional programme (called by ``admin_views.init_admin``)."""
    admin.add_view(ProgrammeView(Programme, name="Programmes", endpoint="programmes", category=CATEGORY))
    admin.add_view(LotView(Lot, name="Lots", endpoint="programme_lots", category=CATEGORY))
    admin.add_view(
        ProgrammeTemplateView(ProgrammeTemplate, name="Modèles", endpoint="programme_modeles", category=CATEGORY)
    )
    admin.add_view(ProgrammeImportView(name="Fichier de la Région", endpoint="programme_import", category=CATEGORY))
    admin.add_view(RegionView(name="Modifications à approuver", endpoint="region", category=CATEGORY))
    admin.add_view(
        PublicFormationView(name="Formations publiques", endpoint="formations_publiques", category="Formations")
    )
