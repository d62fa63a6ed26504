"""Activation keys: issued by Cariforef (command line or administration screen), single use,
expiring; requests for a key from organisations without one."""

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import ActivationKey, ActivationKeyRequest, KeyRequestStatus, Organisation, Role, User
from models.base import utcnow
from sofi.services.accounts import INVALID_KEY, issue_activation_key, normalise_key
from tests import factories
from tests.helpers_auth import (
    PASSWORD,
    attempt_login,
    location_path,
    make_user,
    outbox,
    post_with_token,
)
from tests.web import text

NANTES, SAINT_NAZAIRE = "44123456400017", "44123456400025"
KEY_PATTERN = re.compile(r"\b[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}\b")


@pytest.fixture
def establishments(session):
    nantes = factories.organisation(siret=NANTES, raison_sociale="ATLANTIQUE COMPETENCES FORMATION")
    saint_nazaire = factories.organisation(siret=SAINT_NAZAIRE, raison_sociale="ATLANTIQUE COMPETENCES FORMATION")
    session.add_all([nantes, saint_nazaire])
    session.commit()
    return nantes, saint_nazaire


def _activate(client, key, email="contact@atlantique.fr", password=PASSWORD, confirmation=None):
    data = {
        "key": key,
        "email": email,
        "nom": "Durand",
        "prenom": "Léa",
        "password": password,
        "confirmation": confirmation or password,
    }
    return post_with_token(client, "/activation", data, token_url="/activation")


def test_the_command_prints_the_key_and_mails_it(cli, session, establishments):
    result = cli("sofi", "issue-key", "--organisation", NANTES, "--organisation", SAINT_NAZAIRE, "--email", "A@B.fr")
    assert result.exit_code == 0, result.output
    key = KEY_PATTERN.search(result.output).group(0)
    assert f"Clé d'activation : {key}" in result.output
    record = session.scalar(sa.select(ActivationKey))
    assert record.key_hash == hashlib.sha256(normalise_key(key).encode()).hexdigest()
    assert record.email == "a@b.fr"
    assert [o.siret for o in record.organisations] == [NANTES, SAINT_NAZAIRE]
    assert timedelta(days=13) < record.expires_at - record.created_at <= timedelta(days=14)
    (message,) = outbox("a@b.fr")
    assert key in message.body and message.sensitive
    assert message.subject == "SOFI : votre clé d'activation"


def test_the_command_refuses_bad_input_in_french(cli, session, establishments):
    result = cli("sofi", "issue-key", "--organisation", "13000511900032", "--email", "a@b.fr")
    assert result.exit_code == 1 and "Aucun organisme n'a le SIRET 13000511900032" in result.stderr
    result = cli("sofi", "issue-key", "--organisation", NANTES, "--email", "pas-une-adresse")
    assert result.exit_code == 1 and "n'est pas valide" in result.stderr
    result = cli("sofi", "issue-key", "--organisation", NANTES, "--email", "a@b.fr", "--days", "0")
    assert result.exit_code == 1 and "entre 1 et 90 jours" in result.stderr
    make_user("deja@inscrit.fr")
    result = cli("sofi", "issue-key", "--organisation", NANTES, "--email", "deja@inscrit.fr")
    assert result.exit_code == 1 and "Un compte existe déjà pour deja@inscrit.fr" in result.stderr
    assert session.scalar(sa.select(sa.func.count()).select_from(ActivationKey)) == 0
    assert outbox() == []


def test_a_key_creates_an_account_attached_to_its_establishments(client, session, establishments):
    _, key = issue_activation_key([NANTES, SAINT_NAZAIRE], "contact@atlantique.fr")
    page = text(client.get("/activation"))
    assert "Champ obligatoire" in page and 'autocomplete="new-password"' in page
    response = _activate(client, key.lower().replace("-", " "))  # typed loosely
    assert response.status_code == 302 and location_path(response) == "/login"
    user = session.scalar(sa.select(User).where(User.email == "contact@atlantique.fr"))
    assert user.role is Role.ORGANISATION and user.active
    assert (user.nom, user.prenom) == ("Durand", "Léa")
    assert [o.siret for o in user.organisations] == [NANTES, SAINT_NAZAIRE]
    record = session.scalar(sa.select(ActivationKey))
    assert record.used_at is not None and record.used_by_id == user.id
    assert attempt_login(client, "contact@atlantique.fr", PASSWORD).status_code == 302


def test_a_key_serves_once(client, session, establishments):
    _, key = issue_activation_key([NANTES], "contact@atlantique.fr")
    assert _activate(client, key).status_code == 302
    page = text(_activate(client, key))
    assert INVALID_KEY in page
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_an_expired_key_is_refused(client, session, establishments):
    _, key = issue_activation_key([NANTES], "contact@atlantique.fr")
    record = session.scalar(sa.select(ActivationKey))
    record.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    page = text(_activate(client, key))
    assert INVALID_KEY in page
    assert 'aria-describedby="key-aide key-erreur"' in page
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_key_is_bound_to_the_address_it_was_sent_to(client, session, establishments):
    _, key = issue_activation_key([NANTES], "contact@atlantique.fr")
    page = text(_activate(client, key, email="autre@atlantique.fr"))
    assert "envoyée à une autre adresse" in page
    assert text(_activate(client, "AAAAA-BBBBB-CCCCC-DDDDD")).count(INVALID_KEY) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert session.scalar(sa.select(ActivationKey.used_at)) is None  # still usable


def test_passwords_must_be_long_and_confirmed(client, session, establishments):
    _, key = issue_activation_key([NANTES], "contact@atlantique.fr")
    page = text(_activate(client, key, password="court"))
    assert "entre 10 et 128 caractères" in page
    page = text(_activate(client, key, confirmation="une-autre-phrase"))
    assert "Les deux mots de passe saisis sont différents." in page
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


REQUEST = {
    "siret": "44123456400033",
    "raison_sociale": "NOUVEL ORGANISME",
    "nom": "Bernard",
    "prenom": "Paul",
    "email": "paul@nouvel.fr",
    "telephone": "02 40 00 00 00",
    "message": "Responsable pédagogique",
}


def test_a_key_request_is_stored_and_mailed_to_cariforef(client, session):
    page = text(client.get("/activation/demande"))
    assert "Champ obligatoire" in page and 'autocomplete="organization"' in page
    response = post_with_token(client, "/activation/demande", REQUEST, token_url="/activation/demande")
    assert response.status_code == 302 and location_path(response) == "/login"
    assert "Votre demande a bien été transmise" in text(client.get("/login"))
    request = session.scalar(sa.select(ActivationKeyRequest))
    assert (request.siret, request.email, request.status) == (
        "44123456400033",
        "paul@nouvel.fr",
        KeyRequestStatus.PENDING,
    )
    (message,) = outbox("offre@cariforef-pdl.org")
    assert "44123456400033" in message.body and "NOUVEL ORGANISME" in message.body
    assert "Responsable pédagogique" in message.body
    assert not message.sensitive


def test_a_key_request_with_a_wrong_siret_is_refused(client, session):
    data = {**REQUEST, "siret": "44123456400034"}
    page = text(post_with_token(client, "/activation/demande", data, token_url="/activation/demande"))
    assert "Ce SIRET n'est pas valide (clé de contrôle erronée)." in page
    assert 'value="NOUVEL ORGANISME"' in page  # nothing typed is lost
    assert session.scalar(sa.select(sa.func.count()).select_from(ActivationKeyRequest)) == 0
    assert outbox() == []


def test_key_requests_are_limited_per_address(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "SOFI_KEY_REQUESTS_PER_IP", 2)
    for _ in range(2):
        assert post_with_token(client, "/activation/demande", REQUEST).status_code == 302
    page = text(post_with_token(client, "/activation/demande", REQUEST))
    assert "Trop de demandes" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(ActivationKeyRequest)) == 2


def test_an_administrator_issues_keys_for_requests(client, session, establishments):
    make_user("admin@cariforef.fr", role=Role.ADMINISTRATOR)
    known = ActivationKeyRequest(
        siret=NANTES, raison_sociale="ATLANTIQUE", nom="Durand", prenom="Léa", email="lea@atlantique.fr"
    )
    unknown = ActivationKeyRequest(
        siret="44123456400033", raison_sociale="INCONNU", nom="X", prenom="Y", email="y@x.fr"
    )
    session.add_all([known, unknown])
    session.commit()
    assert attempt_login(client, "admin@cariforef.fr").status_code == 302
    listing = text(client.get("/admin/cles-activation/"))
    assert "ATLANTIQUE" in listing and "INCONNU" in listing

    def act(name, *ids):
        return post_with_token(
            client,
            "/admin/cles-activation/action/",
            {"action": name, "rowid": [str(i) for i in ids]},
            token_url="/admin/cles-activation/",
            follow_redirects=True,
        )

    page = text(act("issue_key", known.id, unknown.id))
    assert "Aucune clé n'a été émise" in page and "44123456400033" in page
    assert session.scalar(sa.select(sa.func.count()).select_from(ActivationKey)) == 0
    assert outbox() == []

    page = text(act("issue_key", known.id))
    assert "1 clé(s) d'activation émise(s)" in page
    session.expire_all()
    assert known.status is KeyRequestStatus.ISSUED and known.processed_at is not None
    (message,) = outbox("lea@atlantique.fr")
    key = KEY_PATTERN.search(message.body).group(0)
    assert _activate(client, key, email="lea@atlantique.fr").status_code == 302

    page = text(act("close", unknown.id))
    assert "1 demande(s) classée(s) sans suite" in page
    session.expire_all()
    assert unknown.status is KeyRequestStatus.CLOSED


def test_an_administrator_issues_a_key_directly(client, session, establishments):
    make_user("admin@cariforef.fr", role=Role.ADMINISTRATOR)
    attempt_login(client, "admin@cariforef.fr")
    nantes = session.scalar(sa.select(Organisation).where(Organisation.siret == NANTES))
    url = "/admin/cles-activation/emettre/"
    assert "Émettre et envoyer la clé" in text(client.get(url))
    page = text(post_with_token(client, url, {"email": "x@y.fr", "valid_days": "5"}, token_url=url))
    assert "Indiquez au moins un SIRET" in page
    response = post_with_token(
        client, url, {"organisations": [str(nantes.id)], "email": "x@y.fr", "valid_days": "5"}, token_url=url
    )
    assert response.status_code == 302
    record = session.scalar(sa.select(ActivationKey))
    assert record.email == "x@y.fr" and record.issued_by.email == "admin@cariforef.fr"
    assert timedelta(days=4) < record.expires_at - record.created_at <= timedelta(days=5)
    assert len(outbox("x@y.fr")) == 1
