"""Rules of the Action form: site dispensateur, niveau d'entrée, text limits, sessions."""

from datetime import date, timedelta

import pytest

from models import Site
from tests.test_rules_support import (
    SIRET_OTHER_SIREN,
    TODAY,
    complete_tree,
    force,
    is_french,
    new_dispositif,
    new_session,
    only,
    organisation,
)


def test_site_dispensateur_is_mandatory(session):
    tree = complete_tree(session)
    tree.action.site = None
    tree.action.site_id = None
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "action.site.required",
        "action",
        tree.action.id,
        "site",
        True,
    )
    assert found.message == "Site dispensateur : champ obligatoire."
    assert found.label == f"{tree.action.id} - Formation de test"


def test_niveau_d_entree_is_mandatory(session):
    tree = complete_tree(session)
    force(tree.action, "niveau_entree", None)
    found = only(tree.problems())
    assert (found.code, found.field, found.message) == (
        "action.niveau_entree.required",
        "niveau_entree",
        "Niveau d'entrée : champ obligatoire.",
    )


def test_site_dispensateur_of_another_organisation_is_refused(session):
    tree = complete_tree(session)
    other = organisation(SIRET_OTHER_SIREN)
    session.add(other)
    session.flush()
    tree.action.site = other.sites[0]
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("action.site.other_organisation", "site", True)
    assert is_french(found.message)


def test_an_inactive_site_dispensateur_is_refused(session):
    tree = complete_tree(session)
    tree.organisation.sites[0].active = False
    codes = tree.codes()
    # The same site is also the session's site lieu.
    assert codes == ["action.site.inactive", "session.site.inactive"]


@pytest.mark.parametrize(
    "attribute, label, limit",
    [
        ("complement_intitule", "Complément intitulé", 255),
        ("complement_programme", "Complément programme", 3000),
        ("objectifs", "Objectifs", 3000),
        ("resultats_attendus", "Résultats attendus", 3000),
        ("plus_formation", "Le « plus » formation", 250),
    ],
)
def test_action_texts_over_their_limit(session, attribute, label, limit):
    tree = complete_tree(session)
    force(tree.action, attribute, "x" * limit)
    assert tree.problems() == []
    force(tree.action, attribute, "x" * (limit + 1))
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == (f"action.{attribute}.too_long", attribute, True)
    assert found.message == f"{label} : limité à {limit} caractères ({limit + 1} saisis)."


def test_an_action_needs_a_session(session):
    tree = complete_tree(session)
    tree.action.sessions = []
    found = only(tree.problems())
    assert (found.code, found.field, found.blocking) == ("action.sessions.required", "sessions", True)
    assert found.message.startswith("Sessions : saisissez au moins une session")


def test_an_action_whose_sessions_are_all_over_is_blocked(session):
    tree = complete_tree(session, start=date(2026, 1, 5), end=date(2026, 6, 30))
    assert tree.codes(today=date(2026, 6, 30)) == []
    problems = tree.problems(today=date(2026, 7, 1))
    assert [(p.code, p.blocking) for p in problems] == [
        ("action.sessions.all_ended", True),
        ("session.date_fin.ended", False),
    ]
    assert "30/06/2026" in problems[0].message


def test_one_session_still_to_come_is_enough(session):
    tree = complete_tree(session, start=date(2026, 1, 5), end=date(2026, 6, 30))
    later = new_session(tree.action, tree.organisation, TODAY + timedelta(days=30), TODAY + timedelta(days=60))
    new_dispositif(session, later)
    session.flush()
    assert tree.codes() == ["session.date_fin.ended"]


def test_a_site_of_the_same_organisation_is_accepted(session):
    tree = complete_tree(session)
    second = Site(nom="Annexe", adresse1="2 rue de la Paix", code_postal="44000", commune_code="44109")
    tree.organisation.sites.append(second)
    session.flush()
    tree.action.site = second
    assert tree.problems() == []
