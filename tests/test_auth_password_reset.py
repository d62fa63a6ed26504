"""Password reset: one answer for every e-mail, a single-use link valid one hour, stored hashed."""

import hashlib
from datetime import timedelta

import sqlalchemy as sa

from models import PasswordResetToken
from models.base import utcnow
from sofi.auth.views import RESET_REQUESTED
from sofi.services.accounts import INVALID_RESET_LINK
from tests.helpers_auth import (
    PASSWORD,
    attempt_login,
    link_path,
    location_path,
    make_user,
    outbox,
    post_with_token,
)
from tests.web import text

NEW_PASSWORD = "nouvelle phrase de passe"


def _request_reset(client, email):
    return post_with_token(client, "/mot-de-passe/oubli", {"email": email})


def _reset_link(client, email="of@example.org") -> str:
    _request_reset(client, email)
    messages = outbox(email)
    assert messages, "no e-mail sent"
    return link_path(messages[-1].body)


def test_the_answer_is_the_same_for_known_and_unknown_addresses(client, session):
    make_user()
    known = _request_reset(client, "of@example.org")
    unknown = _request_reset(client, "personne@example.org")
    assert known.status_code == unknown.status_code == 302
    assert location_path(known) == location_path(unknown) == "/login"
    assert RESET_REQUESTED in text(client.get("/login"))
    assert len(outbox("of@example.org")) == 1
    assert outbox("personne@example.org") == []
    assert len(outbox()) == 1


def test_the_link_sets_a_new_password_once(client, session):
    user = make_user()
    path = _reset_link(client)
    token = path.rstrip("/").rsplit("/", 1)[1]
    message = outbox("of@example.org")[0]
    assert message.sensitive and message.subject == "SOFI : réinitialisation de votre mot de passe"
    stored = session.scalar(sa.select(PasswordResetToken))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert timedelta(minutes=59) < stored.expires_at - stored.created_at <= timedelta(hours=1)

    page = text(client.get(path))
    assert "Choisir un nouveau mot de passe" in page and 'autocomplete="new-password"' in page
    page = text(post_with_token(client, path, {"password": "court", "confirmation": "court"}, token_url=path))
    assert "entre 10 et 128 caractères" in page
    page = text(
        post_with_token(client, path, {"password": NEW_PASSWORD, "confirmation": "autre chose"}, token_url=path)
    )
    assert "Les deux mots de passe saisis sont différents." in page

    response = post_with_token(client, path, {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}, token_url=path)
    assert response.status_code == 302 and location_path(response) == "/login"
    session.refresh(user)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert outbox("of@example.org")[-1].subject == "SOFI : votre mot de passe a été modifié"

    # The link has served: it is refused, on display and on submission.
    response = client.get(path)
    assert location_path(response) == "/mot-de-passe/oubli"
    assert INVALID_RESET_LINK in text(client.get("/mot-de-passe/oubli"))
    response = post_with_token(client, path, {"password": "encore-un-autre", "confirmation": "encore-un-autre"})
    assert location_path(response) == "/mot-de-passe/oubli"
    session.refresh(user)
    assert user.check_password(NEW_PASSWORD)
    assert attempt_login(client, "of@example.org", NEW_PASSWORD).status_code == 302


def test_an_expired_link_is_refused(client, session):
    user = make_user()
    path = _reset_link(client)
    stored = session.scalar(sa.select(PasswordResetToken))
    stored.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert location_path(client.get(path)) == "/mot-de-passe/oubli"
    response = post_with_token(client, path, {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert location_path(response) == "/mot-de-passe/oubli"
    session.refresh(user)
    assert user.check_password(PASSWORD)


def test_a_new_request_replaces_the_previous_link(client, session):
    make_user()
    first = _reset_link(client)
    second = _reset_link(client)
    assert first != second
    assert location_path(client.get(first)) == "/mot-de-passe/oubli"
    assert client.get(second).status_code == 200


def test_requests_are_limited_per_account(client, session):
    make_user()
    for _ in range(5):
        assert _request_reset(client, "of@example.org").status_code == 302
    assert len(outbox("of@example.org")) == 3


def test_an_inactive_account_gets_no_link(client, session):
    make_user(active=False)
    assert location_path(_request_reset(client, "of@example.org")) == "/login"
    assert outbox() == []


def test_an_unknown_token_is_refused(client):
    assert location_path(client.get("/mot-de-passe/nouveau/inconnu")) == "/mot-de-passe/oubli"
