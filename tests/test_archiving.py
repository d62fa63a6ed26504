"""``flask sofi archive``: the automatic archiving rules of seed 004 on the demo data."""

from datetime import date

import sqlalchemy as sa

from models import Action, ActionStatus, PublishedAction, db


def expected_archived(today: date) -> set[int]:
    """The seed's rule, applied here independently of the service, on the live sessions."""
    archived = set()
    for action in db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE)):
        sessions = action.sessions
        not_started = any(s.date_debut > today for s in sessions)
        flexible = any(s.entrees_sorties == "1" or s.type_parcours == "3" for s in sessions)
        running = bool(sessions) and max(s.date_fin for s in sessions) > today
        if not (not_started or (flexible and running)):
            archived.add(action.id)
    return archived


def _published_ids() -> set[int]:
    return set(db.session.scalars(sa.select(Action.id).where(Action.status == ActionStatus.PUBLIEE)))


def test_archive_applies_the_rules_and_is_idempotent(demo, cli, session, client):
    prepa = session.scalar(
        sa.select(Action).join(Action.formation).where(sa.text("formation.intitule = 'PREPA Avenir Sup'"))
    )
    assert prepa.status is ActionStatus.PUBLIEE
    # PREPA Avenir Sup (1/12/2025 → 18/12/2026) becomes "entrées/sorties permanentes"
    prepa.sessions[0].entrees_sorties = "1"
    session.commit()

    today = date(2026, 12, 1)
    expected = expected_archived(today)
    kept = _published_ids() - expected
    assert expected and kept and prepa.id in kept  # started, but permanent and not ended
    result = cli("sofi", "archive", "--today", today.isoformat())
    assert result.exit_code == 0, result.stderr
    db.session.rollback()
    assert _published_ids() == kept
    for action_id in expected:
        action = session.get(Action, action_id)
        assert action.status is ActionStatus.ARCHIVEE and action.archived_at is not None
        assert session.get(PublishedAction, action_id) is None  # out of the catalogue, API and export
        assert client.get(f"/api/v1/formations/{action.formation_id}.lheo").status_code == 404
        assert f"Action {action_id} " in result.output
    assert f"{len(expected)} action(s) archivée(s)" in result.output

    again = cli("sofi", "archive", "--today", today.isoformat())
    assert again.exit_code == 0 and "0 action(s) archivée(s)" in again.output
    db.session.rollback()
    assert _published_ids() == kept

    later = date(2027, 1, 10)
    expected_later = expected_archived(later)
    assert prepa.id in expected_later  # its last session has ended
    assert cli("sofi", "archive", "--today", later.isoformat()).exit_code == 0
    db.session.rollback()
    assert _published_ids() == kept - expected_later
    assert _published_ids()  # the session starting on 18/01/2027 keeps its action online

    assert cli("sofi", "archive", "--today", "31/02/2027").exit_code == 1
