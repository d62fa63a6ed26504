"""Writing through the API: versions, dry runs, recruitment updates of published sessions,
submission, rate limits and CORS."""

import uuid

import pytest
import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    AuditEvent,
    Formation,
    Organisation,
    PublishedAction,
    PublishedSession,
    SessionDispositif,
    Site,
    db,
)
from sofi.services.errors import DomainError
from sofi.services.recruitment import update_recruitment
from tests.catalogue_support import bearer, fas, public_sessions, token_for
from tests.web import text

NANTES = "44123456400017"
CARIFOREF = "13000511900032"


@pytest.fixture
def nantes_token(app, demo):
    return token_for(app, "atlantique@demo.sofi.fr", NANTES, name="ERP Nantes")


@pytest.fixture
def cariforef_token(app, demo):
    return token_for(app, "cariforef@demo.sofi.fr", CARIFOREF, name="ERP Cariforef")


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _published_session(siret: str, dispositifs: int = 1):
    return next(
        s
        for s in public_sessions()
        if s.action.organisation.siret == siret and len(s.dispositifs) == dispositifs and s.etat_recrutement == "1"
    )


def test_dry_run_checks_without_writing_anything(client, nantes_token):
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == NANTES))
    formation = db.session.scalar(sa.select(Formation).where(Formation.organisation_id == organisation.id))
    site = db.session.scalar(sa.select(Site).where(Site.organisation_id == organisation.id))
    actions, events = _count(Action), _count(AuditEvent)
    body = {"formation_id": formation.id, "site_id": site.id, "url_action": "pas une adresse"}
    refused = client.post("/api/v1/offre/actions?dry_run=1", json=body, headers=bearer(nantes_token))
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "valeur_invalide" and error["field"] == "url_action" and "URL" in error["message"]
    body["url_action"] = "https://atlantique-competences.example/api"
    accepted = client.post("/api/v1/offre/actions?dry_run=1", json=body, headers=bearer(nantes_token))
    assert accepted.status_code == 200 and accepted.get_json()["dry_run"] is True
    assert (_count(Action), _count(AuditEvent)) == (actions, events)


def test_updates_need_the_current_version(client, cariforef_token):
    nantes_token = cariforef_token
    session = _published_session(CARIFOREF)
    url = f"/api/v1/offre/sessions/{session.id}"
    current = client.get(url, headers=bearer(nantes_token))
    etag = current.headers["ETag"]
    assert etag == f'"{session.version}"'
    missing = client.patch(url, json={"duree_hebdo": 35}, headers=bearer(nantes_token))
    assert missing.status_code == 428 and missing.get_json()["error"]["code"] == "version_requise"
    done = client.patch(url, json={"duree_hebdo": 35}, headers={**bearer(nantes_token), "If-Match": etag})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.headers["ETag"] != etag
    again = client.patch(url, json={"duree_hebdo": 30}, headers={**bearer(nantes_token), "If-Match": etag})
    assert again.status_code == 412 and again.get_json()["error"]["code"] == "version_perimee"
    db.session.expire_all()
    assert float(session.duree_hebdo) == 35


def test_editing_a_published_action_opens_a_revision_and_the_public_keeps_the_approved_version(client, nantes_token):
    action = next(s.action for s in public_sessions() if s.action.organisation.siret == NANTES)
    published_plus = db.session.get(PublishedAction, action.id).data["action"]["plus_formation"]
    url = f"/api/v1/offre/actions/{action.id}"
    response = client.patch(
        url,
        json={"plus_formation": "Nouveau plus."},
        headers={**bearer(nantes_token), "If-Match": f'"{action.version}"'},
    )
    assert response.status_code == 200 and response.get_json()["status"] == "en_cours_de_saisie"
    page = text(client.get(f"/formations/{action.formation_id}"))
    assert "Nouveau plus." not in page and published_plus in page
    submitted = client.post(f"{url}/soumission", headers={**bearer(nantes_token), "If-Match": response.headers["ETag"]})
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    assert submitted.get_json()["status"] == "en_attente_validation"
    db.session.expire_all()
    assert action.status is ActionStatus.EN_ATTENTE_VALIDATION
    transition = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.operation == "transition", AuditEvent.action_id == action.id)
    )
    assert transition.actor_label == "jeton API ERP Nantes" and transition.source == "api"


def test_an_incomplete_draft_cannot_be_submitted_and_says_why(client, nantes_token):
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == NANTES))
    formation = db.session.scalar(sa.select(Formation).where(Formation.organisation_id == organisation.id))
    created = client.post(
        "/api/v1/offre/actions",
        json={"formation_id": formation.id, "site_id": organisation.sites[0].id},
        headers=bearer(nantes_token),
    ).get_json()
    headers = {**bearer(nantes_token), "If-Match": f'"{created["version"]}"'}
    dry = client.post(f"/api/v1/offre/actions/{created['id']}/soumission?dry_run=1", headers=headers).get_json()
    assert dry["would_submit"] is False and dry["problems"]
    refused = client.post(f"/api/v1/offre/actions/{created['id']}/soumission", headers=headers)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "soumission_impossible" and error["details"]
    assert all(d["code"] and d["message"] for d in error["details"])
    assert db.session.get(Action, created["id"]).status is ActionStatus.EN_COURS_DE_SAISIE


def test_recruitment_update_reaches_the_published_version_at_once(client, cariforef_token):
    nantes_token = cariforef_token
    session = _published_session(CARIFOREF)
    dispositif = session.dispositifs[0]
    action = session.action
    response = client.put(
        f"/api/v1/offre/sessions/{session.id}/recrutement",
        json={"etat_recrutement": "3", "places_restantes": 2},
        headers={**bearer(nantes_token), "If-Match": f'"{session.version}"'},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["publiee"] is True
    db.session.expire_all()
    assert session.etat_recrutement == "3" and dispositif.nb_places_restantes == 2
    assert action.status is ActionStatus.PUBLIEE  # no review needed for these two fields
    row = db.session.get(PublishedSession, session.id)
    assert (row.etat_recrutement, row.places_restantes) == ("3", 2)
    snapshot = next(s for s in db.session.get(PublishedAction, action.id).data["sessions"] if s["id"] == session.id)
    assert snapshot["etat_recrutement"] == "3" and snapshot["dispositifs"][0]["nb_places_restantes"] == 2
    public = client.get(f"/api/v1/sessions/{fas(session)}").get_json()["session"]
    assert public["etat_recrutement"] == "3" and public["dispositifs"][0]["nb_places_restantes"] == 2
    listed = client.get("/api/v1/formations?recrutement_ouvert=oui&limite=100").get_json()["items"]
    assert fas(session) not in {i["fas_code"] for i in listed}
    notes = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.operation == "recrutement")).all()
    assert len(notes) == 1 and notes[0].actor_label == "jeton API ERP Cariforef"
    assert notes[0].before["etat_recrutement"] == "1" and notes[0].after["etat_recrutement"] == "3"
    updates = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.operation == "update", AuditEvent.table_name == "session_dispositif")
    ).all()
    assert any(e.after.get("nb_places_restantes") == 2 and e.source == "api" for e in updates)


def test_recruitment_places_are_checked(client, cariforef_token):
    nantes_token = cariforef_token
    session = _published_session(CARIFOREF)
    too_many = session.dispositifs[0].nb_places + 1
    response = client.put(
        f"/api/v1/offre/sessions/{session.id}/recrutement",
        json={"places_restantes": too_many},
        headers={**bearer(nantes_token), "If-Match": f'"{session.version}"'},
    )
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "places_restantes"
    db.session.expire_all()
    assert db.session.get(PublishedSession, session.id).places_restantes != too_many


def test_update_recruitment_service_for_a_session_with_two_dispositifs(demo):
    session = next(s for s in public_sessions() if len(s.dispositifs) == 2)
    codes = [d.dispositif_code for d in session.dispositifs]
    with pytest.raises(DomainError):
        update_recruitment(None, session, None, 1)  # which dispositif? it must be said
    assert update_recruitment(None, session, "2", {codes[0]: 0, codes[1]: 1}) is True
    db.session.expire_all()
    row = db.session.get(PublishedSession, session.id)
    assert (row.etat_recrutement, row.places_restantes) == ("2", 1)
    stored = {
        d.dispositif_code: d.nb_places_restantes
        for d in db.session.scalars(sa.select(SessionDispositif).where(SessionDispositif.session_id == session.id))
    }
    assert stored == {codes[0]: 0, codes[1]: 1}


def test_public_reads_are_rate_limited(app, client, demo):
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    saved = app.config["SOFI_API_RATE_LIMIT"]
    app.config["SOFI_API_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [client.get("/api/v1/niveaux", environ_base={"REMOTE_ADDR": address}) for _ in range(4)]
    finally:
        app.config["SOFI_API_RATE_LIMIT"] = saved
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"]["code"] == "trop_de_requetes"
    assert "Retry-After" in answers[-1].headers
    assert client.get("/formations", environ_base={"REMOTE_ADDR": address}).status_code == 200  # pages are not limited


def test_cors_is_open_for_reads_only(client, nantes_token):
    read = client.get("/api/v1/formations", headers={"Origin": "https://exemple.org"})
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/v1/formations", headers={"Origin": "https://exemple.org"})
    assert preflight.status_code == 200 and "GET" in preflight.headers["Access-Control-Allow-Methods"]
    write = client.get("/api/v1/offre/actions", headers={**bearer(nantes_token), "Origin": "https://exemple.org"})
    assert write.status_code == 200 and "Access-Control-Allow-Origin" not in write.headers
