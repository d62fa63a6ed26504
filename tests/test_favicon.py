"""Browsers ask every site for ``/favicon.ico``: SOFI answers its icon, and its pages link it."""

import lxml.html

from models import Role
from tests.helpers_auth import attempt_login, make_user


def icon_links(html: str) -> list[str]:
    """The addresses of the icons a page declares (``<link rel="icon">``)."""
    return lxml.html.document_fromstring(html).xpath('//head/link[@rel="icon"]/@href')


def test_favicon_answers_the_sofi_icon_with_a_long_cache(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    assert response.cache_control.max_age >= 7 * 24 * 3600


def test_catalogue_home_links_the_icon_it_can_load(client):
    links = icon_links(client.get("/").get_data(as_text=True))
    assert len(links) == 1
    icon = client.get(links[0])
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    assert icon.data == client.get("/favicon.ico").data


def test_back_office_pages_link_the_icon(client):
    assert len(icon_links(client.get("/login").get_data(as_text=True))) == 1
    make_user(email="admin@example.org", role=Role.ADMINISTRATOR)
    assert attempt_login(client, "admin@example.org").status_code == 302
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert len(icon_links(dashboard.get_data(as_text=True))) == 1
