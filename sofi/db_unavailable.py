"""Recognising "the database went away" (lost connection, locked or unreadable file) and recovering from it.

The web error handler (``sofi.errors``) and the CLI (``sofi.cli.reports_errors``) both use it, so that a
database outage gives the user a French message, never a traceback, and leaves no transaction half-done.
"""

import sqlalchemy as sa

from models import db

MESSAGE = "La base de données est momentanément indisponible ; vos modifications n'ont pas été enregistrées, réessayez."
COMMAND_MESSAGE = (
    "La base de données est indisponible (connexion perdue ou base verrouillée) : la commande est interrompue, "
    "rien n'a été enregistré ni aucun fichier remplacé ; réessayez."
)

# Primary SQLite result codes of an unavailable database (busy/locked, I/O, full, unreadable or not a database).
# sqlite3 raises OperationalError for SQL mistakes too ("no such column"): those stay programming errors.
SQLITE_UNAVAILABLE = {5, 6, 8, 10, 11, 13, 14, 26}
# Of those, the ones after which an open connection is useless (file unreadable, replaced or gone): the pool must
# reopen the file, as it reconnects to a PostgreSQL server that dropped the connection.
SQLITE_FILE_LOST = {10, 11, 14, 26}


def sqlite_file_lost(dbapi_error: BaseException) -> bool:
    return (getattr(dbapi_error, "sqlite_errorcode", 0) & 0xFF) in SQLITE_FILE_LOST


def is_database_unavailable(error: BaseException) -> bool:
    """True for a driver error meaning the database cannot be reached or used right now."""
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa.exc.InterfaceError):
        return True
    if type(error.orig).__module__.startswith("sqlite3"):
        return (getattr(error.orig, "sqlite_errorcode", 0) & 0xFF) in SQLITE_UNAVAILABLE
    # psycopg raises OperationalError only for connection, resource and server-state failures (SQLSTATE 08, 53, 57…)
    return isinstance(error, sa.exc.OperationalError)


def driver_message(error: sa.exc.DBAPIError) -> str:
    """The first line of the driver's own message, for administrators (CLI)."""
    lines = str(error.orig).strip().splitlines()
    return lines[0] if lines else type(error.orig).__name__


def rollback_quietly() -> None:
    """End the failed transaction; a second failure (the database still away) is not news."""
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        db.session.close()


@sa.event.listens_for(sa.engine.Engine, "handle_error")
def _sqlite_lost_file_is_a_disconnect(context):
    """A SQLite connection whose file became unreadable stays broken: have the pool drop it (``pool_pre_ping``
    then reopens the file once it is back), as for a lost PostgreSQL connection."""
    if sqlite_file_lost(context.original_exception):
        context.is_disconnect = True
