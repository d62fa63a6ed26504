"""Browser journeys of training organisations, typed as a person would, following the seed procedures.

Debian's Chromium (Playwright) drives the app served with the demo data set (``live_server``), on
SQLite and on PostgreSQL. Each journey takes a screenshot of every main screen it passes
(``test-artefacts/screenshots/<backend>/``).
"""

import pytest
from playwright.sync_api import expect

from tests.journeys import (
    SessionInput,
    expect_message,
    fill_action,
    fill_dispositif,
    fill_session,
    log_in,
    open_recap,
    search_certification,
    start,
    submit_for_validation,
)

AUTRES_FINANCEMENTS = "Formation avec autres financements (entreprise, individuel)"


@pytest.fixture
def journey(request, browser_page, live_server, backend):
    return start(browser_page, live_server, backend, request.node.originalname.removeprefix("test_"))


def test_certifying_formation_with_total_validation_up_to_submission(journey):
    """Seed 000, first path: Certif Info search showing the certifier, total validation, F-A-S-D, recap, submit."""
    page = journey.page
    log_in(journey, "maine@demo.sofi.fr")
    search_certification(journey, "ressources humaines", 113613, "CCI France")
    expect(page.get_by_text("RNCP36612BC04")).to_be_visible()
    page.get_by_role("radio", name="Totale").check()
    journey.shot("fiche-formation")
    page.get_by_role("button", name="Enregistrer").click()
    expect_message(journey, "Fiche Formation enregistrée.")
    action_id = fill_action(
        journey,
        objectifs="Assurer la gestion administrative du personnel et la paie.",
        plus_formation="Plateau technique RH et logiciel de paie.",
        prerequis="Niveau 4 validé (Bac, Bac pro, BP ou équivalent)",
    )
    fill_session(journey, SessionInput(date_debut="2027-01-11", date_fin="2027-06-25"))
    fill_dispositif(journey, AUTRES_FINANCEMENTS, "12")
    journey.shot("session-avec-dispositif")
    open_recap(journey)
    recap = page.locator("main, body").first
    expect(recap).to_contain_text("RNCP36612BC01, RNCP36612BC02, RNCP36612BC03, RNCP36612BC04")
    expect(recap).to_contain_text("du 11/01/2027 au 25/06/2027")
    expect(recap).to_contain_text("12 place(s)")
    journey.shot("etat-de-la-saisie")
    submit_for_validation(journey)
    journey.shot("envoyee-en-validation")
    assert action_id
