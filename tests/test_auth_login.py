"""Login and logout through HTTP, CSRF protection on."""

import pytest
import sqlalchemy as sa

from models import User
from sofi.services.accounts import BAD_CREDENTIALS, INACTIVE_ACCOUNT
from tests.helpers_auth import (
    PASSWORD,
    attempt_login,
    location_path,
    logged_in_user_id,
    make_user,
    post_with_token,
    without_tokens,
)
from tests.web import text


def test_login_page_follows_the_procedure(client):
    page = text(client.get("/login"))
    assert "Connexion SOFI" in page
    assert "Champ obligatoire" in page
    assert 'autocomplete="username"' in page and 'autocomplete="current-password"' in page
    assert 'name="csrf_token"' in page
    for link in (
        "Réinitialiser votre mot de passe",
        "J'ai reçu une clé d'activation et je veux créer mon compte",
        "Je n'ai pas de clé d'activation et souhaite en faire la demande",
    ):
        assert link in page


def test_login_opens_the_dashboard_and_records_the_login(client, session):
    user = make_user()
    response = attempt_login(client, "OF@Example.org ", PASSWORD)
    assert response.status_code == 302
    assert location_path(response) == "/admin/"
    assert logged_in_user_id(client) == str(user.id)
    session.refresh(user)
    assert user.last_login_at is not None
    assert location_path(client.get("/login")) == "/admin/"  # already logged in


def test_unknown_email_and_wrong_password_get_the_same_answer(client, session):
    make_user()
    wrong_password = attempt_login(client, "of@example.org", "pas-le-bon-mot-de-passe")
    unknown_email = attempt_login(client, "inconnu@example.org", "pas-le-bon-mot-de-passe")
    assert wrong_password.status_code == unknown_email.status_code == 200
    for response in (wrong_password, unknown_email):
        assert BAD_CREDENTIALS in text(response)
        assert logged_in_user_id(client) is None
    assert without_tokens(text(wrong_password)).replace("of@example.org", "E") == without_tokens(
        text(unknown_email)
    ).replace("inconnu@example.org", "E")
    assert session.scalar(sa.select(User.last_login_at).where(User.email == "of@example.org")) is None


def test_a_login_without_csrf_token_is_refused(client, session):
    make_user()
    response = client.post("/login", data={"email": "of@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "jeton de sécurité" in text(response)
    assert logged_in_user_id(client) is None
    response = client.post("/login", data={"email": "of@example.org", "password": PASSWORD, "csrf_token": "faux"})
    assert response.status_code == 400
    assert logged_in_user_id(client) is None


def test_missing_fields_are_reported_next_to_them(client):
    page = text(post_with_token(client, "/login", {"email": "", "password": ""}, token_url="/login"))
    assert "Saisissez votre adresse e-mail." in page
    assert "Saisissez votre mot de passe." in page
    assert 'aria-describedby="email-erreur"' in page and 'id="email-erreur"' in page
    page = text(post_with_token(client, "/login", {"email": "pas-une-adresse", "password": "x"}, token_url="/login"))
    assert "L'adresse e-mail n'est pas valide" in page
    assert 'value="pas-une-adresse"' in page  # what the user typed is kept


def test_an_inactive_user_cannot_log_in(client, session):
    make_user(active=False)
    response = attempt_login(client, "of@example.org", PASSWORD)
    assert response.status_code == 200
    assert INACTIVE_ACCOUNT in text(response)
    assert logged_in_user_id(client) is None


def test_next_is_followed_when_it_is_a_local_path(client, session):
    make_user()
    response = attempt_login(client, "of@example.org", next_url="/admin/sessions/%3Fpreset%3Dactives")
    assert response.headers["Location"].endswith("/admin/sessions/?preset=actives")


@pytest.mark.parametrize(
    "target",
    [
        "https://pirate.example/",
        "//pirate.example/admin/",
        "/\\pirate.example",
        "javascript:alert(1)",
        "http:/pirate.example",
        "/%0d%0aLocation:%20https://pirate.example",
    ],
)
def test_next_never_leads_to_another_site(client, session, target):
    make_user()
    response = attempt_login(client, "of@example.org", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] in ("/admin/", "http://sofi.test/admin/")


def test_logout_needs_a_post_with_its_csrf_token(client, session):
    user = make_user()
    attempt_login(client, "of@example.org")
    assert client.get("/logout").status_code == 405
    assert logged_in_user_id(client) == str(user.id)
    assert client.post("/logout").status_code == 400
    assert logged_in_user_id(client) == str(user.id)
    response = post_with_token(client, "/logout", {})
    assert response.status_code == 302 and location_path(response) == "/login"
    assert logged_in_user_id(client) is None
    assert "Vous êtes déconnecté." in text(client.get("/login"))
    assert location_path(client.get("/admin/")) == "/login"
