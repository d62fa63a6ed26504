"""Accessibility of the back office: axe-core finds no serious or critical violation (WCAG 2.1 A/AA and
best practices) on any screen the organisations, the validators, the funders, the Région and the
administrators open, nor on the accounts pages.

Each role logs in through the login page and the walker follows every link of its pages (menu,
dashboard counters, list rows, buttons…) to each back-office endpoint it has not seen yet, so a new
screen is audited as soon as something links to it; a GET endpoint that no walk reached fails the
test. Create forms are also submitted empty, and the fields in error must be tied to their message.
"""

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from models import (
    Action,
    ActivationKeyRequest,
    Formation,
    Organisation,
    PasswordResetToken,
    Public,
    SessionDispositif,
    User,
    db,
)
from models.base import utcnow
from sofi.services import workflow
from sofi.services.accounts import hash_secret
from sofi.services.demo import DEMO_PASSWORD
from tests.browser import axe_report, axe_violations
from tests.web import login, logout, post_form, text

ROLES = {
    "organisme CARIFOREF": "cariforef@demo.sofi.fr",
    "organisme Atlantique (deux SIRET)": "atlantique@demo.sofi.fr",
    "administrateur": "admin@demo.sofi.fr",  # before the validator: it sees every screen the validator sees, and more
    "valideur": "valideur@demo.sofi.fr",
    "financeur": "france-travail@demo.sofi.fr",
    "Région": "region@demo.sofi.fr",
}
# GET endpoints that are not screens: files, JSON for widgets, the public site (tests/test_accessibility.py).
NOT_SCREENS_SUFFIXES = (".export", ".ajax_lookup")
NOT_BACK_OFFICE_PREFIXES = ("catalogue.", "api.", "lheo_api.")
NOT_SCREENS = {
    "validation.document_view",
    "auth.logout",
    "static",
    "admin.static",
    "health.healthz",
    "favicon.favicon_ico",
}
# Entry pages of the anonymous visitor (the walker follows their links too).
ANONYMOUS_START = ["/login", "/mot-de-passe/oubli", "/activation", "/activation/demande"]
# Pages whose form is also submitted empty: the errors must be shown and tied to their fields.
SUBMITTED_EMPTY = (
    "create_view",
    "issue_view",
    "auth.login",
    "auth.password_reset",
    "auth.password_reset_request",
    "auth.activate",
    "auth.request_key",
)


class Walker:
    """Visits back-office pages in one browser tab and collects the axe-core violations per screen."""

    def __init__(self, app, server: str):
        self.adapter = app.url_map.bind("sofi.test")
        self.server = server
        self.problems: dict[str, str] = {}
        self.walked: set[str] = set()
        self.filtered: set[str] = set()

    def endpoint(self, url: str) -> str | None:
        """The back-office endpoint ``url`` opens, None for other sites, files and the public pages."""
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != urlsplit(self.server).netloc:
            return None
        try:
            endpoint, _ = self.adapter.match(parts.path, method="GET")
        except HTTPException:
            return None
        if endpoint in NOT_SCREENS or endpoint.endswith(NOT_SCREENS_SUFFIXES):
            return None
        if endpoint.startswith(NOT_BACK_OFFICE_PREFIXES):
            return None
        return endpoint

    def audit(self, page, screen: str) -> None:
        found = axe_violations(page)
        if found:
            self.problems[screen] = axe_report(found)

    def visit(self, page, role: str, url: str) -> None:
        """Open ``url``, audit it, and submit it empty when it is a form that creates something."""
        response = page.goto(self.server + url if url.startswith("/") else url)
        endpoint = self.endpoint(page.url)
        address = urlsplit(page.url)
        screen = f"{role} — {address.path}{'?' + address.query if address.query else ''} ({response.status})"
        self.audit(page, screen)
        if endpoint:
            self.walked.add(endpoint)
        if response.status == 200 and endpoint and endpoint.endswith(SUBMITTED_EMPTY):
            self.submit_empty(page, f"{screen} envoyé vide")
        if response.status == 200 and role not in self.filtered and page.locator(".field-filters a.filter").count():
            self.add_filter(page, role, f"{screen} avec un filtre")

    def submit_empty(self, page, screen: str) -> None:
        """Submit the page's main form as it is (browser checks off), then audit the errors shown."""
        form = page.locator("form[method=post]:not([action$='/logout']):not(.d-none):has([type=submit])").last
        if not form.count():
            return
        form.evaluate("f => { f.noValidate = true; }")
        with page.expect_navigation():
            form.locator("[type=submit]").last.click()
        self.audit(page, screen)
        untied = page.evaluate(UNTIED_ERRORS)
        if untied:
            self.problems[screen + " : champs en erreur sans message associé"] = ", ".join(untied)

    def add_filter(self, page, role: str, screen: str) -> None:
        """Add the list's first filter (its fields are built by Flask-Admin's script), once per role."""
        self.filtered.add(role)
        page.locator(".field-filters").locator("xpath=preceding-sibling::a").click()
        page.locator(".field-filters a.filter").first.click()
        page.locator(".filter-val").first.wait_for(state="attached")
        self.audit(page, screen)

    def walk(self, page, role: str, start: list[str], seen: set[str]) -> None:
        """Open the ``start`` pages, then breadth-first every link to an endpoint not in ``seen`` yet."""
        queue = list(start)
        seen.update(self.endpoint(self.server + url) for url in start)
        while queue:
            self.visit(page, role, queue.pop(0))
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                endpoint = self.endpoint(href)
                if endpoint and endpoint not in seen:
                    seen.add(endpoint)
                    queue.append(href)


# Every field marked invalid must point (aria-describedby) at a non-empty message.
UNTIED_ERRORS = """() => Array.from(document.querySelectorAll('[aria-invalid=true], .is-invalid'))
  .filter(el => ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName))
  .filter(el => !(el.getAttribute('aria-describedby') || '').split(/\\s+/)
     .some(id => id && document.getElementById(id) && document.getElementById(id).textContent.trim()))
  .map(el => el.id || el.name)"""


def _action(intitule: str) -> Action:
    return db.session.scalar(sa.select(Action).join(Formation).where(Formation.intitule == intitule))


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


@pytest.fixture
def offer_under_review(client, demo, session) -> dict[str, int]:
    """Work waiting for each back-office role: a revision of a published programme action (for the Région),
    questioned by the validator and answered (a thread and differences on the review page), a session
    waiting for France Travail's approval, a request for an activation key."""
    revised = _action("PREPA Avenir Sup")
    url = f"/admin/actions/edit/?id={revised.id}"
    fields = ("complement_programme", "objectifs", "resultats_attendus", "commentaire_prerequis")
    data = {name: getattr(revised, name) or "" for name in fields}
    data.update(site_id=str(revised.site_id), niveau_entree=revised.niveau_entree, prerequis=list(revised.prerequis))
    login(client, ROLES["organisme CARIFOREF"])
    assert post_form(client, url, {**data, "plus_formation": "<p>Stage en entreprise</p>"}).status_code == 302
    assert post_form(client, "/admin/actions/submit/", {"id": str(revised.id)}, form_url=url).status_code == 302
    workflow.ask_question(_user(ROLES["valideur"]), db.session.get(Action, revised.id), "Quelle entreprise ?")
    for target, extra in (("answer", {"body": "Une entreprise du bâtiment."}), ("submit", {})):
        response = post_form(client, f"/admin/actions/{target}/", {"id": str(revised.id), **extra}, form_url=url)
        assert response.status_code == 302
    logout(client)
    login(client, ROLES["valideur"])
    review = text(client.get(f"/admin/validation/review/?id={revised.id}"))
    assert "Différences avec la version publiée" in review and "Une entreprise du bâtiment." in review
    logout(client)

    funded = _action("Bureautique : Word, Excel et outils collaboratifs")
    funded.sessions[0].dispositifs.append(  # AIF: France Travail approves it
        SessionDispositif(dispositif_code=11, nb_places=4, publics=[session.get(Public, "80006")])
    )
    session.add(
        ActivationKeyRequest(
            siret="44123456400033",
            raison_sociale="ATLANTIQUE COMPETENCES",
            nom="Durand",
            prenom="Léa",
            email="lea.durand@example.org",
        )
    )
    session.commit()
    return {"revised": revised.id, "funded": funded.id}


@pytest.fixture
def reset_link(demo, session) -> str:
    token = secrets.token_urlsafe(32)
    user = _user(ROLES["administrateur"])
    session.add(PasswordResetToken(user=user, token_hash=hash_secret(token), expires_at=utcnow() + timedelta(hours=1)))
    session.commit()
    return f"/mot-de-passe/nouveau/{token}"


def _log_in(page, server: str, email: str) -> None:
    page.goto(server + "/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert urlsplit(page.url).path == "/admin/", page.url


def _screens(app) -> set[str]:
    """The GET endpoints of the back office a user can open (per the capabilities of each model view)."""
    walker = Walker(app, "")
    closed = set()
    for view in app.extensions["admin"][0]._views:
        for capability, endpoint in (("can_create", "create_view"), ("can_edit", "edit_view")):
            if getattr(view, capability, True) is False:
                closed.add(f"{view.endpoint}.{endpoint}")
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and walker.endpoint("/" + rule.rule.replace("<token>", "x").lstrip("/")) == rule.endpoint
        and rule.endpoint not in closed
    }


def test_every_back_office_screen_has_no_serious_accessibility_violation(
    app, live_server, browser, offer_under_review, reset_link
):
    walker = Walker(app, live_server)
    cariforef_formation = db.session.scalar(
        sa.select(Formation.id).join(Organisation).where(Organisation.siret == "13000511900032").order_by(Formation.id)
    )
    revised, funded = offer_under_review["revised"], offer_under_review["funded"]
    extra_starts = {
        "organisme CARIFOREF": [
            "/admin/formations/new/?certifiante=non",
            "/admin/formations/new/?certifiante=oui&q=assistant",
            "/admin/formations/new/?certifiante=oui&certifinfo=109049",
            f"/admin/actions/new/?formation_id={cariforef_formation}",
            f"/admin/actions/recap/?id={revised}",
            "/admin/validation/",  # 403 page
            "/admin/actions/details/?id=999999999",  # 404 page
        ],
        "valideur": [f"/admin/validation/review/?id={revised}", f"/admin/validation/bulk-reject/?ids={revised}"],
        "financeur": [f"/admin/financeur/decision/?id={funded}"],
        "Région": [f"/admin/region/review/?id={revised}"],
    }
    groups = {"organisme": set(), "Cariforef": set()}  # roles seeing the same screens share what they have seen
    group_of = {
        "organisme CARIFOREF": "organisme",
        "organisme Atlantique (deux SIRET)": "organisme",
        "administrateur": "Cariforef",
        "valideur": "Cariforef",
    }

    context = browser.new_context(locale="fr-FR")
    walker.walk(context.new_page(), "anonyme", [*ANONYMOUS_START, reset_link], set())
    context.close()
    for role, email in ROLES.items():
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        _log_in(page, live_server, email)
        seen = groups.get(group_of.get(role), set())
        walker.walk(page, role, ["/admin/", *extra_starts.get(role, [])], seen)
        context.close()

    failures = [f"[{screen}]\n{report}" for screen, report in walker.problems.items()]
    missing = _screens(app) - walker.walked
    if missing:
        failures.append(f"Écrans jamais ouverts (aucun lien n'y mène) : {sorted(missing)}")
    assert not failures, "\n".join(failures)
