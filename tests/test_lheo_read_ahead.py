"""A large LHÉO file is read ahead by another process (``exporters.lheo.read_ahead``): the import
says and writes exactly what it does when it reads the file itself, refuses the same files with
the same messages, and leaves no reading process behind."""

import pytest
import sqlalchemy as sa

from models import Action, AuditEvent, Formation, Organisation, SessionFormation, Site, db
from tests.lheo_support import (
    INVALID_SAMPLE,
    child_processes,
    empty_offer_tables,
    reference_keys,
    remove_reference_rows_added_since,
    restore_reference_data,  # noqa: F401  (fixture)
    sample_files,
)

OFFER_FILES = ("trefle-etoile-plaquiste-2.2.xml", "intercarif-cariforef-2.3.xml")


@pytest.fixture(autouse=True)
def _reference_rows_are_restored(restore_reference_data):  # noqa: F811
    yield


@pytest.fixture
def read_ahead(app, monkeypatch):
    """Every file counts as large: read by another process."""

    def choose(enabled: bool) -> None:
        monkeypatch.setitem(app.config, "SOFI_LHEO_READ_AHEAD_BYTES", 0 if enabled else 10**12)

    return choose


def _written() -> list:
    db.session.rollback()
    return [
        sorted(db.session.execute(sa.select(Organisation.siret, Organisation.raison_sociale)).all()),
        sorted(db.session.execute(sa.select(Site.nom, Site.commune_code)).all()),
        sorted(db.session.execute(sa.select(Formation.numero_lheo, Formation.intitule)).all()),
        sorted(db.session.execute(sa.select(Action.numero_lheo, Action.complement_intitule, Action.status)).all()),
        sorted(db.session.execute(sa.select(SessionFormation.numero_lheo, SessionFormation.date_debut)).all()),
    ]


def _audit_events() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def _offer_files():
    found = {path.name: path for path in sample_files()}
    return [found[name] for name in OFFER_FILES if name in found]


def test_a_file_read_ahead_imports_as_a_file_read_in_process(cli, session, read_ahead):
    files = _offer_files()
    assert files
    references = reference_keys()
    for path in files:
        outcomes = []
        for enabled in (False, True):
            read_ahead(enabled)
            audited = _audit_events()
            result = cli("sofi", "import-lheo", str(path))
            assert result.exit_code == 0, (path.name, enabled, result.output, result.stderr)
            outcomes.append((result.output, _written(), _audit_events() - audited))
            empty_offer_tables()
            remove_reference_rows_added_since(references)  # each import finds the same reference data
        assert outcomes[0] == outcomes[1], path.name
        assert "Session " in outcomes[1][0]
    assert child_processes("exporters.lheo.read_ahead") == []


def test_a_file_read_ahead_is_refused_as_a_file_read_in_process(cli, session, read_ahead, tmp_path):
    truncated = tmp_path / "tronque.xml"
    text = _offer_files()[0].read_text(encoding="utf-8")
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    for path in (INVALID_SAMPLE, truncated):
        before = _written()
        answers = []
        for enabled in (False, True):
            read_ahead(enabled)
            result = cli("sofi", "import-lheo", str(path))
            assert result.exit_code == 1, (path.name, enabled, result.output)
            answers.append(result.stderr)
            assert _written() == before
        assert answers[0] == answers[1], path.name
        assert answers[1].startswith("Erreur : ")
    assert child_processes("exporters.lheo.read_ahead") == []


def test_an_import_stopped_by_an_error_stops_its_reader(app, cli, session, monkeypatch):
    monkeypatch.delitem(app.config, "SOFI_LHEO_READ_AHEAD_BYTES", raising=False)
    monkeypatch.setenv("SOFI_LHEO_READ_AHEAD_BYTES", "0")  # the environment variable, as a deployment sets it
    readers = []

    def fail(_importer, _batch):
        readers.extend(child_processes("exporters.lheo.read_ahead"))
        raise RuntimeError("panne simulée")

    monkeypatch.setattr("sofi.services.lheo_import.Importer.formations", fail)
    before = _written()
    result = cli("sofi", "import-lheo", str(_offer_files()[0]))
    assert result.exit_code == 1
    assert "panne simulée" in result.stderr and "rien n'a été importé" in result.stderr
    assert _written() == before
    assert len(readers) == 1  # the file was being read by another process
    assert child_processes("exporters.lheo.read_ahead") == []
