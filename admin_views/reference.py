"""Reference data screens: readable by every user, editable by Cariforef administrators."""

from flask_login import current_user

from admin_views.base import SofiModelView
from admin_views.fields import NATIVE_SELECT
from models import Role


class ReferenceView(SofiModelView):
    can_create = False
    can_delete = False

    @property
    def can_edit(self):
        return current_user.is_authenticated and current_user.role is Role.ADMINISTRATOR


class DispositifBaseView(ReferenceView):
    column_list = [
        "code",
        "label",
        "financeur_code",
        "conventionnement_financeur",
        "contrat_apprentissage",
        "contrat_professionnalisation",
        "programme_regional",
        "formation_initiale",
        "active",
    ]
    column_labels = {
        "code": "Code",
        "label": "Dispositif",
        "financeur_code": "Financeur (code LHÉO)",
        "conventionnement_financeur": "Conventionnement requis avec",
        "contrat_apprentissage": "Apprentissage",
        "contrat_professionnalisation": "Professionnalisation",
        "programme_regional": "Programme régional",
        "formation_initiale": "Formation initiale",
        "prise_en_charge_frais": "Prise en charge des frais",
        "active": "Actif",
        "default_publics": "Publics par défaut",
    }
    column_searchable_list = ["label"]
    column_filters = ["programme_regional", "contrat_apprentissage", "active"]
    column_default_sort = "code"
    form_columns = [
        "label",
        "financeur_code",
        "conventionnement_financeur",
        "contrat_apprentissage",
        "contrat_professionnalisation",
        "programme_regional",
        "formation_initiale",
        "prise_en_charge_frais",
        "active",
        "default_publics",
    ]
    form_widget_args = {"default_publics": NATIVE_SELECT}


class CertificationView(ReferenceView):
    column_list = ["numero_fiche", "intitule", "niveau_europeen", "date_fin_enregistrement", "actif"]
    column_labels = {
        "numero_fiche": "Fiche",
        "intitule": "Intitulé",
        "niveau_europeen": "Niveau",
        "date_fin_enregistrement": "Fin d'enregistrement",
        "actif": "Active",
    }
    column_searchable_list = ["numero_fiche", "intitule"]
    column_filters = ["actif", "date_fin_enregistrement"]
    can_edit = False


class CertifInfoView(ReferenceView):
    column_list = ["code", "intitule", "type_libelle", "niveau_europeen", "rncp_code", "rs_code", "certificateur"]
    column_labels = {
        "code": "Code Certif Info",
        "intitule": "Intitulé",
        "type_libelle": "Type",
        "niveau_europeen": "Niveau",
        "rncp_code": "RNCP",
        "rs_code": "RS",
        "certificateur": "Certificateur",
    }
    column_searchable_list = ["intitule", "rncp_code", "rs_code"]
    can_edit = False
