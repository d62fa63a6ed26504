"""Browser journey of a Cariforef validator, with the organisation answering in its own browser.

The validator asks a question on a submitted action; the organisation (another browser context, its
own cookies) sees it, answers, corrects and resubmits; the validator approves it, then approves
several submitted actions at once from the queue; an anonymous visitor finds the approved sessions
in the public catalogue. Debian's Chromium (Playwright), demo data, SQLite and PostgreSQL.
"""

import pytest
from playwright.sync_api import expect

from tests.journeys import Journey, click_and_wait, expect_message, log_in, open_menu, open_recap, start

BUREAUTIQUE = "Bureautique : Word, Excel et outils collaboratifs"
GESTES = "Gestes et postures : prévenir les troubles musculo-squelettiques"
CONCEPTEUR = "Titre professionnel concepteur développeur d'applications"


@pytest.fixture
def new_journey(browser, live_server, backend):
    """Opens one browser context (own cookies, French) per person taking part in the journey."""
    contexts = []

    def open_for(name: str) -> Journey:
        context = browser.new_context(locale="fr-FR")
        contexts.append(context)
        return start(context.new_page(), live_server, backend, f"validation-{name}")

    yield open_for
    for context in contexts:
        context.close()


def _queue_row(journey: Journey, title: str):
    return journey.page.get_by_role("row").filter(has_text=title)


def _review(journey: Journey, title: str) -> None:
    row = _queue_row(journey, title)
    click_and_wait(journey, row.get_by_role("link", name="Examiner"), "**/admin/validation/review/**")
    expect(journey.page.get_by_role("heading", level=1)).to_contain_text("En attente de validation")


def _ask_question(validator: Journey) -> None:
    page = validator.page
    log_in(validator, "valideur@demo.sofi.fr")
    open_menu(validator, "Validation", "File de validation")
    expect(_queue_row(validator, BUREAUTIQUE)).to_be_visible()
    validator.shot("file-de-validation")
    _review(validator, BUREAUTIQUE)
    expect(page.get_by_role("status")).to_have_text("Toutes les règles de validation sont respectées.")
    page.get_by_label("Poser une question à l'organisme").fill("Précisez les objectifs : quels logiciels ?")
    page.get_by_label("Champ concerné (facultatif)").fill("objectifs")
    validator.shot("examen-question")
    click_and_wait(validator, page.get_by_role("button", name="Envoyer la question"), "**/admin/validation/")
    expect_message(validator, "Question envoyée : l'action est en attente de réponses.")
    expect(_queue_row(validator, BUREAUTIQUE)).to_have_count(0)


def _answer_and_resubmit(organisation: Journey) -> None:
    page = organisation.page
    log_in(organisation, "cariforef@demo.sofi.fr")
    counter = page.get_by_role("link", name="Actions de formation en attente de réponses : 1, voir la liste")
    click_and_wait(organisation, counter, "**/admin/actions/?**preset=en-attente-reponses**")
    row = page.get_by_role("row").filter(has_text=BUREAUTIQUE)
    click_and_wait(organisation, row.locator("a[href*='/admin/actions/edit/']"), "**/admin/actions/edit/**")
    open_recap(organisation)
    thread = page.locator("section", has=page.get_by_role("heading", name="Échanges avec le Cariforef"))
    expect(thread).to_contain_text("Précisez les objectifs : quels logiciels ?")
    expect(thread).to_contain_text("(champ : objectifs)")
    page.get_by_label("Votre réponse au Cariforef").fill("Word, Excel et Teams : objectifs détaillés dans la fiche.")
    organisation.shot("reponse-organisme")
    page.get_by_role("button", name="Envoyer la réponse").click()
    expect_message(organisation, "Réponse envoyée.")
    click_and_wait(organisation, page.get_by_role("link", name="Retour à la saisie"), "**/admin/actions/edit/**")
    page.locator("#objectifs").fill("Maîtriser Word, Excel et Teams au quotidien.")
    page.get_by_role("button", name="Enregistrer").click()
    expect_message(organisation, "Fiche Action enregistrée.")
    open_recap(organisation)
    page.get_by_role("button", name="Envoyer en validation").click()
    expect_message(organisation, "Votre saisie a été envoyée au Cariforef pour validation.")
    expect(page.locator("h1 + p")).to_contain_text("état : En attente de validation")
    organisation.shot("renvoyee-en-validation")


def _submit_draft(organisation: Journey, email: str, title: str) -> None:
    """Another organisation sends one of its drafts, from Formations > Actions."""
    page = organisation.page
    page.get_by_role("button", name="Déconnexion").click()
    page.wait_for_url("**/login**")
    log_in(organisation, email)
    open_menu(organisation, "Formations", "Actions")
    row = page.get_by_role("row").filter(has_text=title)
    click_and_wait(organisation, row.locator("a[href*='/admin/actions/edit/']"), "**/admin/actions/edit/**")
    open_recap(organisation)
    page.get_by_role("button", name="Envoyer en validation").click()
    expect_message(organisation, "Votre saisie a été envoyée au Cariforef pour validation.")


def _approve_after_answer(validator: Journey) -> None:
    page = validator.page
    page.reload()
    _review(validator, BUREAUTIQUE)
    changes = page.locator("section", has=page.get_by_role("heading", name="Modifications depuis la dernière question"))
    expect(changes).to_contain_text("action.objectifs")
    expect(changes).to_contain_text("Maîtriser Word, Excel et Teams au quotidien.")
    expect(page.locator("body")).to_contain_text("Word, Excel et Teams : objectifs détaillés dans la fiche.")
    validator.shot("examen-apres-reponse")
    click_and_wait(validator, page.get_by_role("button", name="Valider et publier"), "**/admin/validation/")
    expect_message(validator, "Action validée et publiée.")


def _bulk_approve(validator: Journey) -> None:
    page = validator.page
    for title in (CONCEPTEUR, GESTES):
        _queue_row(validator, title).get_by_role("checkbox").check()
    validator.shot("selection-en-masse")
    page.get_by_role("button", name="Avec la sélection").click()
    page.once("dialog", lambda dialog: dialog.accept())
    click_and_wait(validator, page.get_by_role("button", name="Valider", exact=True), "**/admin/validation/**")
    expect_message(validator, "2 action(s) validée(s) et publiée(s).")
    expect(page.get_by_role("row").filter(has_text=CONCEPTEUR)).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text=GESTES)).to_have_count(0)
    click_and_wait(validator, page.get_by_role("link", name="Publiée"), "**etat=publiee**")
    for title in (BUREAUTIQUE, CONCEPTEUR, GESTES):
        expect(_queue_row(validator, title)).to_be_visible()
    validator.shot("actions-publiees")


def _search_catalogue(visitor: Journey, words: str) -> None:
    """The public home page's search box, as an anonymous visitor types in it."""
    page = visitor.page
    visitor.goto("/")
    page.get_by_label("Métier, formation, mot-clé").fill(words)
    page.keyboard.press("Enter")
    page.wait_for_url("**/formations?**q=**")


def _find_in_catalogue(visitor: Journey, words: str, title: str, screen: str) -> None:
    _search_catalogue(visitor, words)
    expect(visitor.page.get_by_role("list", name="Sessions trouvées")).to_contain_text(title)
    visitor.shot(screen)


def test_validator_question_answer_approval_bulk_approval_and_public_catalogue(new_journey):
    validator = new_journey("valideur")
    organisation = new_journey("organisme")
    visitor = new_journey("visiteur")
    _search_catalogue(visitor, "Gestes et postures")
    expect(visitor.page.locator("#titre-resultats")).to_have_text("0 session trouvée")  # not published yet
    _ask_question(validator)
    _answer_and_resubmit(organisation)
    _approve_after_answer(validator)
    _submit_draft(organisation, "maine@demo.sofi.fr", GESTES)
    validator.page.reload()
    _bulk_approve(validator)
    _find_in_catalogue(visitor, "Bureautique", BUREAUTIQUE, "catalogue-bureautique")
    _find_in_catalogue(visitor, "Gestes et postures", GESTES, "catalogue-gestes-et-postures")
    _find_in_catalogue(visitor, "concepteur développeur", CONCEPTEUR, "catalogue-concepteur")
    for journey in (validator, organisation, visitor):
        journey.assert_nothing_refused()
