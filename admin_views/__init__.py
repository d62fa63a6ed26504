"""Flask-Admin screens of SOFI (organisations and validators). ``init_admin`` registers them."""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_views.actions import ActionView
from admin_views.api_tokens import ApiTokenView
from admin_views.dashboard import DashboardView
from admin_views.directory import ContactView, PorteOuverteView, SiteView
from admin_views.dispositifs import DispositifView
from admin_views.formations import FormationView
from admin_views.funders import FunderView
from admin_views.history import HistoryView
from admin_views.original_templates import add_original_templates
from admin_views.programmes import add_programme_views
from admin_views.reference import CertificationView, CertifInfoView, DispositifBaseView
from admin_views.sessions import SessionView
from admin_views.users import add_administration_views
from admin_views.validation import ValidationView
from models import (
    Action,
    AuditEvent,
    Certification,
    CertifInfo,
    Contact,
    Dispositif,
    Formation,
    PorteOuverte,
    SessionDispositif,
    SessionFormation,
    Site,
)


def init_admin(app) -> Admin:
    add_original_templates(app)
    admin = Admin(
        app,
        name="SOFI",
        url="/admin",
        index_view=DashboardView(name="Tableau de bord", url="/admin", endpoint="admin"),
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template="admin/sofi_master.html"),
    )
    admin.add_view(SiteView(Site, name="Sites", endpoint="sites", category="Annuaire"))
    admin.add_view(ContactView(Contact, name="Contacts et référents", endpoint="contacts", category="Annuaire"))
    admin.add_view(
        PorteOuverteView(PorteOuverte, name="Portes ouvertes", endpoint="portes_ouvertes", category="Annuaire")
    )
    admin.add_view(FormationView(Formation, name="Formations", endpoint="formations", category="Formations"))
    admin.add_view(ActionView(Action, name="Actions", endpoint="actions", category="Formations"))
    admin.add_view(SessionView(SessionFormation, name="Sessions", endpoint="sessions", category="Formations"))
    admin.add_view(DispositifView(SessionDispositif, name="Dispositifs", endpoint="dispositifs", category="Formations"))
    admin.add_view(
        DispositifBaseView(Dispositif, name="Base Dispositif", endpoint="dispositifs_base", category="Référentiels")
    )
    admin.add_view(FunderView(Action, name="Accords financeur", endpoint="financeur", category="Validation"))
    admin.add_view(HistoryView(AuditEvent, name="Historique", endpoint="historique", category="Formations"))
    admin.add_view(ValidationView(Action, name="File de validation", endpoint="validation", category="Validation"))
    admin.add_view(CertifInfoView(CertifInfo, name="Certif Info", endpoint="certifinfo", category="Référentiels"))
    admin.add_view(
        CertificationView(Certification, name="Fiches RNCP / RS", endpoint="certifications", category="Référentiels")
    )
    admin.add_view(ApiTokenView(name="Jetons API", endpoint="api_tokens", category="Annuaire"))
    add_administration_views(admin)  # Utilisateurs, clés d'activation, courriels (catégorie Administration)
    add_programme_views(admin)  # Programme régional (administrateurs, Région) et Formations publiques
    return admin
