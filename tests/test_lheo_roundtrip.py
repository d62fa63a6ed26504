"""Round trip: export → import into an empty database → export gives the same offer."""

import sqlalchemy as sa

from models import Action, Formation, SessionFormation, db
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
