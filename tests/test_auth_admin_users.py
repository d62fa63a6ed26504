"""Administration screens of accounts: administrators only; memberships; no password hash shown."""

import csv
import io

import pytest
import sqlalchemy as sa

from models import ActivationKeyRequest, OutboxMessage, Role, User
from sofi.services.mail import send_mail
from tests import factories
from tests.helpers_auth import attempt_login, location_path, make_user, outbox, post_with_token
from tests.web import text

SCREENS = [
    "/admin/utilisateurs/",
    "/admin/utilisateurs/new/",
    "/admin/utilisateurs/export/csv/",
    "/admin/cles-activation/",
    "/admin/cles-activation/emettre/",
    "/admin/courriels/",
]


@pytest.fixture
def establishments(session):
    built = [factories.organisation(siret=siret) for siret in ("44123456400017", "44123456400025")]
    session.add_all(built)
    session.commit()
    return built


@pytest.fixture
def administrator(client, session):
    user = make_user("admin@cariforef.fr", role=Role.ADMINISTRATOR)
    assert attempt_login(client, "admin@cariforef.fr").status_code == 302
    return user


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in SCREENS:
        response = client.get(url)
        assert response.status_code == 302, url
        assert location_path(response) == "/login", url


@pytest.mark.parametrize("role", [Role.ORGANISATION, Role.VALIDATOR])
def test_other_roles_are_refused(client, session, establishments, role):
    make_user(role=role, organisations=establishments[:1] if role is Role.ORGANISATION else ())
    attempt_login(client, "of@example.org")
    request = ActivationKeyRequest(siret="44123456400033", raison_sociale="X", nom="X", prenom="Y", email="y@x.fr")
    session.add(request)
    session.commit()
    for url in SCREENS + [f"/admin/cles-activation/details/?id={request.id}"]:
        assert client.get(url).status_code == 403, url
    response = post_with_token(
        client, "/admin/cles-activation/action/", {"action": "issue_key", "rowid": str(request.id)}
    )
    assert response.status_code == 403
    response = post_with_token(client, "/admin/utilisateurs/new/", {"email": "pirate@x.fr", "role": "administrator"})
    assert response.status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_administrators_see_every_screen(client, administrator):
    for url in SCREENS:
        assert client.get(url).status_code == 200, url


def test_the_user_list_never_shows_password_hashes(client, session, administrator, establishments):
    user = make_user(organisations=establishments)
    listing = text(client.get("/admin/utilisateurs/"))
    assert "of@example.org" in listing and "Organisme de formation" in listing and "44123456400025" in listing
    assert user.password_hash not in listing and "password" not in listing
    details = text(client.get(f"/admin/utilisateurs/details/?id={user.id}"))
    assert "of@example.org" in details and user.password_hash not in details
    edit = text(client.get(f"/admin/utilisateurs/edit/?id={user.id}"))
    assert "password" not in edit and user.password_hash not in edit
    exported = client.get("/admin/utilisateurs/export/csv/").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {row["Adresse e-mail"] for row in rows} == {"admin@cariforef.fr", "of@example.org"}
    assert user.password_hash not in exported
    filtered = text(client.get("/admin/utilisateurs/?search=of%40example"))
    assert "of@example.org" in filtered


def test_an_administrator_creates_a_user_with_memberships(client, session, administrator, establishments):
    nantes, saint_nazaire = establishments
    form = {
        "email": "Nouvelle@Example.org",
        "nom": "Petit",
        "prenom": "Anne",
        "role": "organisation",
        "active": "y",
        "organisations": [str(nantes.id), str(saint_nazaire.id)],
    }
    response = post_with_token(client, "/admin/utilisateurs/new/", form, token_url="/admin/utilisateurs/new/")
    assert response.status_code == 302, text(response)[:3000]
    user = session.scalar(sa.select(User).where(User.email == "nouvelle@example.org"))
    assert user.role is Role.ORGANISATION and user.active and user.password_hash is None
    assert [o.id for o in user.organisations] == sorted([nantes.id, saint_nazaire.id])
    (welcome,) = outbox("nouvelle@example.org")
    assert "Réinitialiser votre mot de passe" in welcome.body


def test_an_organisation_user_needs_a_membership(client, session, administrator):
    form = {"email": "sans@example.org", "role": "organisation", "active": "y"}
    page = text(post_with_token(client, "/admin/utilisateurs/new/", form, token_url="/admin/utilisateurs/new/"))
    assert "doit être rattaché à au moins un organisme" in page
    assert 'value="sans@example.org"' in page
    assert session.scalar(sa.select(User).where(User.email == "sans@example.org")) is None
    assert outbox() == []


def test_an_administrator_edits_a_user_and_its_memberships(client, session, administrator, establishments):
    nantes, saint_nazaire = establishments
    user = make_user(organisations=[nantes])
    url = f"/admin/utilisateurs/edit/?id={user.id}"
    form = {
        "email": "of@example.org",
        "nom": "Martin",
        "prenom": "Claire",
        "role": "organisation",
        "organisations": [str(saint_nazaire.id)],
    }  # "active" unticked
    response = post_with_token(client, url, form, token_url=url)
    assert response.status_code == 302, text(response)[:3000]
    session.expire_all()
    assert not user.active
    assert [o.siret for o in user.organisations] == ["44123456400025"]
    assert outbox() == []  # no welcome e-mail for an existing account


def test_an_administrator_cannot_lock_themselves_out(client, session, administrator):
    url = f"/admin/utilisateurs/edit/?id={administrator.id}"
    form = {"email": "admin@cariforef.fr", "role": "validator", "active": "y"}
    page = text(post_with_token(client, url, form, token_url=url))
    assert "Vous ne pouvez pas retirer votre propre rôle d'administrateur." in page
    form = {"email": "admin@cariforef.fr", "role": "administrator"}
    page = text(post_with_token(client, url, form, token_url=url))
    assert "Vous ne pouvez pas désactiver votre propre compte." in page
    session.expire_all()
    assert administrator.role is Role.ADMINISTRATOR and administrator.active


def test_the_outbox_lists_every_mail_and_hides_personal_secrets(client, session, administrator):
    send_mail("a@example.org", "Information", "Bonjour,\nvoici une information.")
    send_mail("b@example.org", "Votre lien", "Lien : https://sofi.test/secret-123", secrets=["secret-123"])
    session.commit()
    messages = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.recipient for m in messages] == ["a@example.org", "b@example.org"]
    listing = text(client.get("/admin/courriels/"))
    assert "a@example.org" in listing and "Votre lien" in listing and "SMTP non configuré" in listing
    assert "secret-123" not in listing
    plain = text(client.get(f"/admin/courriels/details/?id={messages[0].id}"))
    assert "voici une information." in plain
    masked = text(client.get(f"/admin/courriels/details/?id={messages[1].id}"))
    assert "secret-123" not in masked and "Contenu masqué" in masked


def test_accounts_are_deactivated_never_deleted(client, session, administrator):
    user = make_user()
    response = post_with_token(
        client, "/admin/utilisateurs/action/", {"action": "delete", "rowid": str(user.id)}, follow_redirects=True
    )
    assert response.status_code == 200
    assert client.post("/admin/utilisateurs/delete/").status_code in (302, 400, 405)
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
