"""Tenant isolation: an organisation user never sees nor changes another organisation's records.

The test walks every admin endpoint of the app (it fails when a new endpoint is not walked)
as the Cariforef user with the ids of Atlantique Compétences' records.
"""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from models import (
    Action,
    AuditEvent,
    Contact,
    Formation,
    Lot,
    LotOrganisation,
    Organisation,
    PorteOuverte,
    ProgrammeAction,
    SessionDispositif,
    SessionFormation,
    Site,
    db,
)
from sofi.permissions import OWNERSHIP
from tests.web import csrf_token, login, text

ATTACKER = "cariforef@demo.sofi.fr"
VICTIM_SIRET = "44123456400017"
MODELS = {
    "formations": Formation,
    "actions": Action,
    "sessions": SessionFormation,
    "dispositifs": SessionDispositif,
    "sites": Site,
    "contacts": Contact,
    "portes_ouvertes": PorteOuverte,
}
REFERENCE_ENDPOINTS = {"dispositifs_base", "certifinfo", "certifications"}
DENIED = {403, 404}


@pytest.fixture
def victim(demo, session):
    organisation = session.scalar(sa.select(Organisation).where(Organisation.siret == VICTIM_SIRET))
    session.add(PorteOuverte(site=organisation.sites[0], date=date(2027, 5, 12), commentaire="Journée découverte"))
    session.commit()
    action = session.scalar(sa.select(Action).where(Action.organisation_id == organisation.id))
    training_session = action.sessions[0]
    return {
        "organisation": organisation,
        "formations": action.formation_id,
        "actions": action.id,
        "sessions": training_session.id,
        "dispositifs": training_session.dispositifs[0].id,
        "sites": organisation.sites[0].id,
        "contacts": organisation.contacts[0].id,
        "portes_ouvertes": organisation.sites[0].portes_ouvertes[0].id,
    }


def _fingerprint(organisation_id: int):
    """Every column of the victim's records, to prove nothing changed."""
    rows = []
    for model in MODELS.values():
        query = sa.select(model).where(OWNERSHIP[model](organisation_id))
        for record in db.session.scalars(query):
            rows.append(
                (model.__name__, tuple(sorted((k, repr(v)) for k, v in vars(record).items() if not k.startswith("_"))))
            )
    return sorted(rows)


def test_every_admin_endpoint_refuses_another_organisations_records(app, client, victim):
    login(client, ATTACKER)
    before = _fingerprint(victim["organisation"].id)
    token = csrf_token(client, "/admin/sites/new/")
    walked = set()

    def get(endpoint, url):
        walked.add(endpoint)
        response = client.get(url)
        assert response.status_code in DENIED, (url, response.status_code)

    def post(endpoint, url, data, allowed=DENIED):
        walked.add(endpoint)
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code in allowed, (url, response.status_code)
        return response

    for name, record_id in victim.items():
        if name == "organisation":
            continue
        get(f"{name}.details_view", f"/admin/{name}/details/?id={record_id}")
        get(f"{name}.edit_view", f"/admin/{name}/edit/?id={record_id}")
        post(f"{name}.edit_view", f"/admin/{name}/edit/?id={record_id}", {"nom": "pirate", "_save": "1"})
        post(f"{name}.delete_view", f"/admin/{name}/delete/", {"id": str(record_id)}, allowed=DENIED | {302, 405})
        post(
            f"{name}.ajax_update",
            f"/admin/{name}/ajax/update/",
            {"list_form_pk": str(record_id), "nom": "pirate"},
            allowed=DENIED | {400, 500},
        )
        walked.add(f"{name}.ajax_lookup")
        response = client.get(f"/admin/{name}/ajax/lookup/?name=site&query=a")
        assert response.status_code in DENIED | {400}
        for action_name in ("delete", "dupliquer", "copier"):
            post(
                f"{name}.action_view",
                f"/admin/{name}/action/",
                {"action": action_name, "rowid": str(record_id)},
                allowed=DENIED | {302},
            )

    # The history of the victim's records.
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.organisation_id == victim["organisation"].id))
    get("historique.details_view", f"/admin/historique/details/?id={event.id}")
    for endpoint, url in (
        ("edit_view", f"/admin/historique/edit/?id={event.id}"),
        ("create_view", "/admin/historique/new/"),
    ):
        walked.add(f"historique.{endpoint}")
        assert client.get(url).status_code in DENIED | {302}
    for endpoint in ("delete_view", "ajax_update", "action_view"):
        post(
            f"historique.{endpoint}",
            f"/admin/historique/{endpoint.replace('_view', '').replace('_', '/')}/",
            {"id": str(event.id), "rowid": str(event.id), "action": "delete", "list_form_pk": str(event.id)},
            allowed=DENIED | {302, 400, 405, 500},
        )
    walked.add("historique.ajax_lookup")
    for url in ("/admin/historique/", "/admin/historique/export/csv/"):
        walked.add("historique.index_view" if url.endswith("e/") else "historique.export")
        body = client.get(url + "?search=organisation").get_data(as_text=True)
        assert "ATLANTIQUE" not in body, url

    get("actions.recap_view", f"/admin/actions/recap/?id={victim['actions']}")
    post("actions.answer_view", "/admin/actions/answer/", {"id": str(victim["actions"]), "body": "pirate"})
    post("actions.document_upload_view", "/admin/actions/documents/", {"id": str(victim["actions"])})
    post(
        "actions.document_delete_view",
        "/admin/actions/documents/delete/",
        {"id": str(victim["actions"]), "document_id": "1"},
    )
    # The validators' and funders' workspaces are closed to organisation users, whatever the record.
    for endpoint, url in (
        ("index_view", "/admin/financeur/"),
        ("details_view", f"/admin/financeur/details/?id={victim['actions']}"),
        ("decision_view", f"/admin/financeur/decision/?id={victim['actions']}"),
        ("export", "/admin/financeur/export/csv/"),
        ("ajax_lookup", "/admin/financeur/ajax/lookup/?name=x&query=a"),
        ("create_view", "/admin/financeur/new/"),
        ("edit_view", f"/admin/financeur/edit/?id={victim['actions']}"),
    ):
        get(f"financeur.{endpoint}", url)
    for endpoint in ("decision_view", "action_view", "ajax_update", "delete_view"):
        url = {
            "decision_view": "/admin/financeur/decision/",
            "action_view": "/admin/financeur/action/",
            "ajax_update": "/admin/financeur/ajax/update/",
            "delete_view": "/admin/financeur/delete/",
        }[endpoint]
        post(f"financeur.{endpoint}", url, {"id": str(victim["actions"]), "decision": "accord"})
    get("validation.document_view", "/admin/validation/document/?id=1")
    for endpoint, url in (
        ("index_view", "/admin/validation/"),
        ("details_view", f"/admin/validation/details/?id={victim['actions']}"),
        ("review_view", f"/admin/validation/review/?id={victim['actions']}"),
        ("bulk_reject_view", f"/admin/validation/bulk-reject/?ids={victim['actions']}"),
        ("export", "/admin/validation/export/csv/"),
        ("ajax_lookup", "/admin/validation/ajax/lookup/?name=x&query=a"),
        ("create_view", "/admin/validation/new/"),
        ("edit_view", f"/admin/validation/edit/?id={victim['actions']}"),
    ):
        get(f"validation.{endpoint}", url)
    for endpoint, url in (
        ("approve_view", "/admin/validation/approve/"),
        ("reject_view", "/admin/validation/reject/"),
        ("question_view", "/admin/validation/question/"),
        ("certifinfo_view", "/admin/validation/certifinfo/"),
        ("action_view", "/admin/validation/action/"),
        ("ajax_update", "/admin/validation/ajax/update/"),
        ("delete_view", "/admin/validation/delete/"),
        ("bulk_reject_view", "/admin/validation/bulk-reject/"),
    ):
        post(
            f"validation.{endpoint}",
            url,
            {
                "id": str(victim["actions"]),
                "rowid": str(victim["actions"]),
                "action": "valider",
                "reason": "x",
                "body": "x",
            },
        )
    post("actions.submit_view", "/admin/actions/submit/", {"id": str(victim["actions"])})
    post("actions.duplicate_view", "/admin/actions/duplicate/", {"id": str(victim["actions"])})
    get("actions.create_view", f"/admin/actions/new/?formation_id={victim['formations']}")
    get("sessions.create_view", f"/admin/sessions/new/?action_id={victim['actions']}")
    get("dispositifs.create_view", f"/admin/dispositifs/new/?session_id={victim['sessions']}")
    get("sessions.copy_view", f"/admin/sessions/copy/?ids={victim['sessions']}")
    post(
        "sessions.copy_view",
        f"/admin/sessions/copy/?ids={victim['sessions']}",
        {
            "sessions-0-session_id": str(victim["sessions"]),
            "sessions-0-date_debut": "2028-01-01",
            "sessions-0-date_fin": "2028-02-01",
        },
    )

    # API tokens: the victim's token is neither listed nor revocable (the attacker's screen shows its own only).
    from models import ApiToken

    victim_token = ApiToken(
        organisation_id=victim["organisation"].id,
        name="Jeton de la victime",
        prefix="sofi_victime",
        token_hash="0" * 64,
    )
    db.session.add(victim_token)
    db.session.commit()
    walked.add("api_tokens.index")
    assert "Jeton de la victime" not in text(client.get("/admin/api_tokens/"))
    post("api_tokens.revoke", "/admin/api_tokens/revoke/", {"token_id": str(victim_token.id)}, allowed={302})
    db.session.refresh(victim_token)
    assert victim_token.revoked_at is None

    # Regional programme: the administrators' and the Région's screens are closed to organisation users…
    closed = {"programmes", "programme_lots", "programme_modeles", "programme_import", "region"}
    victim_lot = db.session.scalar(
        sa.select(Lot).where(
            Lot.id.in_(
                sa.select(LotOrganisation.lot_id).where(LotOrganisation.organisation_id == victim["organisation"].id)
            ),
            ~Lot.id.in_(
                sa.select(LotOrganisation.lot_id).join(Organisation).where(Organisation.siret == "13000511900032")
            ),
        )
    )
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in closed:
            url = re.sub(r"<[^>]+>", "csv", rule.rule) + f"?id={victim_lot.id}"
            for method in sorted(rule.methods & {"GET", "POST"}):
                walked.add(rule.endpoint)
                data = {
                    "csrf_token": token,
                    "id": str(victim_lot.id),
                    "decision": "accord",
                    "rowid": str(victim_lot.id),
                }
                response = client.open(url, method=method, data=data if method == "POST" else None)
                assert response.status_code == 403, (method, url, response.status_code)
    # …and "Formations publiques" neither shows nor creates from a lot of which the user is not a member.
    walked.add("formations_publiques.index")
    page = client.get(f"/admin/formations_publiques/?lot_id={victim_lot.id}").get_data(as_text=True)
    assert victim_lot.code not in page
    cariforef = db.session.scalar(sa.select(Organisation).where(Organisation.siret == "13000511900032"))
    response = client.post(
        f"/admin/formations_publiques/?lot_id={victim_lot.id}",
        data={
            "csrf_token": token,
            "programme_id": str(victim_lot.programme_id),
            "lot_id": str(victim_lot.id),
            "mandataire_id": str(victim["organisation"].id),
            "site_id": str(cariforef.sites[0].id),
        },
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(ProgrammeAction).where(ProgrammeAction.lot_id == victim_lot.id)) is None

    # Lists, exports and the dashboard show nothing of the victim.
    victim_titles = {
        f.intitule
        for f in db.session.scalars(sa.select(Formation).where(Formation.organisation_id == victim["organisation"].id))
    }
    for name in MODELS:
        for url, endpoint in (
            (f"/admin/{name}/", "index_view"),
            (f"/admin/{name}/export/csv/", "export"),
            (f"/admin/{name}/export/xlsx/", "export"),
            (f"/admin/{name}/new/", "create_view"),
        ):
            walked.add(f"{name}.{endpoint}")
            response = client.get(url)
            body = response.get_data(as_text=True) if url.endswith("csv/") or "export" not in url else ""
            assert "ATLANTIQUE" not in body, url
            assert not any(title in body for title in victim_titles), url
    dashboard = text(client.get("/admin/"))
    walked.add("admin.index")
    assert "ATLANTIQUE" not in dashboard

    assert _fingerprint(victim["organisation"].id) == before

    admin_endpoints = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin/")
        and not rule.endpoint.endswith(".static")
        and rule.endpoint.split(".")[0] not in REFERENCE_ENDPOINTS | {"users", "key_requests", "outbox"}
    }
    assert admin_endpoints <= walked, sorted(admin_endpoints - walked)


def test_relation_drop_downs_list_only_the_users_own_records(client, demo, session):
    login(client, ATTACKER)
    cariforef = session.scalar(sa.select(Organisation).where(Organisation.siret == "13000511900032"))
    action = session.scalar(sa.select(Action).where(Action.organisation_id == cariforef.id))
    page = text(client.get(f"/admin/sessions/new/?action_id={action.id}"))
    site_ids = set(
        re.findall(
            r'<option[^>]*value="(\d+)"', re.search(r'<select[^>]*name="site_id".*?</select>', page, re.S).group(0)
        )
    )
    assert site_ids == {str(site.id) for site in cariforef.sites}
    contacts = re.search(r'<select[^>]*name="referent_pmr_id".*?</select>', page, re.S).group(0)
    assert "ATLANTIQUE" not in contacts and "MAINE" not in contacts
    porte_ouverte_form = text(client.get("/admin/portes_ouvertes/new/"))
    assert "Saint-Nazaire" not in porte_ouverte_form and "Angers" not in porte_ouverte_form


def test_dispositifs_needing_an_agreement_are_offered_only_with_it(client, demo, session):
    login(client, "maine@demo.sofi.fr")  # Maine Santé Formation has no conventionnement
    maine = session.scalar(sa.select(Organisation).where(Organisation.siret == "72198765900019"))
    training_session = session.scalar(
        sa.select(SessionFormation).join(Action).where(Action.organisation_id == maine.id)
    )
    page = text(client.get(f"/admin/dispositifs/new/?session_id={training_session.id}"))
    options = re.search(r'<select[^>]*name="dispositif_code".*?</select>', page, re.S).group(0)
    assert "PROGRAMME REGION" not in options
    assert "Agefiph" not in options
    assert "Contrat d'apprentissage" in options


def test_a_user_of_two_establishments_switches_between_them(client, demo, session):
    login(client, "atlantique@demo.sofi.fr")
    nantes, saint_nazaire = (
        session.scalar(sa.select(Organisation).where(Organisation.siret == siret))
        for siret in ("44123456400017", "44123456400025")
    )
    listing = text(client.get("/admin/actions/"))
    assert "Atlantique Compétences - Nantes" in text(client.get("/admin/"))
    nazaire_action = session.scalar(sa.select(Action).where(Action.organisation_id == saint_nazaire.id))
    assert client.get(f"/admin/actions/edit/?id={nazaire_action.id}").status_code == 404
    token = csrf_token(client, "/admin/")
    response = client.post("/organisation", data={"csrf_token": token, "organisation_id": str(saint_nazaire.id)})
    assert response.status_code == 302
    assert client.get(f"/admin/actions/edit/?id={nazaire_action.id}").status_code == 200
    assert listing != text(client.get("/admin/actions/"))
    foreign = session.scalar(sa.select(Organisation).where(Organisation.siret == "13000511900032"))
    client.post("/organisation", data={"csrf_token": token, "organisation_id": str(foreign.id)})
    assert client.get(f"/admin/actions/edit/?id={nazaire_action.id}").status_code == 200
    assert nantes.id != saint_nazaire.id
