"""API tokens: managed by the organisation in its workspace, refused when revoked or expired, confined
to their establishment; a draft written with a token is the organisation's, audited, and nobody else's."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from models import Action, ApiToken, AuditEvent, Formation, Organisation, SessionFormation, Site, db
from tests.catalogue_support import bearer, public_sessions, token_for
from tests.web import csrf_token, login, logout, post_form, text

TOKENS_URL = "/admin/api_tokens/"


def _organisation(siret: str) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.siret == siret))


def _create_in_workspace(client, name: str, expires_on: str = "") -> str:
    response = post_form(client, TOKENS_URL, {"name": name, "expires_on": expires_on})
    assert response.status_code == 200
    match = re.search(r'value="(sofi_[A-Za-z0-9_\-]+)"', response.get_data(as_text=True))
    assert match, text(response)[:3000]
    return match.group(1)


def _new_draft(client, secret: str, siret: str = "44123456400017", **fields):
    organisation = _organisation(siret)
    formation = db.session.scalar(sa.select(Formation).where(Formation.organisation_id == organisation.id))
    site = db.session.scalar(sa.select(Site).where(Site.organisation_id == organisation.id))
    body = {"formation_id": formation.id, "site_id": site.id, "complement_intitule": "Parcours par API", **fields}
    return client.post("/api/v1/offre/actions", json=body, headers=bearer(secret))


def test_the_workspace_creates_a_token_shows_it_once_and_keeps_only_its_hash(client, demo):
    login(client, "atlantique@demo.sofi.fr")
    secret = _create_in_workspace(client, "Logiciel inscriptions", "2099-12-31")
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Logiciel inscriptions"))
    assert token.organisation.siret == "44123456400017"  # the establishment the user works on
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([getattr(token, c.key) for c in sa.inspect(ApiToken).columns])
    expires_at = token.expires_at if token.expires_at.tzinfo else token.expires_at.replace(tzinfo=UTC)
    assert expires_at == datetime(2100, 1, 1, tzinfo=UTC)  # valid through the chosen day
    listing = client.get(TOKENS_URL).get_data(as_text=True)
    assert "Logiciel inscriptions" in listing and token.prefix in listing and secret not in listing
    assert client.get("/api/v1/offre/actions", headers=bearer(secret)).status_code == 200
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.table_name == "api_token")) is not None


def test_the_token_screen_is_a_csrf_protected_form_for_organisation_users(client, demo):
    assert client.get(TOKENS_URL).status_code == 302  # to the login page
    login(client, "atlantique@demo.sofi.fr")
    response = client.post(TOKENS_URL, data={"name": "Sans jeton CSRF"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    logout(client)
    login(client, "valideur@demo.sofi.fr")
    assert client.get(TOKENS_URL).status_code == 403


def test_a_token_lists_only_its_own_establishment(client, demo):
    login(client, "atlantique@demo.sofi.fr")
    _create_in_workspace(client, "Jeton de Nantes")
    logout(client)
    login(client, "maine@demo.sofi.fr")
    assert "Jeton de Nantes" not in text(client.get(TOKENS_URL))
    other = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Jeton de Nantes"))
    response = client.post(
        TOKENS_URL + "revoke/", data={"csrf_token": csrf_token(client, TOKENS_URL), "token_id": str(other.id)}
    )
    assert response.status_code == 302
    db.session.refresh(other)
    assert other.revoked_at is None


def test_a_revoked_token_is_refused(client, demo):
    login(client, "atlantique@demo.sofi.fr")
    secret = _create_in_workspace(client, "À révoquer")
    assert client.get("/api/v1/offre/actions", headers=bearer(secret)).status_code == 200
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "À révoquer"))
    response = post_form(client, TOKENS_URL + "revoke/", {"token_id": str(token.id)}, form_url=TOKENS_URL)
    assert response.status_code == 302
    refused = client.get("/api/v1/offre/actions", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "jeton_revoque"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert _new_draft(client, secret).status_code == 401
    assert "Révoqué" in text(client.get(TOKENS_URL))


def test_an_expired_token_is_refused(app, client, demo):
    secret = token_for(app, "maine@demo.sofi.fr", name="Jeton daté")
    assert client.get("/api/v1/offre/actions", headers=bearer(secret)).status_code == 200
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Jeton daté"))
    token.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    response = client.get("/api/v1/offre/actions", headers=bearer(secret))
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "jeton_expire"
    login(client, "maine@demo.sofi.fr")
    assert "Expiré" in text(client.get(TOKENS_URL))
    past = post_form(client, TOKENS_URL, {"name": "Déjà expiré", "expires_on": "2000-01-01"})
    assert "déjà passée" in text(past)
    assert db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Déjà expiré")) is None


def test_missing_or_unknown_tokens_are_refused(client, demo):
    cases = {
        None: "jeton_absent",
        "Basic dXNlcjpwYXNz": "jeton_absent",
        "Bearer sofi_inconnu": "jeton_invalide",
    }
    for header, code in cases.items():
        headers = {"Authorization": header} if header else {}
        response = client.get("/api/v1/offre/actions", headers=headers)
        assert response.status_code == 401 and response.get_json()["error"]["code"] == code


def test_a_draft_created_with_a_token_is_the_organisations_audited_and_nobody_elses(app, client, demo):
    secret = token_for(app, "atlantique@demo.sofi.fr", "44123456400017", name="ERP Atlantique")
    response = _new_draft(client, secret)
    assert response.status_code == 201, response.get_data(as_text=True)
    action = db.session.get(Action, response.get_json()["id"])
    assert action.organisation.siret == "44123456400017"
    assert action.status.value == "en_cours_de_saisie"
    assert response.headers["ETag"] == f'"{action.version}"'

    created = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.table_name == "action", AuditEvent.operation == "create")
    ).all()
    event = next(e for e in created if (e.after or {}).get("id") == action.id)
    assert event.actor_label == "jeton API ERP Atlantique" and event.source == "api" and event.actor_id is None
    assert event.organisation_id == action.organisation_id
    assert event.after["complement_intitule"] == "Parcours par API"

    login(client, "atlantique@demo.sofi.fr")
    recap = client.get(f"/admin/actions/recap/?id={action.id}")
    assert recap.status_code == 200 and "Parcours par API" in text(recap)
    assert "Parcours par API" in text(client.get("/admin/actions/"))
    logout(client)

    login(client, "maine@demo.sofi.fr")
    assert client.get(f"/admin/actions/recap/?id={action.id}").status_code == 404
    assert "Parcours par API" not in text(client.get("/admin/actions/"))
    logout(client)
    other = token_for(app, "maine@demo.sofi.fr", name="ERP Maine")
    assert client.get(f"/api/v1/offre/actions/{action.id}", headers=bearer(other)).status_code == 404
    assert all(
        a["id"] != action.id for a in client.get("/api/v1/offre/actions", headers=bearer(other)).get_json()["items"]
    )
    assert client.get("/api/v1/formations?q=parcours+api").get_json()["total"] == 0  # a draft is not public


def test_a_token_of_one_organisation_cannot_touch_anothers_records(app, client, demo):
    maine = token_for(app, "maine@demo.sofi.fr", name="ERP Maine")
    atlantique = _organisation("44123456400017")
    action = db.session.scalar(sa.select(Action).where(Action.organisation_id == atlantique.id))
    session = db.session.scalar(sa.select(SessionFormation).where(SessionFormation.action_id == action.id))
    dispositif = session.dispositifs[0]
    before = (action.version, session.version, dispositif.version, session.etat_recrutement)
    auth = bearer(maine)
    attempts = [
        ("get", f"/api/v1/offre/actions/{action.id}", None, {}),
        ("patch", f"/api/v1/offre/actions/{action.id}", {"objectifs": "Piraté"}, {"If-Match": f'"{action.version}"'}),
        (
            "post",
            f"/api/v1/offre/actions/{action.id}/sessions",
            {"date_debut": "2027-01-01", "date_fin": "2027-02-01"},
            {},
        ),
        ("post", f"/api/v1/offre/actions/{action.id}/soumission", None, {"If-Match": f'"{action.version}"'}),
        ("get", f"/api/v1/offre/sessions/{session.id}", None, {}),
        ("patch", f"/api/v1/offre/sessions/{session.id}", {"duree_centre": 1}, {"If-Match": f'"{session.version}"'}),
        (
            "put",
            f"/api/v1/offre/sessions/{session.id}/recrutement",
            {"etat_recrutement": "3"},
            {"If-Match": f'"{session.version}"'},
        ),
        ("post", f"/api/v1/offre/sessions/{session.id}/dispositifs", {"dispositif_code": 8, "nb_places": 2}, {}),
        ("get", f"/api/v1/offre/dispositifs/{dispositif.id}", None, {}),
        (
            "patch",
            f"/api/v1/offre/dispositifs/{dispositif.id}",
            {"nb_places": 99},
            {"If-Match": f'"{dispositif.version}"'},
        ),
    ]
    for method, url, body, headers in attempts:
        response = getattr(client, method)(url, json=body, headers={**auth, **headers})
        assert response.status_code == 404, (method, url, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"] == "introuvable"
    # Nor can it borrow another organisation's formation or site for its own action.
    maine_site = db.session.scalar(sa.select(Site).join(Organisation).where(Organisation.siret == "72198765900019"))
    borrowed = client.post(
        "/api/v1/offre/actions", json={"formation_id": action.formation_id, "site_id": maine_site.id}, headers=auth
    )
    assert borrowed.status_code == 422 and borrowed.get_json()["error"]["field"] == "formation_id"
    maine_formation = db.session.scalar(
        sa.select(Formation).join(Organisation).where(Organisation.siret == "72198765900019")
    )
    atlantique_site = atlantique.sites[0]
    borrowed_site = client.post(
        "/api/v1/offre/actions", json={"formation_id": maine_formation.id, "site_id": atlantique_site.id}, headers=auth
    )
    assert borrowed_site.status_code == 422 and borrowed_site.get_json()["error"]["field"] == "site_id"
    db.session.expire_all()
    assert (action.version, session.version, dispositif.version, session.etat_recrutement) == before


def test_a_token_acts_for_one_establishment_only(app, client, demo):
    nantes = token_for(app, "atlantique@demo.sofi.fr", "44123456400017", name="Nantes")
    saint_nazaire = _organisation("44123456400025")
    action = db.session.scalar(sa.select(Action).where(Action.organisation_id == saint_nazaire.id))
    assert client.get(f"/api/v1/offre/actions/{action.id}", headers=bearer(nantes)).status_code == 404
    mine = client.get("/api/v1/offre/actions", headers=bearer(nantes)).get_json()["items"]
    assert mine and {a["organisation_siret"] for a in mine} == {"44123456400017"}
    assert public_sessions()  # the demo data is loaded
