"""Every state-changing route of the app refuses a logged-in browser's request sent without the CSRF token.

The routes are read from the app's URL map (a new form, Flask-Admin action or ajax endpoint is
covered as soon as it exists). The JSON API is exempt from CSRF by design because it authenticates
by bearer token only: it must then refuse a request that carries nothing but the session cookie.
"""

import re

import pytest
import sqlalchemy as sa

from models import Action, Organisation, db
from tests.web import login, text

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
API_PREFIX = "api."
ROLES = ["cariforef@demo.sofi.fr", "admin@demo.sofi.fr"]


def state_changing_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, URL) of every route that accepts a state-changing method."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & STATE_CHANGING):
            routes.append((rule.endpoint, method, rule.rule))
    return sorted(routes)


def fill(rule: str, record_id: int) -> str:
    """The rule's URL with its variables replaced by a record of the logged-in user."""
    return re.sub(r"<(?:int:)?[^>]+>", str(record_id), rule)


def row_counts() -> dict[str, int]:
    """Rows of every table (the audit log included: every write is audited)."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.fixture
def own_action(demo, session) -> Action:
    return session.scalar(
        sa.select(Action).join(Organisation).where(Organisation.siret == "13000511900032").order_by(Action.id)
    )


def _payload(action: Action) -> dict:
    """What a forged form would send: real ids of the victim's records, a bulk action, a decision."""
    return {
        "id": str(action.id),
        "rowid": str(action.id),
        "action": "delete",
        "list_form_pk": str(action.id),
        "organisation_id": str(action.organisation_id),
        "intitule": "Formulaire forgé",
        "nom": "Formulaire forgé",
        "body": "Formulaire forgé",
        "reason": "Formulaire forgé",
        "decision": "accord",
        "email": "cariforef@demo.sofi.fr",
        "password": "demo-sofi-2026",
    }


def test_every_form_route_refuses_a_session_request_without_csrf_token(app, client, own_action):
    routes = [route for route in state_changing_routes(app) if not route[0].startswith(API_PREFIX)]
    assert len(routes) > 100  # every Flask-Admin view contributes create, edit, delete, action and ajax routes
    before = row_counts()
    for email in ROLES:
        login(client, email)
        for endpoint, method, rule in routes:
            response = client.open(fill(rule, own_action.id), method=method, data=_payload(own_action))
            assert response.status_code == 400, (email, endpoint, method, response.status_code)
            assert "Le jeton de sécurité du formulaire est absent" in text(response), endpoint
        # Still logged in (the logout route refused too), and nothing was written.
        assert client.get("/admin/").status_code == 200
        client.delete_cookie("session", domain="sofi.test")
    db.session.expire_all()
    assert row_counts() == before


def test_the_token_api_is_exempt_but_refuses_the_session_cookie(app, client, own_action):
    routes = [route for route in state_changing_routes(app) if route[0].startswith(API_PREFIX)]
    assert len(routes) >= 8
    login(client, "cariforef@demo.sofi.fr")
    before = row_counts()
    for endpoint, method, rule in routes:
        response = client.open(fill(rule, own_action.id), method=method, json={"intitule": "Requête forgée"})
        assert response.status_code == 401, (endpoint, method, response.status_code)
        assert response.get_json()["error"]["code"] == "jeton_absent", endpoint
    db.session.expire_all()
    assert row_counts() == before
