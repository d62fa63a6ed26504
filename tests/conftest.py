"""Test fixtures: every test runs once on SQLite and once on PostgreSQL.

Each pytest-xdist worker gets its own SQLite file and its own throw-away PostgreSQL
database, built by the real Alembic migrations and loaded with the shipped reference
data once; after each test the rows of the non-reference tables are deleted.
"""

import logging
import os
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.serving import make_server

from models import db
from sofi import MIGRATIONS_DIR, create_app
from sofi.services.referentials.shipped import load_referentials
from tests.browser import CHROMIUM, LAUNCH_ARGS

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
POSTGRES_URL = os.environ.get("SOFI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
TEST_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast; production writes scrypt (models.users)

# Tables holding reference data: loaded once per database, kept between tests.
REFERENCE_TABLES = {
    "alembic_version",
    "formacode",
    "nsf",
    "rome",
    "public",
    "dispositif",
    "dispositif_default_public",
    "commune",
    "commune_code_postal",
    "certifinfo",
    "certification",
    "certification_formacode",
    "bloc_competences",
    "certificateur",
}


# One name per test run, so that two runs on the same server never drop each other's databases.
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:8]


def _worker() -> str:
    return f"{RUN_ID}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


CREATED_DATABASES: list[str] = []


def _fresh_postgres_database(name: str) -> str:
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
        # A test database lives as long as its run: a commit need not wait for the disk (1.4 → 0.4 ms
        # a commit here, thousands of commits in a run); what it checks is the same.
        connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    CREATED_DATABASES.append(name)
    return f"{POSTGRES_URL}/{name}"


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases():
    """Drop this run's PostgreSQL databases at the end (they are throw-away)."""
    yield
    if CREATED_DATABASES:
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
            for name in CREATED_DATABASES:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_database_url(backend: str, tmp_path_factory, label: str) -> str:
    """An empty database of ``backend`` for this worker."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp(label) / 'sofi.db'}"
    return _fresh_postgres_database(f"sofi_test_{label}_{_worker()}")


class FreshRequestClient(FlaskClient):
    """Test client whose requests do not inherit the per-request state of earlier ones.

    The tests hold an app context open (to use ``db.session``), and Flask reuses it for each
    test request, so ``g`` would carry the logged-in user and CSRF token from one request to
    the next. A real server starts every request afresh: so does this client.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in ("_login_user", "csrf_token"):
                g.pop(key, None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    url = make_database_url(backend, tmp_path_factory, "app")
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "SERVER_NAME": "sofi.test",
            # scrypt's 0.2 s per hash, times every account created and login made, took minutes of the run
            "SOFI_PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH_METHOD,
        }
    )
    application.test_client_class = FreshRequestClient
    with application.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
        load_referentials()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield app
        db.session.rollback()
        _purge_audit_log()
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES | {"audit_event"}:
                db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


SQLITE_NO_DELETE = (
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'Le journal d''audit ne peut être ni modifié ni effacé.'); END"
)


def _purge_audit_log() -> None:
    """Empty the append-only audit log between tests, the way a maintenance session would."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL sofi.allow_audit_purge = 'on'"))
        db.session.execute(sa.text("DELETE FROM audit_event"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_event_no_delete"))
        db.session.execute(sa.text("DELETE FROM audit_event"))
        db.session.execute(sa.text(SQLITE_NO_DELETE))


@pytest.fixture
def session(app_context):
    """The SQLAlchemy session, inside an app context cleaned after the test."""
    return db.session


@pytest.fixture
def client(app_context):
    return app_context.test_client()


@pytest.fixture
def cli(app_context):
    """Runs ``flask sofi …`` commands in-process; returns the click result."""
    runner = app_context.test_cli_runner(mix_stderr=False) if _runner_mixes() else app_context.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))

    return invoke


def _runner_mixes() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def count_rows(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def demo(cli):
    """The demo data set (organisations, offer in every state, demo accounts)."""
    result = cli("sofi", "demo")
    assert result.exit_code == 0, result.output
    return result


# Browser tests --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium (installed by ``make browser``), driven by Playwright."""
    if not CHROMIUM.exists():
        message = "Chromium manque : lancer « make browser » (apt-get install chromium)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def live_server(app, demo):
    """The app with the demo data on a real HTTP server on 127.0.0.1 (a free port), for the test's duration."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the test output
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser_page(browser):
    """A fresh French-speaking browser tab (own cookies), with the app's Content-Security-Policy enforced."""
    context = browser.new_context(locale="fr-FR")
    opened = context.new_page()
    yield opened
    context.close()
