"""Accessibility of the public catalogue: axe-core in headless Chromium finds no serious or critical
violation (WCAG 2.1 A/AA rules) on the home, search results, formation and organisation pages.

The app is served by a real server (werkzeug) on 127.0.0.1; Debian's Chromium (``make browser``)
is driven by Playwright; axe-core is vendored in ``tests/vendor/axe.min.js``.
"""

import logging
import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from models import Action, ActionStatus, db

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = "Chromium manque : lancer « make browser » (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def server(app, demo):
    """The app on a real HTTP server on 127.0.0.1 (a free port), for the test's duration."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the test output
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    opened = context.new_page()
    yield opened
    context.close()


def _violations(page) -> list[dict]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]


def _report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']} {violation['id']}: {violation['help']} → {targets}")
    return "\n".join(lines)


def _published_action() -> Action:
    return db.session.scalar(
        sa.select(Action).where(Action.status == ActionStatus.PUBLIEE).order_by(Action.id).limit(1)
    )


def test_public_pages_have_no_serious_accessibility_violation(server, page):
    action = _published_action()
    pages = {
        "accueil": "/",
        "résultats": "/formations?q=formation&commune=44109&rayon=50",
        "résultats filtrés": "/formations?dispositif=4&public=80006",
        "formation": f"/formations/{action.formation_id}",
        "organisme": f"/organismes/{action.organisation.siret}",
    }
    problems = {}
    for name, path in pages.items():
        response = page.goto(server + path)
        assert response.status == 200, (name, response.status)
        assert page.locator("h1").count() == 1, name
        found = _violations(page)
        if found:
            problems[name] = _report(found)
    assert not problems, "\n".join(f"[{name}]\n{report}" for name, report in problems.items())


def test_the_search_works_with_the_keyboard_alone(server, page):
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Aller au contenu"
    page.focus("#q")
    page.keyboard.type("développeur")
    page.keyboard.press("Enter")
    page.wait_for_url("**/formations?q=*")
    heading = page.locator("#titre-resultats").inner_text()
    assert heading.split()[0].isdigit() and int(heading.split()[0]) >= 1


def test_print_hides_the_search_tools(server, page):
    page.goto(server + "/formations")
    page.emulate_media(media="print")
    assert page.locator("aside.filters").is_hidden()
    assert page.locator(".result-card").first.is_visible()
