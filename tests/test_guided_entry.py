"""The three creation paths of the seeds through the HTTP layer, with CSRF on."""

import re

import pytest
import sqlalchemy as sa

from models import Action, ActionStatus, Formation, FormDraft, SessionFormation, db
from tests.web import login, post_form, text

CARIFOREF = "cariforef@demo.sofi.fr"


@pytest.fixture
def organisation_client(client, demo):
    login(client, CARIFOREF)
    return client


def _id_from(location: str, name: str) -> int:
    match = re.search(rf"{name}=(\d+)", location)
    assert match, location
    return int(match.group(1))


def _create_action(client, formation_id: int, **fields) -> int:
    url = f"/admin/actions/new/?formation_id={formation_id}"
    site = re.search(r'<option[^>]*value="(\d+)"', text(client.get(url))).group(1)
    response = post_form(client, url, {"site_id": site, "niveau_entree": "1", **fields})
    assert response.status_code == 302, text(response)[:3000]
    return _id_from(response.headers["Location"], "action_id")


SESSION_FIELDS = {
    "date_debut": "2027-01-11",
    "date_fin": "2027-03-26",
    "entrees_sorties": "0",
    "rythmes": ["temps-plein"],
    "periodes": ["96414"],
    "type_parcours": "1",
    "modalites_pedagogiques": ["SOFI-OF"],
    "modalite_enseignement": "0",
    "duree_centre": "280",
    "etat_recrutement": "1",
    "modalites_recrutement": ["3", "8"],
}


def _create_session(client, action_id: int, **fields) -> int:
    url = f"/admin/sessions/new/?action_id={action_id}"
    page = text(client.get(url))
    defaults = {
        name: re.search(rf'<select[^>]*name="{name}"[^>]*>.*?<option selected value="([^"]*)"', page, re.S).group(1)
        for name in ("site_id", "organisme_responsable_id", "referent_pmr_id", "referent_mobilite_id")
    }
    response = post_form(client, url, {**defaults, **SESSION_FIELDS, **fields})
    assert response.status_code == 302, text(response)[:4000]
    return _id_from(response.headers["Location"], "session_id")


def _add_dispositif(client, session_id: int, code: int, places: int, publics: list[str], **fields):
    url = f"/admin/dispositifs/new/?session_id={session_id}"
    response = post_form(
        client, url, {"dispositif_code": str(code), "nb_places": str(places), "publics": publics, **fields}
    )
    assert response.status_code == 302, text(response)[:4000]
    return response


def test_certifying_formation_with_total_validation(organisation_client, session):
    client = organisation_client
    search = text(client.get("/admin/formations/new/?certifiante=oui&q=assistant ressources humaines"))
    assert "109049" in search
    assert "Ministère du travail" in search  # the certifier, to pick the right certification
    page = text(client.get("/admin/formations/new/?certifiante=oui&certifinfo=109049"))
    assert "RNCP35030BC01" in page and "RNCP35030BC02" in page
    response = post_form(
        client,
        "/admin/formations/new/?certifiante=oui&certifinfo=109049",
        {"certifinfo_code": "109049", "individualisation_blocs": "0", "validation_blocs": "1", "_save": "1"},
    )
    assert response.status_code == 302
    formation = db.session.get(Formation, _id_from(response.headers["Location"], "formation_id"))
    assert formation.certifiante and formation.certifinfo_code == 109049
    assert formation.intitule == "Titre professionnel assistant ressources humaines"
    assert sorted(b.code for b in formation.blocs) == ["RNCP35030BC01", "RNCP35030BC02"]
    assert formation.validation_blocs == "1"


def test_certifying_formation_with_partial_validation(organisation_client, session):
    client = organisation_client
    url = "/admin/formations/new/?certifiante=oui&certifinfo=109049"
    refused = post_form(
        client,
        url,
        {"certifinfo_code": "109049", "individualisation_blocs": "1", "validation_blocs": "0", "_save": "1"},
    )
    assert refused.status_code == 200
    assert "cochez au moins un bloc" in text(refused)
    response = post_form(
        client,
        url,
        {
            "certifinfo_code": "109049",
            "individualisation_blocs": "1",
            "validation_blocs": "0",
            "blocs": ["RNCP35030BC01"],
            "_save": "1",
        },
    )
    assert response.status_code == 302
    formation = db.session.get(Formation, _id_from(response.headers["Location"], "formation_id"))
    assert [b.code for b in formation.blocs] == ["RNCP35030BC01"]
    assert formation.individualisation_blocs and formation.validation_blocs == "0"


def test_non_certifying_formation_with_formacode_search(organisation_client, session):
    client = organisation_client
    url = "/admin/formations/new/?certifiante=non"
    found = post_form(
        client, url, {"intitule": "Excel perfectionnement", "formacode_query": "bureautique", "_search": "1"}
    )
    assert found.status_code == 200
    page = text(found)
    assert "15052 - bureautique" in page
    assert 'value="Excel perfectionnement"' in page  # what was typed is kept
    response = post_form(
        client,
        url,
        {
            "intitule": "Excel perfectionnement",
            "objectif_general": "7",
            "formacodes": ["15052"],
            "formacode_principal": "15052",
            "_save": "1",
        },
    )
    assert response.status_code == 302
    formation = db.session.get(Formation, _id_from(response.headers["Location"], "formation_id"))
    assert not formation.certifiante
    assert formation.formacode_codes == ["15052"] and formation.formacode_principal == "15052"


def test_full_fasd_entry_with_two_dispositifs_recap_and_submission(organisation_client, session):
    client = organisation_client
    response = post_form(
        client,
        "/admin/formations/new/?certifiante=non",
        {
            "intitule": "Excel perfectionnement",
            "objectif_general": "7",
            "formacodes": ["15052"],
            "formacode_principal": "15052",
            "_save": "1",
        },
    )
    formation_id = _id_from(response.headers["Location"], "formation_id")
    action_id = _create_action(client, formation_id, plus_formation="<p>Petits groupes</p><script>x</script>")
    action = db.session.get(Action, action_id)
    assert action.plus_formation == "<p>Petits groupes</p>"  # sanitised rich text
    session_id = _create_session(client, action_id)
    _add_dispositif(client, session_id, 8, 10, ["82044", "80006"])
    _add_dispositif(client, session_id, 12, 4, ["82044"])
    training_session = db.session.get(SessionFormation, session_id)
    db.session.refresh(training_session)
    assert sorted(d.dispositif_code for d in training_session.dispositifs) == [8, 12]
    assert training_session.fas_code == f"{formation_id}-{action_id}-{session_id}"

    recap = text(client.get(f"/admin/actions/recap/?id={action_id}"))
    assert "Aucun point bloquant" in recap
    submitted = post_form(
        client, "/admin/actions/submit/", {"id": str(action_id)}, form_url=f"/admin/actions/recap/?id={action_id}"
    )
    assert submitted.status_code == 302
    db.session.refresh(action)
    assert action.status is ActionStatus.EN_ATTENTE_VALIDATION


def test_recap_lists_missing_fields_and_blocks_submission_until_fixed(organisation_client, session):
    client = organisation_client
    response = post_form(
        client,
        "/admin/formations/new/?certifiante=non",
        {
            "intitule": "Anglais professionnel",
            "objectif_general": "2",
            "formacodes": ["15052"],
            "formacode_principal": "15052",
            "_save": "1",
        },
    )
    action_id = _create_action(client, _id_from(response.headers["Location"], "formation_id"))
    session_id = _create_session(client, action_id, rythmes=[], modalites_recrutement=[])
    _add_dispositif(client, session_id, 8, 6, ["82044"])
    recap = text(client.get(f"/admin/actions/recap/?id={action_id}"))
    assert "Rythmes" in recap
    assert f"/admin/sessions/edit/?id={session_id}#champ-rythmes" in recap
    refused = post_form(
        client, "/admin/actions/submit/", {"id": str(action_id)}, form_url=f"/admin/actions/recap/?id={action_id}"
    )
    assert refused.status_code == 302
    assert db.session.get(Action, action_id).status is ActionStatus.EN_COURS_DE_SAISIE
    url = f"/admin/sessions/edit/?id={session_id}"
    page = text(client.get(url))
    fixed = {**SESSION_FIELDS}
    for name in ("site_id", "organisme_responsable_id", "referent_pmr_id", "referent_mobilite_id"):
        fixed[name] = re.search(
            rf'<select[^>]*name="{name}"[^>]*>.*?<option selected value="([^"]*)"', page, re.S
        ).group(1)
    assert post_form(client, url, fixed).status_code == 302
    post_form(
        client, "/admin/actions/submit/", {"id": str(action_id)}, form_url=f"/admin/actions/recap/?id={action_id}"
    )
    db.session.expire_all()
    assert db.session.get(Action, action_id).status is ActionStatus.EN_ATTENTE_VALIDATION


@pytest.mark.parametrize(
    ("field", "limit"), [("objectifs", 3000), ("plus_formation", 250), ("complement_programme", 3000)]
)
def test_limits_are_enforced_next_to_the_field_and_the_text_is_kept(organisation_client, session, field, limit):
    client = organisation_client
    formation = db.session.scalar(sa.select(Formation).where(Formation.intitule == "PREPA Avenir Sup"))
    action = formation.actions[0]
    url = f"/admin/actions/edit/?id={action.id}"
    typed = "é" * (limit + 1)
    response = post_form(client, url, {"site_id": str(action.site_id), "niveau_entree": "1", field: typed})
    assert response.status_code == 200
    page = text(response)
    error = re.search(rf'id="{field}-erreur"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert f"Limité à {limit} caractères" in error
    assert typed in page
    db.session.expire_all()
    assert getattr(db.session.get(Action, action.id), field) != typed
    drafts = db.session.scalars(sa.select(FormDraft)).all()
    assert [d.form_key for d in drafts] == [f"action:{action.id}"]
    restored = text(client.get(url))
    assert "a été conservée" in restored and typed in restored


def test_forms_refuse_a_post_without_csrf_token(organisation_client, session):
    client = organisation_client
    response = client.post(
        "/admin/formations/new/?certifiante=non", data={"intitule": "X", "objectif_general": "7", "_save": "1"}
    )
    assert response.status_code in (200, 400)
    assert db.session.scalar(sa.select(Formation).where(Formation.intitule == "X")) is None


def test_missing_mandatory_fields_are_shown_next_to_the_field(organisation_client, session):
    client = organisation_client
    response = post_form(
        client,
        "/admin/formations/new/?certifiante=non",
        {
            "intitule": "Espagnol",
            "objectif_general": "2",
            "formacodes": ["15052"],
            "formacode_principal": "15052",
            "_save": "1",
        },
    )
    action_id = _create_action(client, _id_from(response.headers["Location"], "formation_id"))
    session_id = _create_session(client, action_id, rythmes=[], modalites_pedagogiques=[])
    page = text(client.get(f"/admin/sessions/edit/?id={session_id}"))
    rythmes = re.search(r'id="rythmes-erreur"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "À compléter avant l'envoi en validation" in rythmes and "Rythmes" in rythmes
    modalites = re.search(r'id="modalites_pedagogiques-erreur"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "Modalités pédagogiques" in modalites
    dates = re.search(r'id="date_debut-erreur"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "À compléter" not in dates
