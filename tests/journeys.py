"""What a person does in the browser journeys: log in, use the menu, fill the guided F-A-S-D forms.

Each helper acts through what the user sees (labels, buttons, menu entries, ids of form fields) and
waits for the page it leads to, so that the journeys read like the seed procedures. Screenshots of
the main screens go to ``test-artefacts/screenshots/<backend>/`` (``tests.browser.screenshot``).
"""

import re
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from sofi.services.demo import DEMO_PASSWORD
from tests.browser import SCREENSHOTS, screenshot

TIMEOUT_MS = 15_000


@dataclass
class Journey:
    """A browser tab of one user, the server it talks to and where its screenshots go."""

    page: Page
    server: str
    backend: str
    name: str
    shots: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # errors the browser reported (scripts, CSP)

    def shot(self, screen: str) -> None:
        label = f"{self.name}-{len(self.shots) + 1:02d}-{screen}"
        screenshot(self.page, self.backend, label)
        self.shots.append(label)
        # After a full-page screenshot, headless Chromium's emulated viewport is out of step with the page:
        # the next click on an element further down lands beside it. Setting the viewport again fixes it.
        size = self.page.viewport_size
        self.page.set_viewport_size({"width": size["width"], "height": size["height"] + 1})
        self.page.set_viewport_size(size)

    def assert_nothing_refused(self) -> None:
        """No script, style or form of the pages met the Content-Security-Policy's refusal."""
        refused = [text for text in self.console if "Content Security Policy" in text]
        assert not refused, refused

    def goto(self, path: str) -> None:
        self.page.goto(self.server + path)


def start(page: Page, server: str, backend: str, name: str) -> Journey:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    journey = Journey(page, server, backend, name)
    for old in (SCREENSHOTS / backend).glob(f"{name}-*.png"):
        old.unlink()  # screenshots of an earlier run of this journey, which may have stopped elsewhere
    page.on("console", lambda message: message.type == "error" and journey.console.append(message.text))
    page.on("pageerror", lambda error: journey.console.append(str(error)))
    return journey


def log_in(journey: Journey, email: str) -> None:
    """The login form, as a person fills it; lands on the Tableau de bord."""
    page = journey.page
    journey.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/admin/")
    expect(page.get_by_role("button", name="Déconnexion")).to_be_visible()


def open_menu(journey: Journey, category: str, entry: str) -> None:
    """Click a category of the navigation bar, then one of its entries."""
    page = journey.page
    page.locator("a.dropdown-toggle", has_text=category).click()
    menu = page.locator(".dropdown-menu.show")
    link = menu.get_by_role("link", name=entry, exact=True)
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{href}")


def click_and_wait(journey: Journey, locator, url_pattern: str) -> None:
    """Click, then wait for the page ``url_pattern``; if it never comes, fail with what the page says."""
    locator.click()
    try:
        journey.page.wait_for_url(url_pattern)
    except PlaywrightTimeoutError:
        journey.shot("echec")
        shown = journey.page.locator(".alert, .field-error:not(:empty)").all_inner_texts()
        raise AssertionError(
            f"still on {journey.page.url}, expected {url_pattern}; the page says {shown}; "
            f"browser errors: {journey.console}"
        ) from None


def reload_with(journey: Journey, locator) -> None:
    """Click a button that posts the form back to the same page (search, add a row) and wait for the new page."""
    with journey.page.expect_navigation():
        locator.click()


def expect_message(journey: Journey, text: str) -> None:
    """A flashed message (success, error) shown at the top of the page."""
    expect(journey.page.locator(".alert", has_text=text).first).to_be_visible()


def save(journey: Journey, next_url: str) -> None:
    """The form's "Enregistrer" button; waits for the page the save leads to."""
    click_and_wait(journey, journey.page.get_by_role("button", name="Enregistrer"), next_url)


def check(journey: Journey, *labels: str) -> None:
    for text in labels:
        journey.page.get_by_label(text, exact=True).check()


def choose(select, text: str) -> None:
    """Choose the option of a drop-down whose label contains ``text``."""
    select.select_option(label=select.locator("option", has_text=text).first.inner_text().strip())


def id_in_url(journey: Journey, name: str) -> int:
    match = re.search(rf"[?&]{name}=(\d+)", journey.page.url)
    assert match, journey.page.url
    return int(match.group(1))


# The guided forms -----------------------------------------------------------------------------
def search_certification(journey: Journey, words: str, code: int, certifier: str) -> None:
    """Formations > Créer > Oui, Certif Info search; check the certifier shown, then choose the code."""
    page = journey.page
    open_menu(journey, "Formations", "Formations")
    click_and_wait(journey, page.get_by_role("link", name="Créer", exact=True), "**/admin/formations/new/**")
    page.get_by_label("Oui : la formation prépare une certification").check()
    click_and_wait(journey, page.get_by_role("button", name="Suivant"), "**certifiante=oui**")
    page.get_by_label("Intitulé, code Certif Info ou code RNCP/RS").fill(words)
    click_and_wait(journey, page.get_by_role("button", name="Rechercher"), "**q=**")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=str(code), exact=True))
    expect(row).to_contain_text(certifier)
    journey.shot("recherche-certif-info")
    click_and_wait(journey, row.get_by_role("link", name="Choisir"), f"**certifinfo={code}**")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Certif Info {code}")


def fill_action(journey: Journey, *, objectifs: str, plus_formation: str, prerequis: str) -> int:
    """The Fiche Action after its formation; saving leads to the new session. Returns the action id."""
    page = journey.page
    page.wait_for_url("**/admin/actions/new/**")
    page.locator("#objectifs").fill(objectifs)
    page.locator("#plus_formation").fill(plus_formation)
    expect(page.locator("#plus_formation-compteur")).to_contain_text(f"{len(plus_formation)} / 250 caractères")
    page.get_by_label("Niveau d'entrée").select_option(label="sans niveau spécifique")
    check(journey, prerequis)
    journey.shot("fiche-action")
    save(journey, "**/admin/sessions/new/**")
    expect_message(journey, "Fiche Action enregistrée.")
    return id_in_url(journey, "action_id")


@dataclass
class SessionInput:
    date_debut: str
    date_fin: str
    duree_centre: str = "280"
    rythmes: tuple[str, ...] = ("Temps plein",)
    periodes: tuple[str, ...] = ("Cours de jour",)
    modalites: tuple[str, ...] = ("En organisme de formation",)
    recrutement: tuple[str, ...] = ("dossier", "entretien ou RDV individuel")
    type_parcours: str = "en groupe (non personnalisable)"
    information_collective: tuple[str, str] | None = None  # (date, lieu)


def fill_session(journey: Journey, values: SessionInput) -> None:
    """The Fiche Session; saving leads to its first dispositif."""
    page = journey.page
    page.locator("#date_debut").fill(values.date_debut)
    page.locator("#date_fin").fill(values.date_fin)
    check(journey, *values.rythmes, *values.periodes, *values.modalites, *values.recrutement)
    page.get_by_label("Type de parcours").select_option(label=values.type_parcours)
    page.locator("#duree_centre").fill(values.duree_centre)
    if values.information_collective:
        day, place = values.information_collective
        page.locator("#informations_collectives-0-date").fill(day)
        page.locator("#informations_collectives-0-heure_debut").fill("09:30")
        page.locator("#informations_collectives-0-heure_fin").fill("11:30")
        page.locator("#informations_collectives-0-lieu").fill(place)
    journey.shot("fiche-session")
    save(journey, "**/admin/dispositifs/new/**")
    expect_message(journey, "Fiche Session enregistrée (code FAS")


def fill_dispositif(journey: Journey, dispositif: str | None, places: str, publics: tuple[str, ...] = ()) -> None:
    """The Fiche Dispositif (choosing the scheme checks its usual publics); saving returns to the session."""
    page = journey.page
    if dispositif is not None:
        page.locator("#dispositif_code").select_option(label=dispositif)
    check(journey, *publics)
    page.locator("#nb_places").fill(places)
    journey.shot("fiche-dispositif")
    save(journey, "**/admin/sessions/edit/**")
    expect_message(journey, "Fiche Dispositif enregistrée.")


def open_recap(journey: Journey) -> None:
    link = journey.page.get_by_role("link", name="Voir l'état de la saisie")
    click_and_wait(journey, link, "**/admin/actions/recap/**")


def submit_for_validation(journey: Journey) -> None:
    """From the recap without blocking problem: "Envoyer en validation"."""
    page = journey.page
    expect(page.get_by_role("status").filter(has_text="Aucun point bloquant")).to_be_visible()
    page.get_by_role("button", name="Envoyer en validation").click()
    expect_message(journey, "Votre saisie a été envoyée au Cariforef pour validation.")
    expect(page.locator("h1 + p")).to_contain_text("état : En attente de validation")
