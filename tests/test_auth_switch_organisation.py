"""The SIRET switcher: a user of several establishments chooses the one they work on."""

import pytest

from sofi.permissions import CURRENT_ORGANISATION_KEY
from tests import factories
from tests.helpers_auth import attempt_login, location_path, make_user, post_with_token
from tests.web import text


@pytest.fixture
def establishments(session):
    built = [factories.organisation(siret=siret) for siret in ("44123456400017", "44123456400025", "72198765900019")]
    session.add_all(built)
    session.commit()
    return built


def _current(client):
    with client.session_transaction() as http_session:
        return http_session.get(CURRENT_ORGANISATION_KEY)


def test_a_member_switches_to_another_of_its_establishments(client, session, establishments):
    nantes, saint_nazaire, _ = establishments
    make_user(organisations=[nantes, saint_nazaire])
    attempt_login(client, "of@example.org")
    response = post_with_token(client, "/organisation", {"organisation_id": str(saint_nazaire.id)})
    assert response.status_code == 302 and location_path(response) == "/admin/"
    assert _current(client) == saint_nazaire.id
    response = post_with_token(client, "/organisation", {"organisation_id": str(nantes.id)})
    assert _current(client) == nantes.id


def test_an_establishment_of_another_organisation_is_refused(client, session, establishments):
    nantes, saint_nazaire, foreign = establishments
    make_user(organisations=[nantes, saint_nazaire])
    attempt_login(client, "of@example.org")
    post_with_token(client, "/organisation", {"organisation_id": str(saint_nazaire.id)})
    for value in (str(foreign.id), "999999", "abc", ""):
        response = post_with_token(client, "/organisation", {"organisation_id": value})
        assert response.status_code == 403
        assert "Vous n'êtes pas rattaché à cet établissement" in text(response)
        assert _current(client) == saint_nazaire.id


def test_the_switch_needs_a_post_with_its_csrf_token_and_a_login(client, session, establishments):
    nantes, saint_nazaire, _ = establishments
    response = post_with_token(client, "/organisation", {"organisation_id": str(nantes.id)})
    assert response.status_code == 302 and location_path(response) == "/login"
    make_user(organisations=[nantes, saint_nazaire])
    attempt_login(client, "of@example.org")
    assert client.get("/organisation").status_code == 405
    assert client.post("/organisation", data={"organisation_id": str(saint_nazaire.id)}).status_code == 400
    assert _current(client) is None
