"""The API answers as its own OpenAPI document says: every endpoint, success and error answers.

Each answer is validated (openapi-schema-validator, JSON Schema 2020-12) against the schema
the document gives for its path, method and status code.
"""

import re

import pytest
import sqlalchemy as sa
from openapi_schema_validator import OAS31Validator

from models import Action, ActionStatus, Formation, Organisation, SessionFormation, Site, db
from tests.catalogue_support import bearer, fas, public_sessions, token_for


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    for name, schema in document["components"]["schemas"].items():
        OAS31Validator.check_schema(schema), name
    return document


class Checker:
    """Validates answers against the document and remembers which operations were exercised."""

    def __init__(self, spec):
        self.spec = spec
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, response, method: str, template: str, status: int | None = None):
        if status is not None:
            assert response.status_code == status, (template, response.status_code, response.get_data(as_text=True))
        operation = self.spec["paths"][template][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method.upper()} {template} answered {response.status_code}, not documented"
        schema = documented["content"]["application/json"]["schema"]
        OAS31Validator({**schema, "components": self.spec["components"]}).validate(response.get_json())
        assert response.mimetype == "application/json"
        self.seen.add((method, template))
        return response.get_json()

    def operations(self, prefix_filter) -> set[tuple[str, str]]:
        return {(method, path) for path, item in self.spec["paths"].items() for method in item if prefix_filter(path)}


def _normalise(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "{}", rule.removeprefix("/api/v1"))


def test_every_route_of_the_api_is_documented(app, spec):
    routes = {
        (method.lower(), _normalise(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.rule != "/api/v1/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (method, re.sub(r"\{[a-z_]+\}", "{}", path))
        for path, item in spec["paths"].items()
        for method in item
        if "lheo" not in path  # the LHÉO endpoints (XML) belong to another blueprint, documented here too
    }
    assert routes == documented


def test_read_endpoints_answer_as_documented(client, demo, spec):
    check = Checker(spec)
    session = public_sessions()[0]
    formation_id = session.action.formation_id
    body = check(client.get("/api/v1/formations?limite=2"), "get", "/formations", 200)
    assert body["items"] and body["next_cursor"]
    check(client.get(body["links"]["next"]), "get", "/formations", 200)
    check(client.get("/api/v1/formations?q=soignant&commune=44109&rayon=50&tri=distance"), "get", "/formations", 200)
    check(client.get("/api/v1/formations?commune=72181&rayon=5&cpf=non&facettes=non"), "get", "/formations", 200)
    check(client.get("/api/v1/formations?rayon=abc"), "get", "/formations", 400)
    check(client.get(f"/api/v1/formations/{formation_id}"), "get", "/formations/{id}", 200)
    check(client.get("/api/v1/formations/999999"), "get", "/formations/{id}", 404)
    check(client.get(f"/api/v1/sessions/{fas(session)}"), "get", "/sessions/{fas}", 200)
    check(client.get("/api/v1/sessions/1-2-3456789"), "get", "/sessions/{fas}", 404)
    siret = session.action.organisation.siret
    check(client.get(f"/api/v1/organisations/{siret}"), "get", "/organisations/{siret}", 200)
    check(client.get("/api/v1/organisations/00000000000000"), "get", "/organisations/{siret}", 404)
    formacodes = check(client.get("/api/v1/formacodes?limite=5"), "get", "/formacodes", 200)
    assert len(formacodes["items"]) == 5 and formacodes["next_cursor"]
    check(client.get("/api/v1/formacodes?racines=oui&q=sante"), "get", "/formacodes", 200)
    check(client.get("/api/v1/formacodes?limite=0"), "get", "/formacodes", 400)
    check(client.get("/api/v1/dispositifs"), "get", "/dispositifs", 200)
    check(client.get("/api/v1/publics"), "get", "/publics", 200)
    check(client.get("/api/v1/niveaux"), "get", "/niveaux", 200)
    communes = check(client.get("/api/v1/communes?code_postal=44000"), "get", "/communes", 200)
    assert [c["code_insee"] for c in communes["items"]] == ["44109"] and communes["items"][0]["latitude"]
    check(client.get("/api/v1/communes?departement=53&limite=3"), "get", "/communes", 200)
    assert check.operations(lambda path: not path.startswith("/offre") and "lheo" not in path) <= check.seen


def test_write_endpoints_answer_as_documented(app, client, demo, spec):
    check = Checker(spec)
    secret = token_for(app, "atlantique@demo.sofi.fr", "44123456400017")
    auth = bearer(secret)
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == "44123456400017"))
    formation = db.session.scalar(
        sa.select(Formation).where(Formation.organisation_id == organisation.id, Formation.intitule.like("%web%"))
    )
    site = db.session.scalar(sa.select(Site).where(Site.organisation_id == organisation.id))

    check(client.get("/api/v1/offre/actions"), "get", "/offre/actions", 401)
    listed = check(client.get("/api/v1/offre/actions", headers=auth), "get", "/offre/actions", 200)
    assert listed["items"] and all(a["organisation_siret"] == organisation.siret for a in listed["items"])

    new_action = {"formation_id": formation.id, "site_id": site.id, "complement_intitule": "Parcours API"}
    dry = check(
        client.post("/api/v1/offre/actions?dry_run=1", json=new_action, headers=auth), "post", "/offre/actions", 200
    )
    assert dry["dry_run"] is True and dry["record"]["id"] is None
    created = check(client.post("/api/v1/offre/actions", json=new_action, headers=auth), "post", "/offre/actions", 201)
    action_url = f"/api/v1/offre/actions/{created['id']}"
    check(client.post("/api/v1/offre/actions", json={"site_id": site.id}, headers=auth), "post", "/offre/actions", 422)
    response = check(client.get(action_url, headers=auth), "get", "/offre/actions/{id}", 200)
    assert response["version"] == created["version"]

    patch = {"objectifs": "Devenir développeur web."}
    check(client.patch(action_url, json=patch, headers=auth), "patch", "/offre/actions/{id}", 428)
    stale = {**auth, "If-Match": '"999"'}
    check(client.patch(action_url, json=patch, headers=stale), "patch", "/offre/actions/{id}", 412)
    current = {**auth, "If-Match": f'"{created["version"]}"'}
    check(client.patch(action_url, json={"couleur": "bleu"}, headers=current), "patch", "/offre/actions/{id}", 422)
    updated = check(client.patch(action_url, json=patch, headers=current), "patch", "/offre/actions/{id}", 200)
    assert updated["objectifs"] == patch["objectifs"] and updated["version"] == created["version"] + 1

    session_body = {"date_debut": "2027-09-06", "date_fin": "2028-06-30", "duree_centre": 600}
    sessions_url = f"{action_url}/sessions"
    check(
        client.post(sessions_url, json={"date_debut": "2027-09-06"}, headers=auth),
        "post",
        "/offre/actions/{id}/sessions",
        422,
    )
    new_session = check(
        client.post(sessions_url, json=session_body, headers=auth), "post", "/offre/actions/{id}/sessions", 201
    )
    session_url = f"/api/v1/offre/sessions/{new_session['id']}"
    check(client.get(session_url, headers=auth), "get", "/offre/sessions/{id}", 200)
    bad_dates = {"date_fin": "2020-01-01"}
    session_version = {**auth, "If-Match": f'"{new_session["version"]}"'}
    check(client.patch(session_url, json=bad_dates, headers=session_version), "patch", "/offre/sessions/{id}", 422)
    check(
        client.patch(session_url, json={"duree_centre": 650}, headers=session_version),
        "patch",
        "/offre/sessions/{id}",
        200,
    )

    dispositifs_url = f"{session_url}/dispositifs"
    new_dispositif = check(
        client.post(dispositifs_url, json={"dispositif_code": 12, "nb_places": 8, "frais_ht": 7900}, headers=auth),
        "post",
        "/offre/sessions/{id}/dispositifs",
        201,
    )
    dispositif_url = f"/api/v1/offre/dispositifs/{new_dispositif['id']}"
    check(client.get(dispositif_url, headers=auth), "get", "/offre/dispositifs/{id}", 200)
    check(
        client.patch(
            dispositif_url, json={"nb_places": 10}, headers={**auth, "If-Match": f'"{new_dispositif["version"]}"'}
        ),
        "patch",
        "/offre/dispositifs/{id}",
        200,
    )

    published = next(
        s for s in public_sessions() if s.action.organisation_id == organisation.id and len(s.dispositifs) == 1
    )
    recruitment_url = f"/api/v1/offre/sessions/{published.id}/recrutement"
    version = {**auth, "If-Match": f'"{published.version}"'}
    check(
        client.put(recruitment_url, json={"etat_recrutement": "9"}, headers=version),
        "put",
        "/offre/sessions/{id}/recrutement",
        422,
    )
    check(
        client.put(recruitment_url, json={"etat_recrutement": "1", "places_restantes": 3}, headers=version),
        "put",
        "/offre/sessions/{id}/recrutement",
        200,
    )

    submit_url = f"{action_url}/soumission"
    action = db.session.get(Action, created["id"])
    db.session.refresh(action)
    submit_version = {**auth, "If-Match": f'"{action.version}"'}
    check(client.post(f"{submit_url}?dry_run=1", headers=submit_version), "post", "/offre/actions/{id}/soumission", 200)
    answer = client.post(submit_url, headers=submit_version)
    check(answer, "post", "/offre/actions/{id}/soumission")
    assert answer.status_code in (200, 422)

    other = db.session.scalar(sa.select(SessionFormation).join(Action).where(Action.organisation_id != organisation.id))
    check(client.get(f"/api/v1/offre/sessions/{other.id}", headers=auth), "get", "/offre/sessions/{id}", 404)
    assert check.operations(lambda path: path.startswith("/offre")) <= check.seen
    assert db.session.get(Action, created["id"]).status in (
        ActionStatus.EN_COURS_DE_SAISIE,
        ActionStatus.EN_ATTENTE_VALIDATION,
    )
