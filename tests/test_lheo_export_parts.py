"""A full LHÉO export of a large offer is written by two processes (``exporters.lheo.parts``): the
file is byte for byte the one a single process writes, both processes read the offer as it was
when the export started (on both databases), and a failed or interrupted export leaves neither a
process nor a temporary file behind; the command then says why, in French, and keeps the previous file."""

import re
import sys

import pytest
import sqlalchemy as sa

from exporters.lheo.parts import (
    OtherProcess,
    PartFailed,
    document_in_two_parts,
    formation_ranges,
    shared_snapshot,
)
from exporters.lheo.writer import ExportStats, iter_document, published_actions
from models import Action, ActionStatus, PublishedAction, db
from sofi.services import workflow
from tests.lheo_support import NS, assert_valid, child_processes, parse

PART_PROCESS = "exporters.lheo.parts"


@pytest.fixture
def parallel_from(app, monkeypatch):
    """``SOFI_LHEO_EXPORT_PARALLEL_ACTIONS``: from how many published actions the export is split."""

    def choose(actions: int) -> None:
        monkeypatch.setitem(app.config, "SOFI_LHEO_EXPORT_PARALLEL_ACTIONS", actions)

    return choose


def _export(cli, path) -> bytes:
    result = cli("sofi", "export-lheo", "--output", str(path))
    assert result.exit_code == 0, result.output
    return re.sub(rb'horodatage-export="[^"]*"', b"", path.read_bytes())


def _formation_numbers(xml: bytes) -> list[str]:
    return [f.get("numero") for f in parse(xml).iter(f"{{{NS}}}formation")]


def test_an_export_in_two_parts_is_the_file_one_process_writes(demo, cli, session, tmp_path, parallel_from):
    parallel_from(10**9)
    alone = _export(cli, tmp_path / "seul.xml")
    parallel_from(1)
    split = _export(cli, tmp_path / "deux.xml")

    assert split == alone
    assert_valid(parse(split))
    ranges = formation_ranges(db.session, 1)
    published = db.session.scalars(sa.select(PublishedAction.formation_id)).all()
    for index in (0, 1):  # each process has formations to write
        assert any(_within(formation, r) for r in ranges[index::2] for formation in published)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deux.xml", "seul.xml"]  # no temporary file left
    assert child_processes(PART_PROCESS) == []


def _within(formation: int, formations: tuple) -> bool:
    start, before = formations
    return (start is None or formation >= start) and (before is None or formation < before)


def test_both_processes_read_the_offer_as_it_was_when_the_export_started(demo, session, tmp_path):
    before = b"".join(iter_document(published_actions()))
    formations = set(db.session.scalars(sa.select(PublishedAction.formation_id)))
    published = db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE)).all()
    db.session.commit()
    stats = ExportStats()
    with OtherProcess(db.engine.url, [(None, None)], tmp_path) as other, shared_snapshot(db.engine, other) as reader:
        workflow.archive_actions(published)
        db.session.commit()  # the whole offer archived while both processes read
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PublishedAction)) == 0
        read_here = {group[0].formation_id for group in published_actions(session=reader)}
        rendered = b"".join(other.next_range())
        other.add_counts(stats)

    assert read_here == formations
    xml = b'<lheo xmlns="http://lheo.gouv.fr/2.3"><offres>' + rendered + b"</offres></lheo>"
    assert _formation_numbers(xml) == _formation_numbers(before)
    assert stats.sessions == len(list(parse(xml).iter(f"{{{NS}}}session"))) > 0


def test_a_failed_other_process_stops_the_export_with_a_french_message(demo, session, tmp_path):
    sqlite = db.engine.dialect.name == "sqlite"
    unreachable = db.engine.url.set(database="/nulle-part/sofi.db" if sqlite else "sofi_absente")
    failed = pytest.raises(PartFailed, match="Le second processus de l'export a échoué : .*OperationalError")
    with OtherProcess(unreachable, [(None, None)], tmp_path) as other, failed:
        other.connected()
    assert child_processes(PART_PROCESS) == []
    assert list(tmp_path.iterdir()) == []  # its file removed


def test_an_interrupted_export_ends_its_other_process_and_removes_its_file(demo, session, tmp_path):
    chunks = document_in_two_parts(db.engine, formation_ranges(db.session, 1), ExportStats(), tmp_path)
    assert next(chunks).startswith(b"<?xml")
    assert len(child_processes(PART_PROCESS)) == 1 and len(list(tmp_path.iterdir())) == 1
    chunks.close()  # the caller stopped (a full disk, an interruption)
    assert child_processes(PART_PROCESS) == []
    assert list(tmp_path.iterdir()) == []


def test_an_other_process_that_cannot_start_stops_the_export_in_french(
    demo, cli, session, tmp_path, parallel_from, monkeypatch
):
    output = tmp_path / "offre.xml"
    output.write_text("export d'hier")
    parallel_from(1)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python-absent"))  # no interpreter to start

    result = cli("sofi", "export-lheo", "--output", str(output))

    assert result.exit_code == 1
    assert "Erreur : Le second processus de l'export n'a pas pu démarrer" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert output.read_text() == "export d'hier"  # the previous file is kept, whole
    assert [p.name for p in tmp_path.iterdir()] == ["offre.xml"]  # no temporary file left


def test_a_failed_other_process_fails_the_command_in_french(demo, cli, session, tmp_path, parallel_from, monkeypatch):
    parallel_from(1)
    sqlite = db.engine.dialect.name == "sqlite"
    unreachable = db.engine.url.set(database="/nulle-part/sofi.db" if sqlite else "sofi_absente")
    monkeypatch.setattr(db.engine, "url", unreachable)  # what the other process connects to

    result = cli("sofi", "export-lheo", "--output", str(tmp_path / "offre.xml"))

    assert result.exit_code == 1
    assert "Erreur : Le second processus de l'export a échoué : " in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert list(tmp_path.iterdir()) == []
    assert child_processes(PART_PROCESS) == []
