"""Accessibility of the public catalogue: axe-core in headless Chromium finds no serious or critical
violation (WCAG 2.1 A/AA rules) on the home, search results, formation and organisation pages.

The app is served by a real server (werkzeug) on 127.0.0.1; Debian's Chromium (``make browser``)
is driven by Playwright (fixtures in ``conftest.py``); axe-core is vendored in ``tests/vendor/axe.min.js``.
"""

import pytest
import sqlalchemy as sa

from models import Action, ActionStatus, db
from tests.browser import axe_report, axe_violations


@pytest.fixture
def server(live_server):
    return live_server


@pytest.fixture
def page(browser_page):
    return browser_page


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
        found = axe_violations(page)
        if found:
            problems[name] = axe_report(found)
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
