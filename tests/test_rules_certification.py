"""Certification validity: habilitation of the organisation, active fiche, end of registration after the start."""

from datetime import date, timedelta

from tests.test_rules_support import (
    SIRET_OTHER_SIREN,
    certification,
    complete_tree,
    is_french,
    new_dispositif,
    new_session,
    only,
    organisation,
)


def test_an_organisation_not_habilitated_cannot_have_the_formation_validated(session):
    tree = complete_tree(session, fiche="RNCP37674")
    tree.organisation.habilitations = []
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "certification.habilitation",
        "formation",
        tree.formation.id,
        "certification",
        True,
    )
    assert "n'est pas habilité à délivrer la certification RNCP37674" in found.message
    assert "SIRET 44123456400033" in found.message


def test_the_habilitation_must_be_for_this_certification(session):
    tree = complete_tree(session, fiche="RNCP37674")
    tree.organisation.habilitations = [certification(session, "RNCP35030")]
    assert only(tree.problems()).code == "certification.habilitation"


def test_a_non_certifying_formation_needs_no_habilitation(session):
    tree = complete_tree(session)
    assert tree.organisation.habilitations == []
    assert tree.problems() == []


def test_an_inactive_certification_is_blocking(session):
    fiche = certification(session, "RNCP35625")  # ACTIF Non in the RNCP fixture, registered until 25/03/2026
    assert fiche.actif is False
    tree = complete_tree(session, fiche="RNCP35625", start=date(2026, 1, 5), end=date(2026, 2, 27))
    problems = tree.problems(today=date(2025, 12, 1))
    found = only(problems)
    assert (found.code, found.field, found.blocking) == ("certification.inactive", "certification", True)
    assert "RNCP35625 n'est plus active au RNCP" in found.message


def test_a_session_starting_after_the_end_of_registration_is_blocked(session):
    tree = complete_tree(session, fiche="RNCP37674")
    end = certification(session, "RNCP37674").date_fin_enregistrement
    assert end == date(2028, 9, 1)
    late = new_session(tree.action, tree.organisation, date(2028, 9, 4), date(2029, 3, 30))
    new_dispositif(session, late)
    session.flush()
    found = only(tree.problems())
    assert (found.code, found.level, found.record_id, found.field, found.blocking) == (
        "certification.registration_ended",
        "session",
        late.id,
        "date_debut",
        True,
    )
    assert found.message == (
        "Date début : la certification RNCP37674 est enregistrée au RNCP jusqu'au 01/09/2028 ; une session "
        "débutant le 04/09/2028 ne pourra pas être validée."
    )


def test_the_end_of_registration_must_be_later_than_the_start(session):
    tree = complete_tree(session, fiche="RNCP37674")
    end = tree.formation.certification.date_fin_enregistrement
    tree.session.date_debut = end - timedelta(days=1)
    tree.session.date_fin = end + timedelta(days=60)
    assert tree.problems() == []
    tree.session.date_debut = end  # "supérieure à la date de début": the same day is too late
    assert [p.code for p in tree.problems()] == ["certification.registration_ended"]


def test_the_seed_certification_rncp35030_ended_on_5_november_2025(session):
    tree = complete_tree(session, organisation(SIRET_OTHER_SIREN), fiche="RNCP35030")
    assert tree.formation.certification.date_fin_enregistrement == date(2025, 11, 5)
    found = only(tree.problems())
    assert found.code == "certification.registration_ended"
    assert "05/11/2025" in found.message and is_french(found.message)


def test_an_unknown_end_of_registration_is_not_held_against_the_session(session):
    tree = complete_tree(session, fiche="RNCP37674")
    tree.formation.certification.date_fin_enregistrement = None  # reference row: rolled back after the test
    assert tree.problems() == []
