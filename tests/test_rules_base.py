"""``sofi.rules``: the Problem shape, the registry, the F-A-S-D walk, and that checks neither write nor query."""

from dataclasses import FrozenInstanceError
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import Action, db
from sofi.rules import LEVELS, Problem, blocking, check_action, rule, rules, tree_options, warnings
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


def test_complete_trees_have_no_problem(session):
    assert complete_tree(session).problems() == []
    assert complete_tree(session, organisation(SIRET_OTHER_SIREN), fiche="RNCP37674").problems() == []


def test_a_problem_names_its_rule_record_field_and_place(session):
    tree = complete_tree(session)
    tree.session.referent_pmr = None
    tree.session.referent_pmr_id = None
    found = only(tree.problems())
    assert found == Problem(
        code="session.referent_pmr.required",
        level="session",
        record_id=tree.session.id,
        field="referent_pmr",
        message="Référent PMR : champ obligatoire.",
        blocking=True,
        label=f"Session {tree.formation.id}-{tree.action.id}-{tree.session.id}",
    )
    with pytest.raises(FrozenInstanceError):
        found.blocking = False


def test_problems_come_in_formation_action_session_dispositif_order(session):
    tree = complete_tree(session)
    second = new_session(tree.action, tree.organisation, date(2027, 9, 6), date(2027, 12, 17))
    second_dispositif = new_dispositif(session, second)
    session.flush()
    force(tree.formation, "objectif_general", None)
    force(tree.action, "niveau_entree", None)
    for training_session in (tree.session, second):
        training_session.rythmes = []
    for dispositif in (tree.dispositif, second_dispositif):
        dispositif.publics = []
    places = [(p.level, p.record_id) for p in tree.problems()]
    assert places == [
        ("formation", tree.formation.id),
        ("action", tree.action.id),
        ("session", tree.session.id),
        ("dispositif", tree.dispositif.id),
        ("session", second.id),
        ("dispositif", second_dispositif.id),
    ]
    dispositif_label = tree.problems()[3].label
    assert dispositif_label == (
        f"Formation avec autres financements (entreprise, individuel) – Session "
        f"{tree.formation.id}-{tree.action.id}-{tree.session.id}"
    )


def test_blocking_and_warnings_split_the_problems(session):
    tree = complete_tree(session)
    tree.session.referent_prf = None
    tree.session.referent_prf_id = None
    tree.session.rythmes = []
    problems = tree.problems()
    assert [p.code for p in blocking(problems)] == ["session.rythmes.required"]
    assert [p.code for p in warnings(problems)] == ["session.referent_prf.required"]
    assert all(is_french(p.message) for p in problems)


def test_the_registry_covers_every_level_with_uniquely_named_rules():
    registered = rules()
    names = [r.name for r in registered]
    assert len(names) == len(set(names))
    assert {r.level for r in registered} == set(LEVELS)
    assert rules("session")[0].name == "session.mandatory_fields"
    assert "programme.lot_year" in names and "certification.registration_end" in names
    assert all(r.description for r in registered)
    assert rules("dispositif") == [r for r in registered if r.level == "dispositif"]
    with pytest.raises(ValueError):
        rule("organisation")


def test_today_defaults_to_the_real_date(session):
    yesterday = date.today() - timedelta(days=1)
    tree = complete_tree(session, start=yesterday - timedelta(days=30), end=yesterday)
    assert [p.code for p in check_action(tree.action)] == ["action.sessions.all_ended", "session.date_fin.ended"]


def test_checking_a_draft_with_unsaved_invalid_changes_neither_flushes_nor_raises(session):
    tree = complete_tree(session)
    session.commit()
    session.expire(tree.action, ["sessions"])  # the walk must load them again
    tree.session.date_fin = tree.session.date_debut - timedelta(days=1)  # refused at flush time
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        problems = check_action(tree.action, TODAY)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert "session.date_fin.before_start" in [p.code for p in problems]
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements)
    assert tree.session in session.dirty
    session.rollback()


def test_an_action_loaded_with_tree_options_is_checked_without_any_query(session):
    tree = complete_tree(session, organisation(SIRET_OTHER_SIREN, conventionnements=["2"]), fiche="RNCP37674")
    new_dispositif(session, tree.session, 1, prise_en_charge_frais=True)
    second = new_session(tree.action, tree.organisation, date(2027, 9, 6), date(2027, 12, 17))
    new_dispositif(session, second, 6, effectif_minimal=4, capacite_simultanee=8)
    second.cycle_unite, second.cycle_unites_entreprise, second.cycle_unites_centre = "3", 2, 1
    session.commit()
    action_id = tree.action.id
    session.expunge_all()

    action = session.scalar(sa.select(Action).where(Action.id == action_id).options(*tree_options()))
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        problems = check_action(action, TODAY)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert problems == []
    assert statements == []
