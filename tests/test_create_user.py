"""``sofi create-user``: how the first administrator of an installation is created."""

import sqlalchemy as sa

from models import Role, User
from tests import factories


def test_creates_an_administrator_with_a_hashed_password(cli, session):
    result = cli(
        "sofi",
        "create-user",
        "--email",
        "Chef@Cariforef.fr",
        "--password",
        "un-mot-de-passe-long",
        "--role",
        "administrator",
    )
    assert result.exit_code == 0, result.output
    assert "Compte créé" in result.output
    user = session.scalar(sa.select(User).where(User.email == "chef@cariforef.fr"))
    assert user.role is Role.ADMINISTRATOR
    assert user.password_hash != "un-mot-de-passe-long"
    assert user.check_password("un-mot-de-passe-long")
    assert not user.check_password("autre-mot-de-passe")


def test_organisation_user_is_attached_to_its_sirets(cli, session):
    session.add_all([factories.organisation(siret="44123456400017"), factories.organisation(siret="44123456400025")])
    session.commit()
    result = cli(
        "sofi",
        "create-user",
        "--email",
        "of@example.org",
        "--password",
        "0123456789ab",
        "--role",
        "organisation",
        "--organisation",
        "44123456400017",
        "--organisation",
        "44123456400025",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(sa.select(User).where(User.email == "of@example.org"))
    assert [o.siret for o in user.organisations] == ["44123456400017", "44123456400025"]


def _refused(cli, *args):
    result = cli("sofi", "create-user", *args)
    assert result.exit_code != 0
    return result.stderr


def test_bad_input_is_refused_in_french_and_nothing_is_created(cli, session):
    assert "Rôle inconnu" in _refused(cli, "--email", "a@b.fr", "--password", "0123456789ab", "--role", "chef")
    assert "au moins 10 caractères" in _refused(cli, "--email", "a@b.fr", "--password", "court", "--role", "validator")
    assert "au moins un SIRET" in _refused(
        cli, "--email", "a@b.fr", "--password", "0123456789ab", "--role", "organisation"
    )
    assert "Aucun organisme" in _refused(
        cli,
        "--email",
        "a@b.fr",
        "--password",
        "0123456789ab",
        "--role",
        "organisation",
        "--organisation",
        "13000511900032",
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_an_email_cannot_be_used_twice(cli, session):
    args = ["--email", "v@cariforef.fr", "--password", "0123456789ab", "--role", "validator"]
    assert cli("sofi", "create-user", *args).exit_code == 0
    assert "existe déjà" in _refused(cli, *args)


def test_an_installation_hashes_passwords_with_scrypt(app_context, monkeypatch):
    """The suite writes cheap hashes (``SOFI_PASSWORD_HASH_METHOD``); an installation never sets it."""
    monkeypatch.delitem(app_context.config, "SOFI_PASSWORD_HASH_METHOD")
    user = User(email="chef@cariforef.fr", role=Role.ADMINISTRATOR)
    user.set_password("un-mot-de-passe-long")
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("un-mot-de-passe-long") and not user.check_password("autre-mot-de-passe")
