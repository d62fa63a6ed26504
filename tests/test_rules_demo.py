"""The rules on the demo data set (``flask sofi demo``): expectations computed from the data itself."""

from datetime import date

import pytest
import sqlalchemy as sa

from models import Action, ActionStatus, Dispositif, Formation, Organisation, SessionDispositif, SessionFormation
from sofi.rules import blocking, check_action, tree_options
from tests.test_rules_support import TODAY, public


@pytest.fixture
def demo(cli, session):
    result = cli("sofi", "demo")
    assert result.exit_code == 0, result.output
    actions = session.scalars(sa.select(Action).order_by(Action.id).options(*tree_options())).unique().all()
    assert len(actions) >= 10
    return actions


def _blocking_pairs(action: Action, code: str) -> set[tuple[str, int]]:
    return {(p.level, p.record_id) for p in blocking(check_action(action, TODAY)) if p.code == code}


def test_the_partial_validation_of_rncp35030_with_a_2027_session_is_blocked(demo, session):
    formation = session.scalar(
        sa.select(Formation).where(Formation.certifinfo_code == 109049, Formation.validation_blocs == "0")
    )
    fiche = formation.certification
    assert (fiche.numero_fiche, fiche.date_fin_enregistrement) == ("RNCP35030", date(2025, 11, 5))
    (action,) = formation.actions
    (late,) = action.sessions
    assert late.date_debut.year == 2027 and late.date_debut > fiche.date_fin_enregistrement

    problems = blocking(check_action(action, TODAY))
    ended = [p for p in problems if p.code == "certification.registration_ended"]
    assert [(p.level, p.record_id, p.field) for p in ended] == [("session", late.id, "date_debut")]
    assert ended[0].label == f"Session {late.fas_code}"
    assert "05/11/2025" in ended[0].message


def test_the_seed_session_of_2021_was_within_the_registration_of_rncp35030(demo, session):
    seed_session = session.get(SessionFormation, 143842)
    assert seed_session.date_debut < seed_session.action.formation.certification.date_fin_enregistrement
    assert _blocking_pairs(seed_session.action, "certification.registration_ended") == set()


def test_every_demo_session_is_checked_against_the_end_of_registration(demo):
    for action in demo:
        fiche = action.formation.certification if action.formation.certifiante else None
        expected = {
            ("session", s.id)
            for s in action.sessions
            if fiche is not None and fiche.date_fin_enregistrement and s.date_debut >= fiche.date_fin_enregistrement
        }
        assert _blocking_pairs(action, "certification.registration_ended") == expected, action
    flagged = {s.id for a in demo for s in a.sessions if _blocking_pairs(a, "certification.registration_ended")}
    assert len(flagged) >= 2  # RNCP35030 in 2027, and RS5719 (ends 31/12/2026) in January 2027


def test_every_demo_formation_is_checked_against_the_habilitations(demo):
    for action in demo:
        formation = action.formation
        habilitated = {c.id for c in action.organisation.habilitations}
        missing = formation.certifiante and formation.certification_id not in habilitated
        expected = {("formation", formation.id)} if missing else set()
        assert _blocking_pairs(action, "certification.habilitation") == expected, action


def test_every_demo_dispositif_is_checked_against_the_agreements(demo):
    for action in demo:
        agreements = {c.financeur_code for c in action.organisation.conventionnements}
        expected = {
            ("dispositif", d.id)
            for s in action.sessions
            for d in s.dispositifs
            if d.dispositif.conventionnement_financeur not in (None, *agreements)
        }
        assert _blocking_pairs(action, "dispositif.dispositif.conventionnement") == expected, action


def test_maine_sante_formation_has_no_agreement_for_dispositif_1(demo, session):
    maine = session.scalar(sa.select(Organisation).where(Organisation.siret == "72198765900019"))
    assert maine.conventionnements == []
    action = next(a for a in demo if a.organisation_id == maine.id and a.status == ActionStatus.EN_COURS_DE_SAISIE)
    training_session = action.sessions[0]
    assert blocking(check_action(action, TODAY)) == []
    added = SessionDispositif(
        dispositif=session.get(Dispositif, 1), nb_places=8, prise_en_charge_frais=True, publics=[public(session)]
    )
    training_session.dispositifs.append(added)
    session.flush()
    problems = blocking(check_action(action, TODAY))
    assert [(p.code, p.record_id) for p in problems] == [("dispositif.dispositif.conventionnement", added.id)]
    assert "Conseil régional" in problems[0].message


def test_the_certifying_demo_formation_without_certif_info_is_incomplete(demo):
    for action in demo:
        formation = action.formation
        codes = {p.code for p in blocking(check_action(action, TODAY))}
        lacks = formation.certifiante and formation.certifinfo_code is None
        assert ("formation.certifinfo.required" in codes) == lacks, formation.intitule
    assert any(a.formation.certifiante and a.formation.certifinfo_code is None for a in demo)


def test_published_and_pending_demo_actions_have_nothing_blocking(demo):
    shown = {ActionStatus.PUBLIEE, ActionStatus.EN_ATTENTE_VALIDATION, ActionStatus.EN_ATTENTE_REPONSES}
    checked = [a for a in demo if a.status in shown]
    assert len(checked) >= 5
    for action in checked:
        assert blocking(check_action(action, TODAY)) == [], action


def test_the_demo_prepa_session_follows_the_programme_rules_until_moved_out_of_its_year(demo, session):
    prepa = session.scalar(sa.select(SessionDispositif).where(SessionDispositif.numero_lot_cr == "PAS2025_4"))
    training_session = prepa.session
    action = training_session.action
    assert training_session.date_debut.year == 2025
    assert [p.code for p in check_action(action, TODAY) if p.code.startswith("programme.")] == []
    training_session.date_debut = date(2026, 1, 5)
    problems = blocking(check_action(action, TODAY))
    assert [(p.code, p.record_id) for p in problems] == [("programme.lot_year", training_session.id)]


def test_the_demo_apprenticeship_without_its_cycle_is_blocked(demo):
    apprenticeship = [
        (a, s)
        for a in demo
        if a.status != ActionStatus.ARCHIVEE
        for s in a.sessions
        if any(d.dispositif.contrat_apprentissage for d in s.dispositifs)
    ]
    assert apprenticeship
    for action, training_session in apprenticeship:
        assert blocking(check_action(action, TODAY)) == []
        training_session.cycle_unite = None
        codes = [p.code for p in blocking(check_action(action, TODAY))]
        assert codes == ["session.cycle_unite.required"]
