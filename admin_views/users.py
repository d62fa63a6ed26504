"""Administration screens (administrators only): users and their memberships, activation-key
requests and keys, and the outbox of e-mails sent.

Every change goes through :mod:`sofi.services.accounts`; password hashes and secrets are
never listed, shown, exported nor editable here.
"""

import sqlalchemy as sa
from flask import flash, redirect
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectMultipleField
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, BooleanEqualFilter, FilterEqual
from flask_admin.form import BaseForm, Select2Widget
from flask_admin.helpers import get_form_data
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.orm import defer, joinedload, selectinload
from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional

from admin_views.base import SofiModelView
from admin_views.fields import choice_list
from models import (
    ActivationKey,
    ActivationKeyRequest,
    KeyRequestStatus,
    Membership,
    Organisation,
    OutboxMessage,
    Role,
    User,
    db,
)
from sofi.services import accounts
from sofi.services.errors import DomainError


def _datetime(value) -> str:
    return value.strftime("%d/%m/%Y %H:%M") if value else ""


def _yes_no(value) -> str:
    return "Oui" if value else "Non"


def _organisations_query():
    return db.session.query(Organisation).order_by(Organisation.raison_sociale, Organisation.siret)


def _organisation_label(organisation: Organisation) -> str:
    return f"{organisation.siret} - {organisation.display_name}"


def _organisations_field(label: str, description: str) -> QuerySelectMultipleField:
    return QuerySelectMultipleField(
        label,
        query_factory=_organisations_query,
        get_label=_organisation_label,
        widget=Select2Widget(multiple=True),
        description=description,
    )


def _show_error(form, error: DomainError) -> None:
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    flash(error.message, "error")


class AdministratorView(SofiModelView):
    """Cariforef administrators only."""

    roles = {Role.ADMINISTRATOR}
    form_base_class = BaseForm


# Users ------------------------------------------------------------------------------------
class UserForm(BaseForm):
    email = EmailField(
        "Adresse e-mail",
        validators=[
            InputRequired("L'adresse e-mail est obligatoire."),
            Length(max=255, message="255 caractères au plus."),
            Email("L'adresse e-mail n'est pas valide."),
        ],
    )
    nom = StringField("Nom", validators=[Optional(), Length(max=100, message="100 caractères au plus.")])
    prenom = StringField("Prénom", validators=[Optional(), Length(max=100, message="100 caractères au plus.")])
    role = SelectField(
        "Rôle",
        choices=choice_list((role.value, role.label) for role in Role),
        validators=[InputRequired("Le rôle est obligatoire.")],
    )
    active = BooleanField("Compte actif", default=True, description="Un compte inactif ne peut plus se connecter.")
    organisations = _organisations_field(
        "Organismes de rattachement",
        "Établissements (SIRET) pour lesquels l'utilisateur saisit l'offre (obligatoire pour un organisme).",
    )


class OrganisationMemberFilter(BaseSQLAFilter):
    """Users attached to an establishment whose SIRET or name contains the value."""

    def apply(self, query, value, alias=None):
        pattern = f"%{value.strip()}%"
        members = (
            sa.select(Membership.user_id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(sa.or_(Organisation.siret.like(pattern), Organisation.raison_sociale.ilike(pattern)))
        )
        return query.filter(User.id.in_(members))

    def operation(self):
        return "contient"


def _organisations_text(user: User) -> str:
    return ", ".join(_organisation_label(o) for o in user.organisations)


USER_FORMATTERS = {
    "role": lambda v, c, m, n: m.role.label,
    "organisations": lambda v, c, m, n: _organisations_text(m),
    "last_login_at": lambda v, c, m, n: _datetime(m.last_login_at),
    "created_at": lambda v, c, m, n: _datetime(m.created_at),
    "updated_at": lambda v, c, m, n: _datetime(m.updated_at),
}


class UserAdminView(AdministratorView):
    can_delete = False  # deactivate instead: an account's history stays attached to it
    column_list = ["email", "nom", "prenom", "role", "active", "organisations", "last_login_at"]
    column_details_list = [*column_list, "created_at", "updated_at"]
    column_export_list = [*column_list, "created_at"]
    column_labels = {
        "email": "Adresse e-mail",
        "nom": "Nom",
        "prenom": "Prénom",
        "role": "Rôle",
        "active": "Actif",
        "organisations": "Organismes",
        "last_login_at": "Dernière connexion",
        "created_at": "Créé le",
        "updated_at": "Modifié le",
    }
    column_formatters = USER_FORMATTERS
    column_formatters_export = {**USER_FORMATTERS, "active": lambda v, c, m, n: _yes_no(m.active)}
    column_sortable_list = ["email", "nom", "prenom", "role", "active", "last_login_at"]
    column_default_sort = "email"
    column_searchable_list = ["email", "nom", "prenom"]
    column_filters = [
        FilterEqual(User.role, "Rôle", options=[(role.value, role.label) for role in Role]),
        BooleanEqualFilter(User.active, "Actif"),
        OrganisationMemberFilter(User.id, "Organisme (SIRET ou raison sociale)"),
    ]
    column_exclude_list = ["password_hash"]
    form_excluded_columns = ["password_hash"]

    def get_query(self):
        return super().get_query().options(selectinload(User.memberships).joinedload(Membership.organisation))

    def scaffold_form(self):
        return UserForm

    def _values(self, form) -> dict:
        return {
            "email": form.email.data,
            "nom": form.nom.data,
            "prenom": form.prenom.data,
            "role": form.role.data,
            "active": form.active.data,
            "organisations": list(form.organisations.data or []),
        }

    def create_model(self, form):
        try:
            return accounts.save_user(current_user, None, **self._values(form))
        except DomainError as error:
            _show_error(form, error)
            return False

    def update_model(self, form, model):
        try:
            accounts.save_user(current_user, model, **self._values(form))
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
            return False
        return True


# Activation-key requests and keys ---------------------------------------------------------
class IssueKeyForm(BaseForm):
    organisations = _organisations_field(
        "Établissements", "Le compte créé avec la clé sera rattaché à ces établissements (SIRET)."
    )
    email = EmailField(
        "Adresse e-mail du destinataire",
        validators=[
            InputRequired("L'adresse e-mail est obligatoire."),
            Length(max=255, message="255 caractères au plus."),
            Email("L'adresse e-mail n'est pas valide."),
        ],
        description="La clé est envoyée à cette adresse ; le compte devra être créé avec elle.",
    )
    valid_days = IntegerField(
        "Durée de validité (jours)",
        default=accounts.DEFAULT_KEY_DAYS,
        validators=[
            InputRequired("La durée de validité est obligatoire."),
            NumberRange(1, accounts.MAX_KEY_DAYS, f"Entre 1 et {accounts.MAX_KEY_DAYS} jours."),
        ],
    )


def _request_keys(request: ActivationKeyRequest) -> str:
    return " ; ".join(f"{key.email} : {accounts.key_state(key)}" for key in request.activation_keys)


KEY_REQUEST_FORMATTERS = {
    "created_at": lambda v, c, m, n: _datetime(m.created_at),
    "processed_at": lambda v, c, m, n: _datetime(m.processed_at),
    "status": lambda v, c, m, n: m.status.label,
    "processed_by": lambda v, c, m, n: m.processed_by.email if m.processed_by else "",
    "activation_keys": lambda v, c, m, n: _request_keys(m),
}


class KeyRequestAdminView(AdministratorView):
    """Requests made with "Je n'ai pas de clé d'activation…"; keys are issued from here, for a
    request (list action) or directly for establishments ("Émettre une clé")."""

    can_create = False
    can_edit = False
    can_delete = False
    list_template = "auth/admin_key_requests_list.html"
    column_list = ["created_at", "status", "siret", "raison_sociale", "nom", "prenom", "email", "telephone"]
    column_details_list = [*column_list, "message", "processed_at", "processed_by", "activation_keys"]
    column_export_list = [*column_list, "message", "processed_at", "activation_keys"]
    column_labels = {
        "created_at": "Demandée le",
        "status": "État",
        "siret": "SIRET",
        "raison_sociale": "Raison sociale",
        "nom": "Nom",
        "prenom": "Prénom",
        "email": "Adresse e-mail",
        "telephone": "Téléphone",
        "message": "Message",
        "processed_at": "Traitée le",
        "processed_by": "Traitée par",
        "activation_keys": "Clé d'activation",
    }
    column_formatters = KEY_REQUEST_FORMATTERS
    column_formatters_export = KEY_REQUEST_FORMATTERS
    column_sortable_list = ["created_at", "status", "siret", "raison_sociale"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["siret", "raison_sociale", "nom", "email"]
    column_filters = [
        FilterEqual(
            ActivationKeyRequest.status, "État", options=[(status.value, status.label) for status in KeyRequestStatus]
        ),
        "created_at",
    ]

    def get_query(self):
        return (
            super()
            .get_query()
            .options(
                joinedload(ActivationKeyRequest.processed_by),
                selectinload(ActivationKeyRequest.activation_keys).joinedload(ActivationKey.used_by),
            )
        )

    @expose("/emettre/", methods=("GET", "POST"))
    def issue_view(self):
        """Issue a key for establishments chosen in a list, without a request."""
        form = IssueKeyForm(get_form_data())
        if self.validate_form(form):
            try:
                key = accounts.issue_activation_key_for_organisations(
                    list(form.organisations.data or []),
                    form.email.data,
                    issued_by=current_user,
                    valid_days=form.valid_days.data,
                )
            except DomainError as error:
                _show_error(form, error)
            else:
                flash(f"Clé d'activation émise et envoyée à {key.email}.", "success")
                return redirect(self.get_url(".index_view"))
        return self.render("auth/admin_issue_key.html", form=form, return_url=self.get_url(".index_view"))

    @action(
        "issue_key",
        "Émettre et envoyer une clé d'activation",
        "Émettre une clé d'activation pour chaque demande sélectionnée et l'envoyer au demandeur ?",
    )
    def action_issue_key(self, ids):
        try:
            served = accounts.issue_keys_for_requests(current_user, [int(i) for i in ids if str(i).isdigit()])
        except DomainError as error:
            flash(error.message, "error")
            return
        flash(
            f"{len(served)} clé(s) d'activation émise(s) et envoyée(s) : " + ", ".join(r.email for r in served) + ".",
            "success",
        )

    @action("close", "Classer sans suite", "Classer sans suite les demandes sélectionnées ?")
    def action_close(self, ids):
        try:
            closed = accounts.close_key_requests(current_user, [int(i) for i in ids if str(i).isdigit()])
        except DomainError as error:
            flash(error.message, "error")
            return
        flash(f"{closed} demande(s) classée(s) sans suite.", "success")


# Outbox -----------------------------------------------------------------------------------
def _outbox_body(view, context, model, name):
    if model.sensitive:
        return "Contenu masqué : ce message contient un lien ou une clé personnels."
    return Markup("<pre class='mb-0' style='white-space: pre-wrap'>{}</pre>").format(escape(model.body))


OUTBOX_FORMATTERS = {
    "created_at": lambda v, c, m, n: _datetime(m.created_at),
    "state": lambda v, c, m, n: accounts.outbox_state(m),
    "sent_at": lambda v, c, m, n: _datetime(m.sent_at),
}


class OutboxAdminView(AdministratorView):
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ["created_at", "recipient", "subject", "state"]
    column_details_list = ["created_at", "recipient", "subject", "state", "sent_at", "body"]
    column_export_list = column_list
    column_labels = {
        "created_at": "Créé le",
        "recipient": "Destinataire",
        "subject": "Objet",
        "state": "État",
        "sent_at": "Envoyé le",
        "body": "Contenu",
    }
    column_formatters = OUTBOX_FORMATTERS
    column_formatters_detail = {**OUTBOX_FORMATTERS, "body": _outbox_body}
    column_formatters_export = OUTBOX_FORMATTERS
    column_sortable_list = ["created_at", "recipient", "subject"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["recipient", "subject"]
    column_filters = ["created_at", "sent_at", "recipient"]

    def get_query(self):
        # The list never loads message bodies (they can be long); the detail page does.
        return super().get_query().options(defer(OutboxMessage.body))


def add_administration_views(admin) -> None:
    """The "Administration" menu."""
    category = "Administration"
    admin.add_view(UserAdminView(User, name="Utilisateurs", endpoint="users", url="utilisateurs", category=category))
    admin.add_view(
        KeyRequestAdminView(
            ActivationKeyRequest,
            name="Clés d'activation",
            endpoint="key_requests",
            url="cles-activation",
            category=category,
        )
    )
    admin.add_view(
        OutboxAdminView(OutboxMessage, name="Courriels envoyés", endpoint="outbox", url="courriels", category=category)
    )
