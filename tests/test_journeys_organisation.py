"""Browser journeys of training organisations, typed as a person would, following the seed procedures.

Debian's Chromium (Playwright) drives the app served with the demo data set (``live_server``), on
SQLite and on PostgreSQL. Each journey takes a screenshot of every main screen it passes
(``test-artefacts/screenshots/<backend>/``).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.journeys import (
    SessionInput,
    choose,
    click_and_wait,
    expect_message,
    fill_action,
    fill_dispositif,
    fill_session,
    log_in,
    open_menu,
    open_recap,
    reload_with,
    search_certification,
    start,
    submit_for_validation,
)

AUTRES_FINANCEMENTS = "Formation avec autres financements (entreprise, individuel)"
SANITAIRE_SOCIAL = "PROGRAMME REGION - Formations sanitaires et sociales"


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
    expect(page.get_by_role("heading", level=1)).to_have_text(f"État de la saisie — action {action_id}")
    recap = page.locator("body")
    expect(recap).to_contain_text("RNCP36612BC01, RNCP36612BC02, RNCP36612BC03, RNCP36612BC04")
    expect(recap).to_contain_text("du 11/01/2027 au 25/06/2027")
    expect(recap).to_contain_text("12 place(s)")
    journey.shot("etat-de-la-saisie")
    submit_for_validation(journey)
    journey.shot("envoyee-en-validation")
    journey.assert_nothing_refused()


def test_certifying_formation_with_partial_validation(journey):
    """Seed 000, second path: individualised course, partial validation on the blocs chosen."""
    page = journey.page
    log_in(journey, "atlantique@demo.sofi.fr")
    search_certification(journey, "développeur web", 114920, "Ministère du travail")
    page.get_by_role("group", name="Souhaitez-vous individualiser").get_by_label("Oui").check()
    page.get_by_role("radio", name="Partielle").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#blocs-erreur")).to_contain_text("Tous les blocs sont cochés : choisissez « Totale ».")
    page.get_by_label(re.compile(r"^RNCP37674BC02 - ")).uncheck()
    journey.shot("fiche-formation-blocs")
    page.get_by_role("button", name="Enregistrer").click()
    expect_message(journey, "Fiche Formation enregistrée.")
    fill_action(
        journey,
        objectifs="Développer la partie front-end d'une application web sécurisée.",
        plus_formation="Projet fil rouge avec une entreprise partenaire.",
        prerequis="Niveau 4 validé (Bac, Bac pro, BP ou équivalent)",
    )
    expect(page.get_by_text("ajoutez « modularisé » et « individualisé »")).to_be_visible()
    fill_session(journey, SessionInput(date_debut="2027-02-01", date_fin="2027-07-09", type_parcours="individualisé"))
    fill_dispositif(journey, "Compte personnel de formation (CPF)", "8")
    open_recap(journey)
    recap = page.locator("body")
    expect(recap).to_contain_text("Aucun point bloquant")
    blocs = page.locator("dt", has_text="Blocs").locator("xpath=following-sibling::dd[1]")
    expect(blocs).to_have_text("RNCP37674BC01")
    expect(recap).to_contain_text("Compte personnel de formation (CPF)")
    journey.shot("etat-de-la-saisie")
    journey.assert_nothing_refused()


def test_non_certifying_formation_with_formacode_search(journey):
    """Seed 000, third path: no Certif Info code, domains found with the Formacode search tree."""
    page = journey.page
    log_in(journey, "cariforef@demo.sofi.fr")
    open_menu(journey, "Formations", "Formations")
    click_and_wait(journey, page.get_by_role("link", name="Créer", exact=True), "**/admin/formations/new/**")
    page.get_by_label("Non : formation sans code Certif Info").check()
    click_and_wait(journey, page.get_by_role("button", name="Suivant"), "**certifiante=non**")
    page.locator("#intitule").fill("Excel perfectionnement : tableaux croisés dynamiques")
    page.locator("#objectif_general").select_option(label="Perfectionnement, élargissement des compétences")
    page.get_by_label("Intitulé/code du formacode").fill("bureautique")
    reload_with(journey, page.get_by_role("button", name="Rechercher"))
    tree = page.locator("ul.sofi-tree")
    expect(page.locator("#intitule")).to_have_value("Excel perfectionnement : tableaux croisés dynamiques")
    tree.get_by_label("15052 - bureautique", exact=True).check()
    journey.shot("arbre-formacode")
    reload_with(journey, page.get_by_role("button", name="Valider"))
    chosen = page.locator("#champ-formacodes").get_by_label("15052 - bureautique", exact=True)
    expect(chosen).to_be_checked()
    page.locator("#formacode_principal").select_option("15052")
    journey.shot("fiche-formation")
    page.get_by_role("button", name="Enregistrer").click()
    expect_message(journey, "Fiche Formation enregistrée.")
    fill_action(
        journey,
        objectifs="Construire et analyser des tableaux croisés dynamiques.",
        plus_formation="Un poste par stagiaire, support remis.",
        prerequis="Aucun pré-requis",
    )
    fill_session(journey, SessionInput(date_debut="2027-03-15", date_fin="2027-03-19", duree_centre="35"))
    fill_dispositif(journey, AUTRES_FINANCEMENTS, "10")
    open_recap(journey)
    recap = page.locator("body")
    expect(recap).to_contain_text("Aucun point bloquant")
    expect(recap).to_contain_text("Excel perfectionnement : tableaux croisés dynamiques")
    expect(recap).to_contain_text("15052 (principal 15052)")
    expect(recap).to_contain_text("du 15/03/2027 au 19/03/2027")
    journey.shot("etat-de-la-saisie")
    journey.assert_nothing_refused()


def test_deas_with_two_dispositifs_on_one_session(journey):
    """Seed 001: the DEAS (Certif Info 111669), one session carrying two dispositifs."""
    page = journey.page
    log_in(journey, "cariforef@demo.sofi.fr")
    search_certification(journey, "aide-soignant", 111669, "Ministère du travail")
    page.get_by_role("radio", name="Totale").check()
    page.get_by_role("button", name="Enregistrer").click()
    expect_message(journey, "Fiche Formation enregistrée.")
    fill_action(
        journey,
        objectifs="Préparer le diplôme d'État d'aide-soignant.",
        plus_formation="Stages dans les établissements de santé partenaires.",
        prerequis="Aptitude médicale",
    )
    fill_session(
        journey,
        SessionInput(
            date_debut="2027-01-04",
            date_fin="2027-12-17",
            duree_centre="770",
            recrutement=("épreuves écrites", "épreuves orales"),
            information_collective=("2026-12-08", "IFAS de Nantes, salle 2"),
        ),
    )
    fill_dispositif(journey, SANITAIRE_SOCIAL, "20")
    expect(page.get_by_role("link", name=SANITAIRE_SOCIAL)).to_be_visible()
    click_and_wait(journey, page.get_by_role("link", name="+ Ajouter un dispositif"), "**/admin/dispositifs/new/**")
    fill_dispositif(journey, AUTRES_FINANCEMENTS, "4")
    dispositifs = page.locator("#dispositifs-titre + ul")
    expect(dispositifs).to_contain_text(f"{SANITAIRE_SOCIAL} — 20 place(s)")
    expect(dispositifs).to_contain_text(f"{AUTRES_FINANCEMENTS} — 4 place(s)")
    journey.shot("session-deux-dispositifs")
    open_recap(journey)
    expect(page.get_by_role("heading", name=f"D — {SANITAIRE_SOCIAL}")).to_be_visible()
    expect(page.get_by_role("heading", name=f"D — {AUTRES_FINANCEMENTS}")).to_be_visible()
    journey.shot("etat-de-la-saisie")
    submit_for_validation(journey)
    journey.assert_nothing_refused()


def test_prepa_avenir_sup_from_a_lot_of_the_regional_programme(journey):
    """Seed 002: "Formations publiques", lot PAS2025_4 (Cariforef mandataire and formateur), pre-filled dispositif."""
    page = journey.page
    log_in(journey, "cariforef@demo.sofi.fr")
    open_menu(journey, "Formations", "Formations publiques")
    page.get_by_label("Programme").select_option(label="PREPA Avenir Sup")
    page.get_by_label("Intitulé du lot").select_option(label="PAS2025_4 - PREPA Avenir Sup - Nantes (PREPA Avenir Sup)")
    choose(page.get_by_label("Mandataire"), "CARIFOREF DES PAYS DE LA LOIRE")
    choose(page.get_by_label("Site de réalisation"), "Principal")
    journey.shot("formations-publiques")
    click_and_wait(journey, page.get_by_role("button", name="Suivant"), "**/admin/sessions/new/**")
    expect_message(journey, "créées à partir du lot PAS2025_4")
    expect(page.locator("#organisme_responsable_id option")).to_have_count(1)
    fill_session(
        journey,
        SessionInput(
            date_debut="2025-12-08",
            date_fin="2027-05-28",
            duree_centre="420",
            type_parcours="mixte",
            recrutement=("information collective", "entretien ou RDV individuel"),
            information_collective=("2025-11-20", "Cariforef, 2 rue de la Loire, Nantes"),
        ),
    )
    codes = page.locator("#codes-titre + dl")
    expect(page.locator("#dispositif_code")).to_have_value("2")
    expect(codes).to_contain_text("PAS2025_4")
    expect(codes).to_contain_text("2872")
    expect(codes).to_contain_text("75")
    fill_dispositif(journey, None, "15")
    open_recap(journey)
    expect(page.get_by_role("heading", name="D — PROGRAMME REGION - Prépa avenir sup")).to_be_visible()
    expect(page.locator("body")).to_contain_text("PREPA Avenir Sup")
    journey.shot("etat-de-la-saisie")
    submit_for_validation(journey)
    journey.assert_nothing_refused()
