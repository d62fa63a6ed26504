"""The database going away in the middle of a save, an import and an export (tests/faults.py).

Each case first runs the action once without fault to learn its statements, then cuts the
database at one of them (parametrised position): the user gets a French message, nothing is
half-written (same rows, same files), and the next request or command succeeds without
restarting the app. Every test injects exactly one fault (asserted): 4 saves + 1 API read +
4 LHÉO imports + 4 programme imports + 3 LHÉO exports + 3 diffusions = 19 per database, 38 on both.
"""

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import Action, Formation, db
from sofi.db_unavailable import COMMAND_MESSAGE, MESSAGE
from tests.faults import WRITE_VERBS, DatabaseOutage
from tests.lheo_support import SAMPLES, restore_reference_data  # noqa: F401  (fixture)
from tests.web import csrf_token, login, text

PROGRAMME_CSV = Path(__file__).resolve().parent.parent / "sofi" / "data" / "programme-region-exemple.csv"
LHEO_SAMPLE = SAMPLES / "trefle-daeu-2.2.xml"
POSITIONS = ("first", "first_write", "middle", "last")
READ_POSITIONS = ("first", "middle", "last")


def _position(name: str, counted: DatabaseOutage, last: int | None = None) -> int:
    """The statement number called ``name`` in the run ``counted`` (without fault).

    SQLite: once the action holds the write lock of its transaction, it works from its own page
    cache and the file cannot be taken from under it, so positions are taken up to its first write.
    """
    assert counted.statements > 1, "the action sent no statement"
    last = last or counted.statements
    if db.engine.dialect.name == "sqlite" and counted.first_write:
        last = counted.first_write
    return {"first": 1, "first_write": counted.first_write, "middle": (1 + last) // 2, "last": last}[name]


def _rows() -> dict[str, int]:
    """Row count of every table: the database as a user relies on it."""
    db.session.rollback()
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def _files(directory: Path) -> dict[str, str]:
    """Every file of ``directory`` (hidden temporary files included) with its sha256."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(directory.iterdir())}


def _cut_once(at: int):
    return DatabaseOutage(db.engine, at=at)


def _cut_command(cli, at: int, *command) -> tuple[int, int, str]:
    """Run ``command`` with the database cut at statement ``at``: (injected, exit code, stderr + output).

    Only plain values leave: the click result holds the driver error's traceback, hence the failed cursor,
    which would keep a dropped SQLite connection (and its lock) alive.
    """
    with _cut_once(at) as outage:
        result = cli(*command)
        exit_code, messages = result.exit_code, result.stderr + result.output
        del result
    return outage.injected, exit_code, messages


def _assert_command_refused(cut: tuple[int, int, str]) -> None:
    injected, exit_code, messages = cut
    assert injected == 1
    assert exit_code == 1, messages
    assert COMMAND_MESSAGE in messages
    assert "Traceback" not in messages


# (a) a save through a guided form -------------------------------------------------------------
@pytest.fixture
def action_form(client, demo):
    login(client, "cariforef@demo.sofi.fr")
    action = db.session.scalar(
        sa.select(Action).join(Formation).where(Formation.intitule == "PREPA Avenir Sup").order_by(Action.id)
    )
    url = f"/admin/actions/edit/?id={action.id}"

    def post(objectifs: str):
        data = {"csrf_token": csrf_token(client, url), "site_id": str(action.site_id), "niveau_entree": "1"}
        return lambda: client.post(url, data={**data, "objectifs": objectifs})

    return action.id, post


def _saved_objectifs(action_id: int) -> str | None:
    db.session.rollback()
    return db.session.get(Action, action_id).objectifs


@pytest.mark.parametrize("position", POSITIONS)
def test_a_save_cut_by_an_outage_is_not_half_written_and_the_input_comes_back(client, action_form, position):
    action_id, post = action_form
    for attempt in ("premier enregistrement", "second enregistrement"):  # the second is the run measured
        send = post(f"<p>Objectifs : {attempt}</p>")
        with DatabaseOutage(db.engine) as counted:
            assert send().status_code == 302
    before = _rows()
    send = post("<p>Objectifs : saisie pendant la panne</p>")
    # the save ends with its last write (then commit); what follows (forgetting the kept draft, reads) comes after
    saved = max(
        number
        for number, sql in enumerate(counted.texts, 1)
        if sql.lstrip().upper().startswith(WRITE_VERBS) and "form_draft" not in sql
    )
    with _cut_once(_position(position, counted, last=saved)) as outage:
        response = send()
    assert outage.injected == 1
    assert response.status_code == 503
    page = text(response)
    assert MESSAGE in page
    assert "Objectifs : saisie pendant la panne" in page  # the input comes back in the retry form
    assert _rows() == before
    assert _saved_objectifs(action_id) == "<p>Objectifs : second enregistrement</p>"

    retried = post("<p>Objectifs : saisie pendant la panne</p>")()  # "Réessayer", same app, database back
    assert retried.status_code == 302
    assert _saved_objectifs(action_id) == "<p>Objectifs : saisie pendant la panne</p>"


def test_the_api_answers_json_503_during_an_outage_then_serves_again(client, demo):
    with _cut_once(1) as outage:
        response = client.get("/api/v1/formations")
    assert outage.injected == 1
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "base_indisponible"
    assert client.get("/api/v1/formations").status_code == 200


# (b) imports ------------------------------------------------------------------------------------
def _count(cli, *args) -> DatabaseOutage:
    with DatabaseOutage(db.engine) as counted:
        result = cli(*args)
    assert result.exit_code == 0, result.output + result.stderr
    return counted


@pytest.mark.parametrize("position", POSITIONS)
def test_an_lheo_import_cut_by_an_outage_changes_nothing(restore_reference_data, cli, session, position):  # noqa: F811
    command = ("sofi", "import-lheo", str(LHEO_SAMPLE))
    counted = _count(cli, *command, "--dry-run")
    before = _rows()
    _assert_command_refused(_cut_command(cli, _position(position, counted), *command))
    assert _rows() == before
    assert cli(*command).exit_code == 0  # the database is back: the same command succeeds
    assert _rows() != before


@pytest.mark.parametrize("position", POSITIONS)
def test_a_programme_import_cut_by_an_outage_changes_nothing(cli, session, position):
    command = ("sofi", "import-programme", str(PROGRAMME_CSV))
    counted = _count(cli, *command, "--dry-run")
    before = _rows()
    _assert_command_refused(_cut_command(cli, _position(position, counted), *command))
    assert _rows() == before
    assert cli(*command).exit_code == 0
    assert _rows() != before


# (c) exports -------------------------------------------------------------------------------------
@pytest.mark.parametrize("position", READ_POSITIONS)
def test_an_lheo_export_cut_by_an_outage_keeps_the_previous_file(cli, demo, tmp_path, position):
    output = tmp_path / "offre.xml"
    command = ("sofi", "export-lheo", "--output", str(output))
    counted = _count(cli, *command)
    previous = _files(tmp_path)
    _assert_command_refused(_cut_command(cli, _position(position, counted), *command))
    assert _files(tmp_path) == previous  # same file, same bytes, no temporary file left
    assert cli(*command).exit_code == 0


@pytest.mark.parametrize("position", READ_POSITIONS)  # nothing to archive: the cycle only reads
def test_a_diffusion_cut_by_an_outage_leaves_only_whole_cycles(cli, demo, tmp_path, position):
    command = ("sofi", "diffuse", "--output-dir", str(tmp_path), "--today", "2026-01-15")
    assert cli(*command).exit_code == 0
    counted = _count(cli, *command)  # a cycle with a previous manifest, as the one cut below
    previous = _files(tmp_path)
    _assert_command_refused(_cut_command(cli, _position(position, counted), *command))
    assert _files(tmp_path) == previous
    assert cli(*command).exit_code == 0
    assert len(_files(tmp_path)) > len(previous)
