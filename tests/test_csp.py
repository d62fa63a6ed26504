"""The pages work under the Content-Security-Policy (sofi/security_headers.py), which refuses inline
scripts, inline event handlers, ``javascript:`` URLs and inline styles.

A crawl of what each role sees (every endpoint reachable by a link from its dashboard, plus the
public and account pages) checks the HTML itself; real Chromium then opens the main screens and the
Flask-Admin bulk action menu with the policy enforced and records every violation it reports.
"""

from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import sqlalchemy as sa
from werkzeug.exceptions import HTTPException

from models import Action, ActionStatus, Organisation, db
from sofi.services.demo import DEMO_PASSWORD
from tests.web import login, logout

ROLES = [
    "cariforef@demo.sofi.fr",
    "atlantique@demo.sofi.fr",
    "valideur@demo.sofi.fr",
    "admin@demo.sofi.fr",
    "france-travail@demo.sofi.fr",
    "region@demo.sofi.fr",
]
PUBLIC_PAGES = ["/", "/formations", "/login", "/mot-de-passe/oubli", "/activation", "/activation/demande", "/nulle"]
# Each endpoint is opened this many times per role (e.g. two different records), links followed from there.
VISITS_PER_ENDPOINT = 2
EVENT_ATTRIBUTE_PREFIX = "on"
# Not HTML pages: files, the JSON API and LHÉO documents.
NOT_PAGES = ("static", "admin.static", "api.", "lheo_api.", "health.")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data")


def inline_code(html: str) -> list[str]:
    """What the policy would refuse in a page: inline scripts (JSON-LD data excepted), event handler
    attributes, ``javascript:`` URLs, ``style`` attributes and ``<style>`` elements."""
    document = lxml.html.document_fromstring(html)
    found = []
    for script in document.iter("script"):
        if not script.get("src") and script.get("type") != "application/ld+json":
            found.append(f"<script> en ligne : {(script.text or '').strip()[:80]}")
    for style in document.iter("style"):
        found.append(f"<style> en ligne : {(style.text or '').strip()[:80]}")
    for element in document.iter(tag=lxml.etree.Element):
        for name, value in element.attrib.items():
            handler = name.lower().startswith(EVENT_ATTRIBUTE_PREFIX)
            script_url = name.lower() in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:")
            if handler or script_url or name.lower() == "style":
                found.append(f"<{element.tag} {name}={value!r}>")
    return found


class PageCrawl:
    """Follows the links of the pages a client sees, each endpoint a few times, and checks every HTML page."""

    def __init__(self, app, client):
        self.adapter = app.url_map.bind("sofi.test")
        self.client = client
        self.problems: dict[str, list[str]] = {}
        self.endpoints: set[str] = set()

    def endpoint(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "sofi.test":
            return None
        try:
            endpoint, _ = self.adapter.match(parts.path, method="GET")
        except HTTPException:
            return None
        return None if endpoint.startswith(NOT_PAGES) or endpoint.endswith(".export") else endpoint

    def check(self, url: str):
        response = self.client.get(url)
        if response.mimetype == "text/html":
            found = inline_code(response.get_data(as_text=True))
            if found:
                self.problems[url] = found
        return response

    def crawl(self, start: list[str]) -> None:
        queue, seen, visits = list(start), set(start), {}
        while queue:
            url = queue.pop(0)
            response = self.check(url)
            endpoint = self.endpoint(url)
            self.endpoints.add(endpoint)
            if response.mimetype != "text/html" or not response.get_data():
                continue
            for href in lxml.html.document_fromstring(response.get_data(as_text=True)).xpath("//a/@href"):
                target = self.endpoint(href)
                href = urlsplit(href)._replace(scheme="", netloc="").geturl()
                if target and href not in seen and visits.get(target, 0) < VISITS_PER_ENDPOINT:
                    visits[target] = visits.get(target, 0) + 1
                    seen.add(href)
                    queue.append(href)


def test_the_inline_code_detector_finds_what_the_policy_refuses():
    page = """<html><head><script>alert(1)</script><script type="application/ld+json">{"a": 1}</script>
      <script src="/static/sofi.js"></script><style>p {}</style></head>
      <body><a href="javascript:void(0)">x</a><button onclick="go()">y</button>
      <p style="color: red">z</p></body></html>"""
    assert len(inline_code(page)) == 5


def test_no_page_of_any_role_holds_inline_code(app, client, demo, session):
    crawl = PageCrawl(app, client)
    crawl.crawl(PUBLIC_PAGES)
    for email in ROLES:
        login(client, email, DEMO_PASSWORD)
        crawl.crawl(["/admin/"])
        logout(client)
    assert not crawl.problems, "\n".join(f"{url}: {found}" for url, found in crawl.problems.items())
    # The crawl reached the screens of every kind: lists, forms, details, validation and programme screens.
    for endpoint in (
        "formations.index_view",
        "actions.edit_view",
        "actions.recap_view",
        "sessions.details_view",
        "validation.review_view",
        "financeur.index_view",
        "users.edit_view",
        "region.index",
        "catalogue.formation",
        "catalogue.organisation",
    ):
        assert endpoint in crawl.endpoints, sorted(crawl.endpoints)


# In Chromium ------------------------------------------------------------------------------------
RECORD_VIOLATIONS = """document.addEventListener("securitypolicyviolation", event => {
  (window.cspViolations = window.cspViolations || []).push(
    `${event.effectiveDirective} refusé : ${event.blockedURI || "en ligne"} (${event.sourceFile}:${event.lineNumber})`);
});"""


class BrowserWatch:
    """Collects the policy violations, console errors and script errors of every page the tab opens."""

    def __init__(self, page, server: str):
        self.page, self.server = page, server
        self.problems: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.problems.append(str(error)))

    def console(self, message) -> None:
        source = message.location.get("url", "")
        if message.type == "error" and not source.endswith("/favicon.ico"):  # the browser's own request, no page asks
            self.problems.append(f"console : {message.text} ({source})")

    def collect(self, where: str) -> None:
        for violation in self.page.evaluate("window.cspViolations || []"):
            self.problems.append(f"{where} : {violation}")

    def open(self, path: str) -> None:
        response = self.page.goto(self.server + path)
        assert response.status == 200, (path, response.status)
        self.exercise_menus()
        self.collect(path)

    def exercise_menus(self) -> None:
        """Open the first menu category and, on lists, add a filter: the scripts run, nothing navigates."""
        url = self.page.url
        toggle = self.page.locator(".navbar a.dropdown-toggle").first
        toggle.click()
        self.page.locator(".navbar .dropdown-menu.show").wait_for()
        toggle.click()
        self.page.locator(".navbar .dropdown-menu.show").wait_for(state="detached")
        if self.page.locator("a.filter").count():
            self.page.locator(".nav-tabs a.dropdown-toggle", has_text="Ajouter un filtre").click()
            self.page.locator("a.filter").first.click()
            self.page.locator("#filter_form .filter-val").first.wait_for()
        assert self.page.url == url

    def log_in(self, email: str) -> None:
        self.page.goto(self.server + "/login")
        self.page.fill("#email", email)
        self.page.fill("#password", DEMO_PASSWORD)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        self.collect("/login")


def _first(status: ActionStatus, organisation_siret: str | None = None) -> Action:
    query = sa.select(Action).where(Action.status == status).order_by(Action.id)
    if organisation_siret:
        query = query.join(Organisation).where(Organisation.siret == organisation_siret)
    return db.session.scalars(query).first()


def test_the_main_screens_run_under_the_policy_in_chromium(live_server, browser_page):
    watch = BrowserWatch(browser_page, live_server)
    draft = _first(ActionStatus.EN_COURS_DE_SAISIE, "13000511900032")
    watch.log_in("cariforef@demo.sofi.fr")
    for path in (
        "/admin/",
        "/admin/formations/",
        "/admin/actions/",
        f"/admin/actions/edit/?id={draft.id}",
        f"/admin/actions/recap/?id={draft.id}",
        f"/admin/sessions/new/?action_id={draft.id}",
        "/admin/sessions/",
        f"/admin/sessions/details/?id={draft.sessions[0].id}",
        "/admin/sites/",
        "/admin/historique/",
        "/admin/api_tokens/",
    ):
        watch.open(path)
    browser_page.context.clear_cookies()
    waiting = _first(ActionStatus.EN_ATTENTE_VALIDATION)
    watch.log_in("valideur@demo.sofi.fr")
    for path in ("/admin/", "/admin/validation/", f"/admin/validation/review/?id={waiting.id}", "/admin/certifinfo/"):
        watch.open(path)
    assert not watch.problems, "\n".join(watch.problems)


def test_the_bulk_action_menu_works_under_the_policy(live_server, browser_page):
    """The validator selects rows of the queue, picks "Valider" in the menu and confirms: the actions are handled."""
    watch = BrowserWatch(browser_page, live_server)
    watch.log_in("valideur@demo.sofi.fr")
    watch.open("/admin/validation/")
    boxes = browser_page.locator("input.action-checkbox")
    assert boxes.count() >= 2
    selected = [boxes.nth(i).get_attribute("value") for i in range(2)]
    for i in range(2):
        boxes.nth(i).check()
    dialogs = []
    browser_page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    browser_page.locator("a.dropdown-toggle", has_text="Avec la sélection").click()
    with browser_page.expect_navigation():
        browser_page.locator("[data-model-action=valider]").click()
    watch.collect("/admin/validation/ après « Valider »")
    assert dialogs == ["Valider les actions sélectionnées ?"]
    db.session.expire_all()
    statuses = {db.session.get(Action, int(action_id)).status for action_id in selected}
    flashes = browser_page.locator(".alert").all_inner_texts()
    handled = [action_id for action_id in selected if any(action_id in text for text in flashes)]
    published = ActionStatus.PUBLIEE in statuses
    # Each selected action was either published or listed with the reason it was skipped.
    assert published or len(handled) == len(selected), flashes
    assert any("validée" in text for text in flashes), flashes
    assert not watch.problems, "\n".join(watch.problems)
