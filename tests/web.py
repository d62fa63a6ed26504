"""Helpers for tests that drive the app through HTTP, CSRF protection on."""

import re
from html import unescape

from sofi.services.demo import DEMO_PASSWORD

CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form served at ``url``."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str = DEMO_PASSWORD):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def post_form(client, url: str, data: dict, form_url: str | None = None, **kwargs):
    """POST ``data`` to ``url`` with the CSRF token read from ``form_url`` (default: ``url``)."""
    token = csrf_token(client, form_url or url)
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def logout(client):
    token = csrf_token(client, "/admin/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
