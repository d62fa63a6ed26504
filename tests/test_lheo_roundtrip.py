"""Round trip: export → import into an empty database → export gives the same offer."""

import json
import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from models import (
    Action,
    AuditEvent,
    Formation,
    InformationCollective,
    PeriodeInscription,
    SessionDispositif,
    SessionFormation,
    db,
)
from sofi.services import workflow
from tests.conftest import count_rows
from tests.lheo_support import (
    NS,
    assert_valid,
    counts,
    empty_offer_tables,
    normalised,
    parse,
    restore_reference_data,  # noqa: F401  (fixture)
)


def test_export_import_export_gives_the_same_offer(restore_reference_data, demo, cli, session, tmp_path):  # noqa: F811
    first = tmp_path / "premier.xml"
    assert cli("sofi", "export-lheo", "--output", str(first)).exit_code == 0
    exported = parse(first)
    assert counts(exported)["session"] >= 4

    empty_offer_tables()
    assert count_rows(Formation) == 0 and count_rows(SessionFormation) == 0
    result = cli("sofi", "import-lheo", str(first))
    assert result.exit_code == 0, result.stderr
    assert "avertissement" in result.output and "ignorée" not in result.output
    for action in db.session.scalars(sa.select(Action).order_by(Action.id)).all():
        workflow.publish_imported(action)
    db.session.commit()

    second = tmp_path / "second.xml"
    assert cli("sofi", "export-lheo", "--output", str(second)).exit_code == 0
    reexported = parse(second)
    assert_valid(reexported)
    assert counts(reexported) == counts(exported)
    # same formations, actions, sessions and field values; only the database's identifiers differ
    assert normalised(reexported) == normalised(exported)
    titles = [t.text for t in exported.iter(f"{{{NS}}}intitule-formation")]
    assert [t.text for t in reexported.iter(f"{{{NS}}}intitule-formation")] == titles

    # this database's own export matches its records by FAS code: nothing changes, nothing is duplicated
    before = (count_rows(Formation), count_rows(Action), count_rows(SessionFormation))
    again = cli("sofi", "import-lheo", str(second))
    assert again.exit_code == 0
    assert "créé" not in again.output and "mise à jour" not in again.output
    assert (count_rows(Formation), count_rows(Action), count_rows(SessionFormation)) == before


def _export_and_empty(cli, tmp_path):
    path = tmp_path / "offre.xml"
    assert cli("sofi", "export-lheo", "--output", str(path)).exit_code == 0
    empty_offer_tables()
    return path


def _as_json(value):
    return json.loads(json.dumps(value, default=str))


def test_every_row_an_import_creates_is_audited_with_its_values(restore_reference_data, demo, cli, session, tmp_path):  # noqa: F811
    """New formations, actions, sessions and their rows are written without ORM objects: each still has
    its ``create`` event."""
    path = _export_and_empty(cli, tmp_path)
    last_event = session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    assert cli("sofi", "import-lheo", str(path)).exit_code == 0
    db.session.rollback()
    # checked below as instants: SQLite gives a time back without its zone
    timestamps = {"created_at", "updated_at", "status_changed_at"}
    for model in (Formation, Action, SessionFormation, SessionDispositif, InformationCollective, PeriodeInscription):
        events = {
            event.record_id: event
            for event in session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.id > last_event,
                    AuditEvent.table_name == model.__tablename__,
                    AuditEvent.operation == "create",
                )
            )
        }
        rows = session.scalars(sa.select(model)).all()
        assert rows and len(events) == len(rows), model.__name__
        for row in rows:
            event = events[str(row.id)]
            stored = {c.key: getattr(row, c.key) for c in model.__table__.columns if c.key not in timestamps}
            after = {key: value for key, value in event.after.items() if key not in timestamps}
            assert after == _as_json({key: stored[key] for key in after}), model.__name__
            assert all(stored[key] is None for key in stored.keys() - after.keys()), model.__name__
            assert (event.organisation_id, event.action_id) == _owners(row), model.__name__
            assert event.before is None and event.actor_label
            for key in timestamps & event.after.keys():
                written = datetime.fromisoformat(event.after[key])
                assert written.replace(tzinfo=None) == getattr(row, key).replace(tzinfo=None), (model.__name__, key)


def _owners(row) -> tuple:
    """(organisation id, action id) of an imported row, read from the stored records."""
    if isinstance(row, Formation):
        return row.organisation_id, None
    if isinstance(row, Action):
        action = row
    elif isinstance(row, SessionFormation):
        action = row.action
    else:  # a dispositif, a meeting, a period of a session
        action = row.session.action
    return action.organisation_id, action.id


@pytest.mark.parametrize(
    ("written", "replacement", "reason"),
    [
        # refused by the model's consistency check when the session is read
        (
            r'(<extra info="places-restantes" numero="\d+">)(\d+)',
            r"\g<1>100000",
            "le nombre de places restantes ne peut dépasser le nombre de places.",
        ),
        # refused by the database when the new rows are written (a public listed twice)
        (
            r'(<extra info="publics">)([^<\s]+)',
            r"\g<1>\g<2> \g<2>",
            "donnée incohérente ou déjà utilisée (contrainte de la base)",
        ),
    ],
    ids=["model", "database"],
)
def test_a_new_session_refused_skips_its_formation_alone(
    restore_reference_data,  # noqa: F811
    demo,
    cli,
    session,
    tmp_path,
    written,
    replacement,
    reason,
):
    path = _export_and_empty(cli, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert re.search(written, text)
    path.write_text(re.sub(written, replacement, text, count=1), encoding="utf-8")
    formations = len(parse(path).findall(f".//{{{NS}}}formation"))
    result = cli("sofi", "import-lheo", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"ignorée — {reason}" in result.output
    assert count_rows(Formation) == formations - 1
    assert "1 ignorée" in result.output.splitlines()[-1]
