"""``flask sofi backup`` / ``restore``: a restored backup holds every record, a damaged one is refused."""

import hashlib
import uuid

import pytest
import sqlalchemy as sa

from models import Action, ActionStatus, Formation, db
from sofi import create_app
from tests.conftest import make_database_url
from tests.web import text


def _fingerprint() -> dict[str, tuple[int, str]]:
    """Every table of the current app's database: its row count and a checksum of its rows in key order."""
    db.session.rollback()
    metadata = sa.MetaData()
    metadata.reflect(bind=db.engine)
    found = {}
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(sa.select(table).order_by(*order)).all()
            found[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return found


@pytest.fixture
def other_app(backend, tmp_path_factory):
    """The app on a new, empty database of the same kind (a new file / a new PostgreSQL database)."""
    url = make_database_url(backend, tmp_path_factory, f"restore{uuid.uuid4().hex[:6]}")
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SERVER_NAME": "sofi.test"})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _in(application, *args):
    """``flask sofi …`` run by ``application`` (its own app context, hence its own database)."""
    with application.app_context():
        return application.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def backup_file(cli, demo, tmp_path):
    account = ("--email", "sauvegarde@exemple.fr", "--password", "sauvegarde-2026", "--role", "validator")
    created = cli("sofi", "create-user", *account)
    assert created.exit_code == 0, created.output
    path = tmp_path / "sofi.sauvegarde"
    result = cli("sofi", "backup", str(path))
    assert result.exit_code == 0, result.output
    assert "Sauvegarde écrite" in result.output
    return path


def test_a_restored_backup_holds_every_record_and_serves_the_catalogue(app, backup_file, other_app):
    expected = _fingerprint()
    published = db.session.scalar(
        sa.select(Formation.intitule).join(Action).where(Action.status == ActionStatus.PUBLIEE).order_by(Action.id)
    )
    assert expected["action"][0] > 0 and expected["audit_event"][0] > 0 and expected["user_account"][0] > 0

    result = _in(other_app, "sofi", "restore", str(backup_file))
    assert result.exit_code == 0, result.output
    assert "restaurée" in result.output
    with other_app.app_context():
        assert _fingerprint() == expected  # every table, every row
        page = other_app.test_client().get("/formations")
        assert page.status_code == 200
        assert published in text(page)


def test_restoring_over_a_database_with_data_needs_force(app, cli, backup_file):
    before = _fingerprint()
    result = cli("sofi", "restore", str(backup_file))
    assert result.exit_code == 1
    assert "contient déjà des données" in result.stderr and "--force" in result.stderr
    assert _fingerprint() == before


def test_a_truncated_backup_is_refused_and_the_database_left_untouched(app, cli, backup_file, other_app):
    data = backup_file.read_bytes()
    backup_file.write_bytes(data[: len(data) // 2])
    before = _fingerprint()
    result = cli("sofi", "restore", "--force", str(backup_file))
    assert result.exit_code == 1
    assert "rien n'a été restauré" in result.stderr or "la base n'a pas été modifiée" in result.stderr
    assert _fingerprint() == before
    refused = _in(other_app, "sofi", "restore", str(backup_file))
    assert refused.exit_code == 1
    with other_app.app_context():
        assert not any(count for count, _ in _fingerprint().values())


def test_a_file_that_is_not_a_backup_is_refused(cli, session, tmp_path):
    path = tmp_path / "pas-une-sauvegarde"
    path.write_text("ceci n'est pas une sauvegarde", encoding="utf-8")
    result = cli("sofi", "restore", "--force", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("Erreur : ")
