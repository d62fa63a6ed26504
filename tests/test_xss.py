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
from lxml import etree
from werkzeug.datastructures import MultiDict

from models import Action, ActionStatus, Formation, db
from sofi.services.demo import DEMO_PASSWORD
from tests.catalogue_support import bearer, token_for
from tests.lheo_support import NS, assert_valid, parse
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


def _admin_problems(client, hostile: Hostile) -> dict[str, list[str]]:
    """Lists, forms, recaps, history and token pages of the organisations; the validator's queue and reviews."""
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
    logout(client)
    return found


def _public_problems(client, hostile: Hostile) -> dict[str, list[str]]:
    """Catalogue search results, formation and organisation pages, with their JSON-LD."""
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
    page = lxml.html.document_fromstring(client.get(formation).get_data(as_text=True))
    (json_ld,) = page.xpath("//script[@type='application/ld+json']")
    if json.loads(json_ld.text)["name"] != hostile.intitule:
        found[f"{formation} JSON-LD"] = ["the title is not the one typed"]
    return found


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


def _api_problems(client, hostile: Hostile) -> dict[str, list[str]]:
    """Public JSON: the right content type, rich text sanitised, plain text kept exactly as typed."""
    found = {}
    for url in (
        f"/api/v1/formations/{hostile.formation_id}",
        f"/api/v1/formations/{_action(DEAS).formation_id}",
        f"/api/v1/organisations/{CARIFOREF_SIRET}",
        "/api/v1/formations?domaine=15052",
    ):
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "application/json":
            found[url] = [f"status {response.status_code}, {response.mimetype}"]
            continue
        texts = list(_texts(response.get_json()))
        problems = [f"{key}: {p}" for key, text in texts if key in RICH_TEXT_KEYS for p in html_problems(text)]
        if not any(JS in text for _key, text in texts):
            problems.append("the payloads did not reach the API")
        if problems:
            found[url] = problems
    served = client.get(f"/api/v1/formations/{hostile.formation_id}").get_json()
    if served["formation"]["intitule"] != hostile.intitule:
        found["intitule"] = ["plain text not served as typed"]
    return found


# LHÉO elements (and action extras) carrying rich text: HTML that consumers show as such.
RICH_LHEO_ELEMENTS = {"objectif-formation", "resultats-attendus", "contenu-formation"}
RICH_LHEO_EXTRAS = {
    "complement-programme",
    "objectifs",
    "resultats-attendus",
    "plus-formation",
    "equipement-commentaire",
}


def _rich_lheo_texts(root):
    for element in root.iter():
        name = etree.QName(element).localname if isinstance(element.tag, str) else ""
        if name in RICH_LHEO_ELEMENTS or (name == "extra" and element.get("info") in RICH_LHEO_EXTRAS):
            yield element


def _rich_lheo_problems(root) -> dict[str, list[str]]:
    """Rich texts of an LHÉO document that would run script once shown as HTML."""
    found = {}
    for element in _rich_lheo_texts(root):
        if problems := html_problems(element.text or ""):
            found[f"{element.tag} {element.get('info') or ''}"] = [element.text[:300], *problems]
    return found


def _lheo_problems(client, cli, hostile: Hostile, tmp_path) -> dict[str, list[str]]:
    """The LHÉO export and the formation's LHÉO document: XSD-valid, payloads escaped, rich text sanitised."""
    output = tmp_path / "offre.xml"
    result = cli("sofi", "export-lheo", "--output", str(output), "--organisation", CARIFOREF_SIRET)
    assert result.exit_code == 0, result.output
    served = client.get(f"/api/v1/formations/{hostile.formation_id}.lheo")
    assert served.status_code == 200 and served.mimetype.endswith("xml")
    found = {}
    for name, root in (("export-lheo", parse(output)), ("formation.lheo", parse(served.get_data()))):
        assert_valid(root)  # parse() has already refused anything not well-formed
        problems = [f"{tag}: {p}" for tag, texts in _rich_lheo_problems(root).items() for p in texts]
        if not any(JS in (e.text or "") for e in root.iter(f"{{{NS}}}intitule-formation")):
            problems.append("no payload in the titles")
        if not any(JS in (e.text or "") for e in _rich_lheo_texts(root)):
            problems.append("no payload in the rich texts")
        if problems:
            found[name] = problems
    return found


def test_every_screen_the_api_and_lheo_show_the_payloads_inertly(client, cli, hostile, tmp_path):
    found = _admin_problems(client, hostile)
    found |= _public_problems(client, hostile)
    found |= _api_problems(client, hostile)
    found |= _lheo_problems(client, cli, hostile, tmp_path)
    assert found == {}


def test_no_payload_runs_in_a_real_browser(browser, live_server, hostile):
    """Chromium with the CSP bypassed, so that only escaping and sanitising stand in the way."""
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ran = {}

    def open_all(urls):
        for url in urls:
            page.goto(f"{live_server}{url}", wait_until="load")
            page.wait_for_timeout(50)  # autofocus and toggle handlers fire after load
            if page.evaluate("window.__xss !== undefined") or dialogs:
                ran[url] = list(dialogs)

    def sign_in(email):
        context.clear_cookies()
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/admin/**")

    try:
        open_all(
            [
                f"/formations/{hostile.formation_id}",
                f"/formations/{_action(DEAS).formation_id}",
                f"/organismes/{CARIFOREF_SIRET}",
                "/formations?domaine=15052",
            ]
        )
        sign_in(CARIFOREF)
        open_all(
            [
                f"/admin/actions/recap/?id={hostile.action_id}",
                f"/admin/actions/recap/?id={hostile.api_action_id}",
                f"/admin/actions/edit/?id={hostile.action_id}",
                f"/admin/sessions/edit/?id={hostile.session_id}",
                f"/admin/sites/edit/?id={hostile.site_id}",
                "/admin/sites/",
                "/admin/portes_ouvertes/",
                "/admin/api_tokens/",
                "/admin/historique/",
            ]
        )
        sign_in(VALIDATOR)
        open_all([f"/admin/validation/review/?id={hostile.revision_id}", "/admin/validation/?etat=publiee"])
    finally:
        context.close()
    assert ran == {}
