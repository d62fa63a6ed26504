"""Stored XSS: payloads typed in every free-text and rich-text field, rendered everywhere.

An organisation user types the corpus of ``tests/xss_payloads.py`` through the real forms
(formation, action, session, dispositif, site, contact, porte ouverte, API token name) and
through the write API; the validator asks a question, the organisation answers, the
validator approves (so the public side shows the payloads) and refuses another action with
a payload as reason. Every screen, the JSON API and the LHÉO documents are then checked.
"""

import json
from dataclasses import dataclass
from urllib.parse import quote

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from models import Action, ActionStatus, Formation, db
from tests.catalogue_support import bearer, token_for
from tests.web import csrf_token, login, logout
from tests.xss_payloads import JS, html_problems, packed

CARIFOREF = "cariforef@demo.sofi.fr"
CARIFOREF_SIRET = "13000511900032"
VALIDATOR = "valideur@demo.sofi.fr"
BUREAUTIQUE = "Bureautique : Word, Excel et outils collaboratifs"
DEAS = "Diplôme d'État d'aide-soignant - DEAS"
REFUSED = "Titre professionnel concepteur développeur d'applications"  # Atlantique Compétences, Nantes
ATLANTIQUE = "atlantique@demo.sofi.fr"
PREPA = "PREPA Avenir Sup"
TEXT = 3000  # Keys of the public JSON holding rich text (HTML of the safe subset).
RICH_TEXT_KEYS = {
    "objectifs",
    "programme",
    "resultats",
    "complement_programme",
    "resultats_attendus",
    "plus_formation",
    "equipement_commentaire",
    "commentaire_prerequis",
    "commentaire_duree",
}
# Free-text fields the write API accepts on an action, with their limits.
API_ACTION_FIELDS = {
    "objectifs": TEXT,
    "complement_programme": TEXT,
    "resultats_attendus": TEXT,
    "commentaire_prerequis": TEXT,
    "equipement_commentaire": TEXT,
    "plus_formation": 250,
    "complement_intitule": 255,
}


@dataclass
class Hostile:
    """The records carrying payloads, once published."""

    formation_id: int
    action_id: int
    session_id: int
    dispositif_id: int
    site_id: int
    contact_id: int
    api_action_id: int
    revision_id: int
    refused_action_id: int
    intitule: str


def _action(intitule: str) -> Action:
    return db.session.scalar(sa.select(Action).join(Formation).where(Formation.intitule == intitule))


def submit(client, url: str, overrides: dict, extra: dict | None = None, expected: int = 302):
    """Post the form of ``url`` that holds the ``overrides`` fields, with its other values as served."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    document = lxml.html.fromstring(page.get_data(as_text=True))
    form = next(f for f in document.forms if set(overrides) <= set(f.fields.keys()))
    values = MultiDict([(name, value) for name, value in form.form_values() if name not in overrides])
    for name, value in {**overrides, **(extra or {})}.items():
        values.add(name, value)
    response = client.post(url, data=values)
    assert response.status_code == expected, (url, _errors(response))
    return response


def _errors(response) -> str:
    document = lxml.html.fromstring(response.get_data(as_text=True))
    return " | ".join(
        e.text_content().strip()
        for e in document.xpath("//*[contains(@class, 'invalid-feedback') or contains(@class, 'alert')]")
    )


def _post(client, url: str, data: dict):
    response = client.post(url, data={"csrf_token": csrf_token(client, "/admin/"), **data})
    assert response.status_code == 302, (url, response.status_code)
    return response


def _type_in_the_workspace(client, action: Action) -> None:
    """The organisation fills every free-text field of one action's F-A-S-D tree and directory."""
    session = action.sessions[0]
    dispositif = session.dispositifs[0]
    submit(client, f"/admin/formations/edit/?id={action.formation_id}", {"intitule": packed(255)}, {"_save": "1"})
    rich = {name: packed(TEXT, i) for i, name in enumerate(("complement_programme", "objectifs", "resultats_attendus"))}
    submit(
        client,
        f"/admin/actions/edit/?id={action.id}",
        {
            **rich,
            "complement_intitule": packed(255, 3),
            "plus_formation": packed(250, 5),
            "equipement_commentaire": packed(TEXT, 7),
            "commentaire_prerequis": packed(TEXT, 9),
            "url_action": f'https://formation.example/"><svg/onload={JS}>',
        },
    )
    submit(
        client,
        f"/admin/sessions/edit/?id={session.id}",
        {
            "commentaire_duree": packed(TEXT, 11),
            "informations_collectives-0-lieu": packed(255, 13),
            "informations_collectives-0-commentaire": packed(500, 15),
        },
    )
    submit(
        client,
        f"/admin/dispositifs/edit/?id={dispositif.id}",
        {"reference_marche": packed(255, 17), "frais_additionnels_details": packed(TEXT, 19)},
    )
    submit(
        client,
        f"/admin/sites/edit/?id={action.site_id}",
        {"nom": packed(255, 21), "adresse2": packed(255, 23), "accessibilite": packed(TEXT, 25)},
    )
    submit(
        client,
        f"/admin/contacts/edit/?id={session.referent_pmr_id}",
        {"nom": packed(100, 27), "prenom": packed(100, 29), "fonction": packed(255, 31)},
    )
    submit(
        client,
        "/admin/portes_ouvertes/new/",
        {"site": str(action.site_id), "date": "2027-03-01", "commentaire": packed(500, 33)},
    )
    submit(client, "/admin/api_tokens/", {"name": packed(100, 35)}, expected=200)  # shows the secret once


def _api_write(client, token: str, action_id: int, start: int) -> None:
    """The organisation's own software writes raw payloads in the rich-text fields, then submits."""
    url = f"/api/v1/offre/actions/{action_id}"
    current = client.get(url, headers=bearer(token))
    body = {name: packed(limit, start + i) for i, (name, limit) in enumerate(API_ACTION_FIELDS.items())}
    updated = client.patch(url, json=body, headers={**bearer(token), "If-Match": current.headers["ETag"]})
    assert updated.status_code == 200, updated.get_data(as_text=True)
    submitted = client.post(f"{url}/soumission", headers={**bearer(token), "If-Match": updated.headers["ETag"]})
    assert submitted.status_code == 200, submitted.get_data(as_text=True)


@pytest.fixture
def hostile(app, client, demo) -> Hostile:
    """Payloads everywhere; Bureautique (forms) and DEAS (API) published, PREPA a revision under review."""
    action, api_action, revision, refused = (_action(t) for t in (BUREAUTIQUE, DEAS, PREPA, REFUSED))
    token = token_for(app, CARIFOREF, CARIFOREF_SIRET, name=packed(100, 1))
    _api_write(client, token, api_action.id, 0)
    _api_write(client, token, revision.id, 5)

    login(client, VALIDATOR)
    for asked in (action, revision):
        _post(
            client, "/admin/validation/question/", {"id": str(asked.id), "body": packed(TEXT, 8), "field": "objectifs"}
        )
    _post(client, "/admin/validation/reject/", {"id": str(refused.id), "reason": packed(TEXT, 12)})
    logout(client)

    login(client, CARIFOREF)
    _type_in_the_workspace(client, action)
    for answered in (action, revision):
        _post(client, "/admin/actions/answer/", {"id": str(answered.id), "body": packed(TEXT, 16)})
    _post(client, "/admin/actions/submit/", {"id": str(action.id)})
    logout(client)
    _api_write(client, token, revision.id, 20)  # changes since the question, sent again

    login(client, VALIDATOR)
    for approved in (action, api_action):
        _post(client, "/admin/validation/approve/", {"id": str(approved.id)})
    logout(client)
    db.session.expire_all()
    assert [a.status for a in (action, api_action, revision)] == [
        ActionStatus.PUBLIEE,
        ActionStatus.PUBLIEE,
        ActionStatus.EN_ATTENTE_VALIDATION,
    ]
    session = action.sessions[0]
    return Hostile(
        formation_id=action.formation_id,
        action_id=action.id,
        session_id=session.id,
        dispositif_id=session.dispositifs[0].id,
        site_id=action.site_id,
        contact_id=session.referent_pmr_id,
        api_action_id=api_action.id,
        revision_id=revision.id,
        refused_action_id=refused.id,
        intitule=action.formation.intitule,
    )


def page_problems(response, shows: str | None = JS) -> list[str]:
    """What is wrong with a page that should show the payloads (``shows`` in its text) and run none."""
    if response.status_code != 200:
        return [f"status {response.status_code}"]
    body = response.get_data(as_text=True)
    problems = html_problems(body)
    if shows and shows not in _shown_text(body):
        problems.append(f"{shows!r} not shown: the payloads did not reach the page")
    return problems


def _shown_text(body: str) -> str:
    """The text of a page and the values of its form fields."""
    root = lxml.html.document_fromstring(body.replace("\x00", ""))
    return "\n".join([root.text_content(), *root.xpath("//input/@value")])


def visit(client, urls: dict[str, str | None]) -> dict[str, list[str]]:
    """The problems of each page (``urls``: address → text it must show), pages without any left out."""
    found = {url: page_problems(client.get(url), shows) for url, shows in urls.items()}
    return {url: problems for url, problems in found.items() if problems}


def test_admin_screens_show_the_payloads_as_text(client, hostile):
    login(client, CARIFOREF)
    found = visit(
        client,
        {
            "/admin/": None,
            "/admin/formations/": JS,
            "/admin/actions/": JS,
            "/admin/sessions/": JS,
            "/admin/dispositifs/": None,  # no free-text column
            "/admin/sites/": JS,
            "/admin/contacts/": JS,
            "/admin/portes_ouvertes/": JS,
            "/admin/historique/": JS,
            "/admin/api_tokens/": JS,
            f"/admin/formations/edit/?id={hostile.formation_id}": JS,
            f"/admin/actions/edit/?id={hostile.action_id}": JS,
            f"/admin/actions/recap/?id={hostile.action_id}": JS,
            f"/admin/actions/recap/?id={hostile.api_action_id}": JS,
            f"/admin/actions/recap/?id={hostile.revision_id}": JS,
            f"/admin/sessions/edit/?id={hostile.session_id}": JS,
            f"/admin/dispositifs/edit/?id={hostile.dispositif_id}": JS,
            f"/admin/sites/edit/?id={hostile.site_id}": JS,
            f"/admin/contacts/edit/?id={hostile.contact_id}": JS,
        },
    )
    logout(client)
    login(client, ATLANTIQUE)
    found |= visit(client, {f"/admin/actions/recap/?id={hostile.refused_action_id}": JS})
    logout(client)
    login(client, VALIDATOR)
    found |= visit(
        client,
        {
            "/admin/validation/": JS,
            "/admin/validation/?etat=publiee": JS,
            f"/admin/validation/review/?id={hostile.revision_id}": JS,
            f"/admin/validation/review/?id={hostile.action_id}": JS,
            f"/admin/validation/review/?id={hostile.api_action_id}": JS,
            f"/admin/validation/review/?id={hostile.refused_action_id}": JS,
            "/admin/historique/": JS,
        },
    )
    assert found == {}


def test_public_pages_show_the_payloads_as_text(client, hostile):
    formation = f"/formations/{hostile.formation_id}"
    found = visit(
        client,
        {
            "/": None,
            "/formations?domaine=15052": JS,
            f"/formations?q={quote(packed(200))}": JS,  # the query is shown back
            formation: JS,
            f"/formations/{_action(DEAS).formation_id}": JS,
            f"/organismes/{CARIFOREF_SIRET}": JS,
        },
    )
    assert found == {}
    page = lxml.html.document_fromstring(client.get(formation).get_data(as_text=True))
    (json_ld,) = page.xpath("//script[@type='application/ld+json']")
    assert json.loads(json_ld.text)["name"] == hostile.intitule  # the payloads, as typed


def _texts(value, key: str = ""):
    """Every (key, string) of a JSON document."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _texts(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, key)
    elif isinstance(value, str):
        yield key, value


def test_api_serves_sanitised_rich_text_as_json(client, hostile):
    urls = [
        f"/api/v1/formations/{hostile.formation_id}",
        f"/api/v1/formations/{_action(DEAS).formation_id}",
        f"/api/v1/organisations/{CARIFOREF_SIRET}",
        "/api/v1/formations?domaine=15052",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "application/json", url
        texts = list(_texts(response.get_json()))
        rich = [(key, text) for key, text in texts if key in RICH_TEXT_KEYS and text]
        assert rich or "domaine" in url, f"{url}: no rich text served"
        assert {key: html_problems(text) for key, text in rich if html_problems(text)} == {}, url
        assert any(JS in text for _key, text in texts), f"{url}: the payloads did not reach the API"
    served = client.get(f"/api/v1/formations/{hostile.formation_id}").get_json()
    assert served["formation"]["intitule"] == hostile.intitule  # plain text kept exactly as typed
