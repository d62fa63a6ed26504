"""« Formations > Formations publiques » (seed 002): a PREPA Avenir Sup action created from lot PAS2025_4."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    Formation,
    Lot,
    Organisation,
    ProgrammeAction,
    ProgrammeTemplate,
    SessionDispositif,
    SessionFormation,
    db,
)
from sofi.rules import blocking, check_action
from tests.conftest import count_rows
from tests.web import csrf_token, login, logout, post_form
from tests.web import text as raw_text

CARIFOREF = "cariforef@demo.sofi.fr"
SEED_PUBLICS = {"80006", "80008", "82038", "82044", "82055"}  # the five publics of the seed's Fiche Dispositif
# The seed's texts of the Fiche Action (seed 002, « Créer une formation PREPA Avenir Sup »).
SEED_COMPLEMENT = (
    "Modules obligatoires qui pourront varier et être adaptés : la découverte de plusieurs secteurs professionnels "
    "et métiers qui recrutent"
)
SEED_OBJECTIFS = (
    "Ce parcours doit permettre à un public de niveau supérieur à 4 temporairement éloigné du marché du travail de "
    "se préparer à accéder à un emploi, à une formation qualifiante ou à un contrat en alternance."
)
SEED_RESULTATS = "A l'issue de la formation, le stagiaire aura renforcé ses compétences générales"


def text(response) -> str:
    """The page with its whitespace collapsed (sentences may wrap in the templates)."""
    return " ".join(raw_text(response).split())


def _lot(code: str) -> Lot:
    return db.session.scalar(sa.select(Lot).where(Lot.code == code))


def _organisation(siret: str) -> Organisation:
    return db.session.scalar(sa.select(Organisation).where(Organisation.siret == siret))


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return re.findall(r'<option[^>]*value="([^"]*)"', select)


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return re.search(r'<option selected value="([^"]*)"', select).group(1)


def _checked(page: str, name: str) -> set[str]:
    tags = re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)
    return {re.search(r'value="([^"]*)"', tag).group(1) for tag in tags if " checked" in tag}


def _create(client, lot: Lot, mandataire: Organisation, site_id: int):
    return post_form(
        client,
        "/admin/formations_publiques/",
        {
            "programme_id": str(lot.programme_id),
            "lot_id": str(lot.id),
            "mandataire_id": str(mandataire.id),
            "site_id": str(site_id),
        },
    )


def _public_counter(client) -> int:
    page = text(client.get("/admin/"))
    return int(re.search(r"Actions de formation publique en cours de saisie : (\d+)", page).group(1))


@pytest.fixture
def cariforef_client(client, demo):
    login(client, CARIFOREF)
    return client


def test_the_mandataire_creates_a_prepa_avenir_sup_action_exactly_as_the_seed_shows(cariforef_client, session):
    client = cariforef_client
    cariforef = _organisation("13000511900032")
    lot = _lot("PAS2025_4")
    counter_before = _public_counter(client)

    page = text(client.get("/admin/formations_publiques/"))
    offered = {code for code in ("PAS2025_4", "PAS2025_7", "PAS2026_2", "PCA2025_2") if code in page}
    assert offered == {"PAS2025_4", "PAS2026_2"}  # CARIFOREF is mandataire or formateur of these two only
    assert _options(page, "site_id") == [str(s.id) for s in cariforef.sites]

    response = _create(client, lot, cariforef, cariforef.sites[0].id)
    assert response.status_code == 302, text(response)[:3000]
    action_id = int(re.search(r"action_id=(\d+)", response.headers["Location"]).group(1))
    assert "/admin/sessions/new/" in response.headers["Location"]

    # Fiche Formation and Fiche Action pre-filled as in the seed.
    action = db.session.get(Action, action_id)
    formation = action.formation
    assert (formation.intitule, formation.certifiante, formation.objectif_general) == ("PREPA Avenir Sup", False, "9")
    assert formation.niveau_sortie == "0"  # « Indéterminé » (information non communiquée)
    assert (formation.formacode_codes, formation.formacode_principal) == (["15084", "15061"], "15061")
    assert formation.organisation_id == cariforef.id
    assert (action.organisation_id, action.site_id, action.status) == (
        cariforef.id,
        cariforef.sites[0].id,
        ActionStatus.EN_COURS_DE_SAISIE,
    )
    assert action.complement_programme.startswith(SEED_COMPLEMENT)
    assert action.objectifs == SEED_OBJECTIFS
    assert action.resultats_attendus.startswith(SEED_RESULTATS)
    assert action.niveau_entree == "14"
    assert action.prerequis == ["fle-a2", "motivation", "sortie-fi"]
    link = db.session.get(ProgrammeAction, action_id)
    assert (link.lot.code, link.mandataire_id) == ("PAS2025_4", cariforef.id)
    # Counted at once among the "actions publiques en cours de saisie" (no session yet).
    assert _public_counter(client) == counter_before + 1
    assert f'value="{action_id}"' in text(client.get("/admin/actions/?preset=publiques-en-cours-de-saisie"))

    # Fiche Session: the organisme responsable is the mandataire; the programme's modes are offered.
    url = f"/admin/sessions/new/?action_id={action_id}"
    page = text(client.get(url))
    assert _options(page, "organisme_responsable_id") == [str(cariforef.id)]
    assert sorted(_options(page, "type_parcours")) == ["", "2", "4"] and _selected(page, "type_parcours") == "4"
    assert re.findall(r'name="entrees_sorties"[^>]*value="(\d)"', page) == ["0"]
    response = post_form(
        client,
        url,
        {
            "site_id": _selected(page, "site_id"),
            "organisme_responsable_id": _selected(page, "organisme_responsable_id"),
            "referent_pmr_id": _selected(page, "referent_pmr_id"),
            "referent_mobilite_id": _selected(page, "referent_mobilite_id"),
            "date_debut": "2025-12-15",
            "date_fin": "2026-06-30",
            "entrees_sorties": "0",
            "rythmes": ["temps-plein"],
            "periodes": ["96414"],
            "type_parcours": "4",
            "modalites_pedagogiques": ["SOFI-OF"],
            "modalite_enseignement": "0",
            "duree_centre": "420",
            "duree_entreprise": "140",
            "etat_recrutement": "1",
            "modalites_recrutement": ["9", "8"],
            "informations_collectives-0-date": "2025-11-25",
            "informations_collectives-0-lieu": "12 rue de Strasbourg, 44000 Nantes",
        },
    )
    assert response.status_code == 302, text(response)[:4000]
    dispositif_url = response.headers["Location"]
    assert "/admin/dispositifs/new/" in dispositif_url

    # Fiche Dispositif: dispositif 2 with its publics, the external codes read-only, prise en charge oui.
    page = text(client.get(dispositif_url))
    assert _selected(page, "dispositif_code") == "2"
    assert _checked(page, "publics") == SEED_PUBLICS
    assert _checked(page, "prise_en_charge_frais") == {"1"}
    codes = re.search(r'id="codes-titre".*?</dl>', page, re.S).group(0)
    for label, value in (("Numéro lot CR", "PAS2025_4"), ("ID Action CR", "2872"), ("OF Mandataire CR", "75")):
        assert re.search(rf"<dt[^>]*>{label}</dt><dd[^>]*>{value}</dd>", codes), (label, codes)
    assert 'name="numero_lot_cr"' not in page and 'name="id_action_cr"' not in page  # read-only
    response = post_form(
        client,
        dispositif_url,
        {
            "dispositif_code": "2",
            "publics": sorted(SEED_PUBLICS),
            "nb_places": "12",
            "prise_en_charge_frais": "1",
            "frais_certification": "0",
            # A forged external code is ignored: the codes are the lot's.
            "numero_lot_cr": "PAS2099_1",
        },
        form_url=dispositif_url,
    )
    assert response.status_code == 302, text(response)[:4000]
    db.session.expire_all()
    (training_session,) = db.session.get(Action, action_id).sessions
    assert training_session.organisme_responsable_id == cariforef.id
    (dispositif,) = training_session.dispositifs
    assert (dispositif.dispositif.label, dispositif.numero_lot_cr, dispositif.id_action_cr) == (
        "PROGRAMME REGION - Prépa avenir sup",
        "PAS2025_4",
        "2872",
    )
    assert (dispositif.of_mandataire_cr, dispositif.prise_en_charge_frais, dispositif.nb_places) == ("75", True, 12)
    assert {p.code for p in dispositif.publics} == SEED_PUBLICS
    # Complete: nothing blocks the submission (the seed's session of 2025 on lot PAS2025_4).
    problems = blocking(check_action(db.session.get(Action, action_id), date(2025, 11, 20)))
    assert problems == [], [(p.code, p.message) for p in problems]


def test_an_organisation_outside_the_lot_cannot_create_from_it(cariforef_client, session):
    client = cariforef_client
    cariforef = _organisation("13000511900032")
    foreign = _lot("PAS2025_7")  # Atlantique Compétences only
    page = text(client.get(f"/admin/formations_publiques/?lot_id={foreign.id}"))
    assert "PAS2025_7" not in page
    formations, links = count_rows(Formation), count_rows(ProgrammeAction)
    token = csrf_token(client, "/admin/formations_publiques/")
    response = client.post(
        "/admin/formations_publiques/",
        data={
            "csrf_token": token,
            "programme_id": str(foreign.programme_id),
            "lot_id": str(foreign.id),
            "mandataire_id": str(foreign.mandataires[0].id),
            "site_id": str(cariforef.sites[0].id),
        },
    )
    assert response.status_code == 404
    assert (count_rows(Formation), count_rows(ProgrammeAction)) == (formations, links)
    # The lot's own organisation may.
    logout(client)
    login(client, "atlantique@demo.sofi.fr")
    page = text(client.get("/admin/formations_publiques/"))
    assert "PAS2025_7" in page and "PAS2025_4" not in page


def test_the_mandataire_must_be_one_of_the_lot(cariforef_client, session):
    client = cariforef_client
    cariforef = _organisation("13000511900032")
    lot = _lot("PAS2026_2")  # mandataire Atlantique Compétences, formateur CARIFOREF
    response = _create(client, lot, cariforef, cariforef.sites[0].id)
    assert response.status_code == 200
    assert "CARIFOREF DES PAYS DE LA LOIRE n'est pas mandataire du lot PAS2026_2." in text(response)
    assert db.session.scalar(sa.select(ProgrammeAction).where(ProgrammeAction.lot_id == lot.id)) is None


def test_a_formateur_creates_for_a_mandataire_of_another_siren(cariforef_client, session):
    client = cariforef_client
    cariforef, atlantique = _organisation("13000511900032"), _organisation("44123456400017")
    lot = _lot("PAS2026_2")
    response = _create(client, lot, atlantique, cariforef.sites[0].id)
    assert response.status_code == 302, text(response)[:3000]
    action_id = int(re.search(r"action_id=(\d+)", response.headers["Location"]).group(1))
    page = text(client.get(f"/admin/sessions/new/?action_id={action_id}"))
    assert _options(page, "organisme_responsable_id") == [str(atlantique.id)]
    action = db.session.get(Action, action_id)
    contact = cariforef.contacts[0]
    training_session = SessionFormation(
        site=cariforef.sites[0],
        date_debut=date(2026, 2, 2),
        date_fin=date(2026, 6, 26),
        organisme_responsable=atlantique,
        referent_pmr=contact,
        referent_mobilite=contact,
        type_parcours="4",
    )
    action.sessions.append(training_session)
    db.session.flush()
    codes = {p.code for p in check_action(action)}
    # The mandataire of another SIREN is the right organisme responsable for a programme action…
    assert "session.organisme_responsable.other_siren" not in codes
    assert "programme.organisme_responsable" not in codes
    # …and the dispensing organisation is not.
    training_session.organisme_responsable = cariforef
    found = [p for p in check_action(action) if p.code == "programme.organisme_responsable"]
    assert [p.message for p in found] == [
        "Organisme responsable : pour une formation du programme régional, l'organisme responsable est le "
        "mandataire du lot (ATLANTIQUE COMPETENCES FORMATION)."
    ]


def test_an_organisation_without_lot_is_told_so(client, demo, session):
    login(client, "maine@demo.sofi.fr")
    page = text(client.get("/admin/formations_publiques/"))
    assert "n'est mandataire ni formateur d'aucun lot" in page


def test_a_programme_without_template_cannot_be_created_from(client, demo, session):
    login(client, "atlantique@demo.sofi.fr")
    atlantique = _organisation("44123456400017")
    lot = _lot("PEF2025_1")  # PASS Entreprendre: no template shipped
    response = _create(client, lot, atlantique, atlantique.sites[0].id)
    assert response.status_code == 200
    assert "Le modèle du programme « PASS Entreprendre en Pays de la Loire - Formation » n'est pas encore défini" in (
        text(response)
    )
    assert db.session.scalar(sa.select(ProgrammeAction)) is None or all(
        link.lot_id != lot.id for link in db.session.scalars(sa.select(ProgrammeAction))
    )


def test_an_administrator_edits_the_template_and_creations_follow_it(client, demo, session):
    template = db.session.scalar(sa.select(ProgrammeTemplate))
    login(client, "admin@demo.sofi.fr")
    url = f"/admin/programme_modeles/edit/?id={template.id}"
    page = text(client.get(url))
    assert "PREPA Avenir Sup" in page and "15084, 15061" in page
    data = {
        "programme_id": str(template.programme_id),
        "intitule": "PREPA Avenir Sup 2026",
        "objectif_general": "9",
        "niveau_sortie": "0",
        "formacodes": "15084, 15061",
        "formacode_principal": "15061",
        "objectifs": "Nouveaux objectifs de la Région.",
        "niveau_entree": "14",
        "prerequis": ["fle-a2"],
        "entrees_sorties": ["0"],
        "types_parcours": ["4"],
        "dispositif_code": "2",
        "publics": ["80006", "82044"],
        "prise_en_charge_frais": "1",
    }
    refused = post_form(client, url, {**data, "formacode_principal": "99999"})
    assert refused.status_code == 200 and "le domaine principal doit être un des domaines" in text(refused).lower()
    unknown = post_form(client, url, {**data, "formacodes": "15061, 00001"})
    assert "Formacode(s) inconnu(s) : 00001." in text(unknown)
    assert post_form(client, url, data).status_code == 302
    logout(client)
    login(client, CARIFOREF)
    cariforef = _organisation("13000511900032")
    response = _create(client, _lot("PAS2025_4"), cariforef, cariforef.sites[0].id)
    action = db.session.get(Action, int(re.search(r"action_id=(\d+)", response.headers["Location"]).group(1)))
    assert (action.formation.intitule, action.objectifs, action.prerequis) == (
        "PREPA Avenir Sup 2026",
        "Nouveaux objectifs de la Région.",
        ["fle-a2"],
    )
    page = text(client.get(f"/admin/sessions/new/?action_id={action.id}"))
    assert _options(page, "type_parcours") == ["", "4"]
    assert client.get(url).status_code == 403  # organisations do not edit templates


def test_demo_lots_of_the_example_file(demo, session):
    lot = _lot("PAS2025_4")
    assert {o.siret for o in lot.mandataires} == {"13000511900032"}
    assert {o.siret for o in lot.formateurs} == {"13000511900032"}
    other = _lot("PAS2025_7")
    assert "13000511900032" not in {link.organisation.siret for link in other.organisations}
    assert other.organisations
    # The demo's published PREPA Avenir Sup action is the lot's.
    dispositif = db.session.scalar(sa.select(SessionDispositif).where(SessionDispositif.numero_lot_cr == "PAS2025_4"))
    assert db.session.get(ProgrammeAction, dispositif.session.action_id).lot_id == lot.id
