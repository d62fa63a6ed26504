"""Backup and restore of the whole database (``flask sofi backup`` / ``flask sofi restore``).

* SQLite: the online backup API of SQLite (a consistent copy while the app keeps running), and
  the same API the other way round to restore (one transaction on the target);
* PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot) and ``pg_restore --clean
  --if-exists --single-transaction --exit-on-error`` (all or nothing).

A backup is written to a temporary file beside ``OUTPUT`` and moved into place: an interrupted
backup never replaces a good one. A restore checks the backup first and refuses to overwrite a
database holding rows unless ``force``. Supporting documents are stored in the database
(``supporting_document.content``), so they are in the backup; ``instance/secret_key`` is not.
"""

import os
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa

from models import db
from sofi.services.errors import DomainError

SQLITE_HEADER = b"SQLite format 3\x00"


def _url() -> sa.engine.URL:
    return db.engine.url


def _postgres_command(program: str) -> tuple[list[str], dict]:
    """``program`` with the connection of the app (the password in the environment, never in the arguments)."""
    url = _url()
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return [program, "--dbname", target], env


def _run(arguments: list[str], env: dict, failure: str) -> None:
    try:
        completed = subprocess.run(arguments, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise DomainError(f"{failure} : la commande « {arguments[0]} » est introuvable (client PostgreSQL).") from error
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()
        raise DomainError(f"{failure} : {detail[-1] if detail else 'erreur inconnue'}")


def _temporary_beside(path: Path) -> Path:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    return Path(name)


def backup(output: Path | str) -> Path:
    """Write a backup of the app's database to ``output`` (replaced atomically)."""
    path = Path(output)
    if path.is_dir() or not path.parent.is_dir():
        raise DomainError(f"« {output} » : indiquez un fichier dans un répertoire existant.")
    db.session.rollback()
    temporary = _temporary_beside(path)
    try:
        if _url().get_backend_name() == "sqlite":
            with closing(sqlite3.connect(_url().database)) as source, closing(sqlite3.connect(temporary)) as copy:
                source.backup(copy)
            _check_sqlite(temporary)
        else:
            arguments, env = _postgres_command("pg_dump")
            _run([*arguments, "--format=custom", "--file", str(temporary)], env, "Sauvegarde impossible")
        os.replace(temporary, path)
    except sqlite3.Error as error:
        raise DomainError(f"Sauvegarde impossible : {error}.") from error
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _check_sqlite(path: Path) -> None:
    """A complete, undamaged SQLite database of SOFI, or a French DomainError."""
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise DomainError(f"« {path.name} » n'est pas une sauvegarde SQLite de SOFI.")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            verdict = connection.execute("PRAGMA integrity_check").fetchall()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as error:
        raise DomainError(f"Sauvegarde endommagée ou incomplète ({error}) : rien n'a été restauré.") from error
    if verdict != [("ok",)]:
        raise DomainError(f"Sauvegarde endommagée ({verdict[0][0]}) : rien n'a été restauré.")
    if "alembic_version" not in tables:
        raise DomainError(f"« {path.name} » n'est pas une sauvegarde de SOFI (aucune table alembic_version).")


def database_is_empty() -> bool:
    """True when no table of the database holds a row (a new database, or one only migrated)."""
    inspector = sa.inspect(db.engine)
    for name in inspector.get_table_names():
        if name != "alembic_version" and db.session.execute(sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')).first():
            db.session.rollback()
            return False
    db.session.rollback()
    return True


def restore(source: Path | str, force: bool = False) -> None:
    """Replace the content of the app's database by the backup ``source`` (all or nothing)."""
    path = Path(source)
    if not path.is_file():
        raise DomainError(f"Le fichier « {source} » n'existe pas.")
    sqlite = _url().get_backend_name() == "sqlite"
    if sqlite:
        _check_sqlite(path)
    else:
        arguments, env = _postgres_command("pg_restore")
        _run(["pg_restore", "--list", str(path)], env, "Sauvegarde illisible, rien n'a été restauré")
    if not force and not database_is_empty():
        raise DomainError(
            "La base de destination contient déjà des données : rien n'a été restauré. "
            "Ajoutez --force pour la remplacer par la sauvegarde."
        )
    db.session.close()
    db.engine.dispose()  # no connection of the app keeps a lock or an old page cache
    if sqlite:
        try:
            saved = closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
            with saved as backup_file, closing(sqlite3.connect(_url().database)) as target:
                backup_file.backup(target)
        except sqlite3.Error as error:
            raise DomainError(f"Restauration impossible ({error}) : la base n'a pas été modifiée.") from error
        return
    _run(
        [*arguments, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", str(path)],
        env,
        "Restauration impossible, la base n'a pas été modifiée",
    )
