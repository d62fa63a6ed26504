"""Annuaire: the organisation's sites, contacts and référents, and portes ouvertes."""

from flask import abort
from flask_login import current_user
from wtforms import validators

from admin_views.base import SofiModelView
from admin_views.fields import NATIVE_SELECT, choice_list
from models import Commune, Role, Site, db
from models.codelists import choices
from sofi import permissions


class DirectoryView(SofiModelView):
    """Records that belong to the current establishment; created for it."""

    can_delete = True
    can_create = True
    can_edit = True

    def _organisation(self):
        organisation = permissions.current_organisation(current_user)
        if organisation is None:
            abort(403)
        return organisation

    def is_accessible(self) -> bool:
        return super().is_accessible()

    def create_model(self, form):
        if current_user.role is not Role.ORGANISATION:
            abort(403)
        return super().create_model(form)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created:
            self.attach(model, self._organisation())

    def attach(self, model, organisation) -> None:
        model.organisation = organisation


def _commune_choices():
    return choice_list(
        (c.code_insee, f"{c.nom} ({c.departement})") for c in db.session.query(Commune).order_by(Commune.nom)
    )


class SiteView(DirectoryView):
    column_list = ["nom", "adresse1", "code_postal", "commune", "siret", "uai", "accessible_pmr", "active"]
    column_labels = {
        "nom": "Nom du site",
        "adresse1": "Adresse",
        "adresse2": "Complément d'adresse",
        "code_postal": "Code postal",
        "commune": "Commune",
        "commune_code": "Commune",
        "siret": "SIRET du lieu",
        "uai": "UAI",
        "accessible_pmr": "Accessible aux personnes à mobilité réduite",
        "accessibilite": "Accessibilité (précisions)",
        "latitude": "Latitude",
        "longitude": "Longitude",
        "active": "Actif",
    }
    column_formatters = {"commune": lambda v, c, m, n: m.commune.nom if m.commune else ""}
    column_searchable_list = ["nom", "adresse1", "code_postal"]
    column_filters = ["code_postal", "accessible_pmr", "active"]
    form_columns = [
        "nom",
        "adresse1",
        "adresse2",
        "code_postal",
        "commune_code",
        "siret",
        "uai",
        "accessible_pmr",
        "accessibilite",
        "latitude",
        "longitude",
        "active",
    ]
    form_overrides = {}
    form_args = {
        "nom": {"validators": [validators.DataRequired("Champ obligatoire."), validators.Length(max=255)]},
        "adresse1": {"validators": [validators.DataRequired("Champ obligatoire."), validators.Length(max=255)]},
        "code_postal": {"validators": [validators.Regexp(r"^\d{5}$", message="Code postal à 5 chiffres.")]},
    }

    def scaffold_form(self):
        from wtforms import SelectField

        form_class = super().scaffold_form()
        form_class.commune_code = SelectField(
            "Commune", choices=_commune_choices, validators=[validators.DataRequired("Champ obligatoire.")]
        )
        return form_class


class ContactView(DirectoryView):
    column_list = [
        "civilite",
        "nom",
        "prenom",
        "fonction",
        "email",
        "telephone_fixe",
        "referent_pmr",
        "referent_mobilite",
        "referent_prf",
        "mail_liaison",
        "active",
    ]
    column_labels = {
        "civilite": "Civilité",
        "nom": "Nom",
        "prenom": "Prénom",
        "fonction": "Fonction",
        "email": "E-mail",
        "telephone_fixe": "Téléphone",
        "telephone_portable": "Portable",
        "fax": "Fax",
        "type_contact": "Type de contact",
        "referent_pmr": "Référent PMR (handicap)",
        "referent_mobilite": "Référent mobilité",
        "referent_prf": "Référent PRF",
        "mail_liaison": "Mail de liaison",
        "active": "Actif",
    }
    column_searchable_list = ["nom", "prenom", "email"]
    column_filters = ["referent_pmr", "referent_mobilite", "referent_prf", "mail_liaison", "active"]
    form_columns = [
        "civilite",
        "nom",
        "prenom",
        "fonction",
        "type_contact",
        "email",
        "telephone_fixe",
        "telephone_portable",
        "fax",
        "referent_pmr",
        "referent_mobilite",
        "referent_prf",
        "mail_liaison",
        "active",
    ]
    form_choices = {
        "civilite": choices("sofi-civilites"),
        "type_contact": choices("dict-type-contact"),
    }
    form_widget_args = {"civilite": NATIVE_SELECT, "type_contact": NATIVE_SELECT}
    form_args = {
        "nom": {"validators": [validators.DataRequired("Champ obligatoire."), validators.Length(max=100)]},
        "email": {"validators": [validators.Optional(), validators.Email("Adresse e-mail invalide.")]},
    }


class PorteOuverteView(DirectoryView):
    column_list = ["site", "date", "heure_debut", "heure_fin", "commentaire"]
    column_labels = {
        "site": "Site",
        "date": "Date",
        "heure_debut": "Heure de début",
        "heure_fin": "Heure de fin",
        "commentaire": "Commentaire",
    }
    column_formatters = {"site": lambda v, c, m, n: m.site.nom, "date": lambda v, c, m, n: m.date.strftime("%d/%m/%Y")}
    column_default_sort = ("date", True)
    form_columns = ["site", "date", "heure_debut", "heure_fin", "commentaire"]
    form_args = {"site": {"validators": [validators.DataRequired("Champ obligatoire.")]}}

    def _scoped_sites(self):
        query = db.session.query(Site)
        return permissions.scoped(query, Site, current_user).order_by(Site.nom)

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.site.query_factory = self._scoped_sites
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form.site.query_factory = self._scoped_sites
        return form

    def attach(self, model, organisation) -> None:
        if model.site is None or model.site.organisation_id != organisation.id:
            abort(403)
