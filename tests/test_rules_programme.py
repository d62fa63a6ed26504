"""Rules of the Region's programme (seed 002, PREPA Avenir Sup on lot PAS2025_4)."""

from datetime import date

import pytest

from models import Dispositif
from sofi.rules.programme import Lot, parse_lot
from tests.test_rules_support import complete_tree, is_french, only, organisation, prepa_tree


def test_the_seed_prepa_session_is_complete(session):
    tree = prepa_tree(session)
    assert tree.problems() == []


def test_a_prepa_session_starting_outside_the_lot_year_is_blocked(session):
    tree = prepa_tree(session, start=date(2026, 1, 5), end=date(2026, 12, 18))
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "programme.lot_year",
        "session",
        tree.session.id,
        "date_debut",
        True,
    )
    assert found.message == (
        "Date début : les sessions du lot PAS2025_4 (PROGRAMME REGION - Prépa avenir sup) doivent débuter en 2025 ; "
        "la date saisie est le 05/01/2026."
    )


def test_the_last_day_of_the_lot_year_is_still_in_it(session):
    assert prepa_tree(session, start=date(2025, 12, 31)).problems() == []


def test_a_prepa_session_needs_informations_collectives(session):
    tree = prepa_tree(session)
    tree.session.informations_collectives = []
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (
        "programme.informations_collectives.required",
        "informations_collectives",
        True,
    )
    assert "Kairos" in found.message and is_french(found.message)


def test_a_prepa_dispositif_takes_charge_of_the_frais_pedagogiques(session):
    tree = prepa_tree(session, prise_en_charge_frais=False)
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "programme.prise_en_charge_frais.required",
        "dispositif",
        tree.dispositif.id,
        "prise_en_charge_frais",
        True,
    )
    assert found.message.startswith("Prise en charge des frais pédagogiques : doit être « oui »")


def test_a_lot_code_of_another_shape_is_only_a_warning(session):
    tree = prepa_tree(session, numero_lot_cr="LOT-QUATRE")
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("programme.numero_lot_cr.format", "numero_lot_cr", False)


def test_programme_rules_apply_only_to_lots_of_the_regional_programme(session):
    # Dispositif 1 is of the regional programme but carries no lot (seed 001): no lot rule.
    org = organisation(conventionnements=["2"])
    tree = complete_tree(session, org, dispositif=1, dispositif_fields={"prise_en_charge_frais": False})
    assert tree.problems() == []
    # A lot code on a dispositif outside the programme is not a programme lot either.
    tree.dispositif.numero_lot_cr = "PAS2025_4"
    tree.dispositif.dispositif = session.get(Dispositif, 8)
    assert tree.problems() == []


@pytest.mark.parametrize(
    "code, expected",
    [
        ("PAS2025_4", Lot("PAS2025_4", "PAS", 2025)),
        ("PCA2026_12", Lot("PCA2026_12", "PCA", 2026)),
        (" pas2024_1 ", Lot("pas2024_1", "PAS", 2024)),
        ("PAS2025", Lot("PAS2025", "PAS", 2025)),
        ("PAS25_4", None),
        ("2025_4", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_lot(code, expected):
    assert parse_lot(code) == expected
