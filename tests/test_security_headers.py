"""Every response carries the security headers (sofi/security_headers.py): pages of each part of the
app, the JSON API (which keeps its CORS headers), error pages and static files; HSTS in production only."""

import pytest
import sqlalchemy as sa

from models import Action, ActionStatus
from sofi import create_app
from sofi.config import build_config
from tests.web import login

EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
    ),
}


def assert_secured(response, url):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (url, name, response.headers.get(name))
    assert "Strict-Transport-Security" not in response.headers, url


def test_every_kind_of_response_carries_the_security_headers(client, demo, session):
    action = session.scalar(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE).order_by(Action.id))
    public = {
        "/": 200,
        f"/formations/{action.formation_id}": 200,
        "/login": 200,
        "/activation/demande": 200,
        "/api/v1/formations": 200,
        "/api/v1/nulle-part": 404,
        "/nulle-part": 404,
        "/static/sofi.js": 200,
        "/admin/static/bootstrap/bootstrap4/js/bootstrap.min.js": 200,
        "/healthz": 200,
    }
    for url, status in public.items():
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        assert_secured(response, url)
    api = client.get("/api/v1/formations")
    assert api.headers["Access-Control-Allow-Origin"] == "*"
    assert api.mimetype == "application/json"
    # A form sent without its CSRF token: the French refusal page is secured too.
    refused = client.post("/login", data={"email": "x@example.org", "password": "x"})
    assert refused.status_code == 400
    assert_secured(refused, "POST /login sans jeton")

    login(client, "cariforef@demo.sofi.fr")
    own = session.scalar(sa.select(Action).where(Action.organisation.has(siret="13000511900032")).order_by(Action.id))
    for url, status in {
        "/admin/": 200,
        "/admin/actions/": 200,
        f"/admin/actions/edit/?id={own.id}": 200,
        f"/admin/sessions/details/?id={own.sessions[0].id}": 200,
        "/admin/actions/export/csv/": 200,
        "/admin/validation/": 403,
        "/admin/actions/edit/?id=999999999": 404,
    }.items():
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        assert_secured(response, url)


def test_server_errors_carry_the_security_headers(app, client, monkeypatch):
    """A crash inside a view answers the French 500 page, secured like the others."""

    def crash():
        raise RuntimeError("panne simulée")

    monkeypatch.setitem(app.view_functions, "catalogue.home", crash)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/")
    assert response.status_code == 500
    assert "Erreur du serveur" in response.get_data(as_text=True)
    assert_secured(response, "500")


@pytest.mark.parametrize("environment, expected", [("production", True), ("development", False), (None, False)])
def test_hsts_is_configured_for_production_only(environment, expected, monkeypatch, tmp_path):
    if environment:
        monkeypatch.setenv("SOFI_ENV", environment)
    else:
        monkeypatch.delenv("SOFI_ENV", raising=False)
    assert build_config(tmp_path)["SOFI_HSTS"] is expected


def test_production_sends_hsts_on_every_response(app, monkeypatch, tmp_path):
    monkeypatch.setenv("SOFI_ENV", "production")
    production = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True})
    with production.test_client() as client:
        for url in ("/login", "/static/sofi.js", "/nulle-part", "/api/v1/formations"):
            response = client.get(url)
            assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", url
            assert response.headers["Content-Security-Policy"] == EXPECTED["Content-Security-Policy"], url
