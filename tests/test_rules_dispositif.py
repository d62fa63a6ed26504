"""Rules of the Dispositif form: dispositif, places, agreement with the funder, apprenticeship, publics."""

from datetime import date

import pytest

from models import Conventionnement
from tests.test_rules_support import complete_tree, force, is_french, only, organisation

WITH_CYCLE = {"cycle_unite": "3", "cycle_unites_entreprise": 2, "cycle_unites_centre": 1}


def test_dispositif_is_mandatory(session):
    tree = complete_tree(session)
    tree.dispositif.dispositif = None
    force(tree.dispositif, "dispositif_code", None)
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "dispositif.dispositif.required",
        "dispositif",
        tree.dispositif.id,
        "dispositif",
        True,
    )
    assert found.message == "Dispositif : champ obligatoire."


def test_a_dispositif_no_longer_offered_is_refused(session):
    tree = complete_tree(session)
    tree.dispositif.dispositif.active = False  # reference row: rolled back after the test
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("dispositif.dispositif.inactive", "dispositif", True)
    assert "n'est plus proposé" in found.message


def test_nb_places_is_mandatory_and_at_least_one(session):
    tree = complete_tree(session)
    force(tree.dispositif, "nb_places", None)
    found = only(tree.problems())
    assert (found.code, found.field, found.message) == (
        "dispositif.nb_places.required",
        "nb_places",
        "Nb places dispositif : champ obligatoire (minimum 1).",
    )
    force(tree.dispositif, "nb_places", 0)
    found = only(tree.problems())
    assert (found.code, found.blocking, found.message) == (
        "dispositif.nb_places.min",
        True,
        "Nb places dispositif : minimum 1 (0 saisi).",
    )


def test_places_restantes_within_the_places(session):
    tree = complete_tree(session, dispositif_fields={"nb_places": 10, "nb_places_restantes": 10})
    assert tree.problems() == []
    tree.dispositif.nb_places_restantes = 11
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (
        "dispositif.nb_places_restantes.max",
        "nb_places_restantes",
        True,
    )
    assert found.message == "Nb places restantes : 11 dépasse le nombre de places du dispositif (10)."
    force(tree.dispositif, "nb_places_restantes", -1)
    assert only(tree.problems()).code == "dispositif.nb_places_restantes.min"


def test_an_organisation_without_the_region_agreement_cannot_use_dispositif_1(session):
    tree = complete_tree(session, dispositif=1, dispositif_fields={"prise_en_charge_frais": True})
    assert tree.organisation.conventionnements == []
    found = only(tree.problems())
    assert (found.code, found.level, found.field, found.blocking) == (
        "dispositif.dispositif.conventionnement",
        "dispositif",
        "dispositif",
        True,
    )
    assert "« Collectivité territoriale - Conseil régional »" in found.message
    assert "PROGRAMME REGION - Formations sanitaires et sociales" in found.message
    assert "SIRET 44123456400033" in found.message and is_french(found.message)
    tree.organisation.conventionnements.append(Conventionnement(financeur_code="2"))
    assert tree.problems() == []


def test_the_agreement_must_be_with_the_dispositif_s_own_funder(session):
    org = organisation(conventionnements=["2"])
    tree = complete_tree(session, org, dispositif=13)  # Agefiph - Formations conventionnées
    found = only(tree.problems())
    assert found.code == "dispositif.dispositif.conventionnement"
    assert "« AGEFIPH »" in found.message


def test_an_ended_agreement_no_longer_counts(session):
    org = organisation()
    org.conventionnements = [Conventionnement(financeur_code="2", date_fin=date(2026, 8, 31))]
    tree = complete_tree(session, org, dispositif=1)
    assert tree.codes(today=date(2026, 8, 31)) == []
    found = only(tree.problems(today=date(2026, 9, 1)))
    assert (found.code, found.blocking) == ("dispositif.dispositif.conventionnement_ended", True)
    assert "a pris fin le 31/08/2026" in found.message


def test_dispositifs_without_agreement_are_open_to_everyone(session):
    for code, siret in ((8, "44123456400033"), (12, "72198765900019"), (16, "13000511900032")):
        assert complete_tree(session, organisation(siret), dispositif=code).problems() == []


@pytest.mark.parametrize(
    "attribute, label", [("effectif_minimal", "Effectif minimal"), ("capacite_simultanee", "Capacité simultanée")]
)
def test_apprenticeship_needs_effectif_minimal_and_capacite(session, attribute, label):
    fields = {"effectif_minimal": 6, "capacite_simultanee": 12, attribute: None}
    tree = complete_tree(session, dispositif=6, dispositif_fields=fields, **WITH_CYCLE)
    found = only(tree.problems())
    assert (found.code, found.level, found.field, found.blocking) == (
        f"dispositif.{attribute}.required",
        "dispositif",
        attribute,
        True,
    )
    assert found.message == f"{label} : champ obligatoire pour un contrat d'apprentissage."


def test_apprenticeship_without_cycle_is_blocked(session):
    tree = complete_tree(session, dispositif=6, dispositif_fields={"effectif_minimal": 6, "capacite_simultanee": 12})
    blocking_codes = [p.code for p in tree.problems() if p.blocking]
    assert "session.cycle_unite.required" in blocking_codes
    assert tree.session.cycle_unite is None


def test_professionalisation_does_not_need_effectif_minimal(session):
    tree = complete_tree(session, dispositif=7, **WITH_CYCLE)
    assert tree.problems() == []


def test_a_dispositif_needs_a_public(session):
    tree = complete_tree(session)
    tree.dispositif.publics = []
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("dispositif.publics.required", "publics", True)
    assert found.message == "Publics : sélectionnez au moins un public pour ce dispositif."
