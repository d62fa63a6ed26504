"""Rows inserted without ORM objects, as the ORM would insert them.

Building and flushing an ORM object costs about ten times more than a plain row: a bulk writer
(the LHÉO import's new formations, actions and sessions) checks its rows with the models' own
validators and cross-field checks (``validated``), completes them with the columns' defaults and
ids (``insert_rows``) and writes them in one statement per table (``write_rows``: COPY on PostgreSQL).

A tool, not a domain action: the services' bulk writers (import, generate) and the audit trail
(the events of those rows) use it, hence its place beside ``sofi.audit`` rather than in
``sofi.services``, which the audit trail must not import.
"""

import enum
from datetime import date, time
from decimal import Decimal
from functools import cache

import sqlalchemy as sa

from models import db

SQLITE_SEQUENCE = sa.table("sqlite_sequence", sa.column("name"), sa.column("seq"))


class PlainRow(dict):
    """Column values read as attributes (None when not set), for a model's validators and checks."""

    __getattr__ = dict.get


def validated(model: type, values: dict) -> dict:
    """``values`` as an ORM object of ``model`` would store them, or the ModelValidationError it would raise.

    The model's validators, then its cross-field check (``check_consistency``, run by the flush of
    an object), applied to a plain row: an ORM object costs ten times more to build.
    """
    validators = sa.inspect(model).validators
    row = PlainRow(values)
    for key, value in values.items():
        if key in validators:
            row[key] = validators[key][0](row, key, value)
    check = getattr(model, "check_consistency", None)
    if check is not None:
        check(row)
    return row


@cache
def foreign_key(model: type, relationship: str) -> str:
    (column,) = sa.inspect(model).relationships[relationship].local_columns
    return column.key


@cache
def defaults(model: type) -> tuple:
    """The columns of ``model`` with a Python default (what the ORM fills in at an insert)."""
    return tuple(
        column
        for column in model.__table__.columns
        if column.default is not None and (column.default.is_scalar or column.default.is_callable)
    )


# Default values the rows of one insert can share (the others, lists…, are made for each row)
SHAREABLE = (str, int, float, Decimal, date, time, enum.Enum, type(None))


def insert_rows(model: type, rows: list[dict]) -> None:
    """Insert ``rows``, completed like an ORM insert: defaults, then ``id`` (the ids the database would give).

    A default computed by a function is computed once for all the rows when its value can be shared
    (``created_at``: the time of the insert), else once per row.
    """
    for column in defaults(model):
        default = column.default
        value = default.arg if default.is_scalar else default.arg(None)
        shared = default.is_scalar or isinstance(value, SHAREABLE)
        for row in rows:
            if column.key not in row:
                row[column.key] = value if shared else default.arg(None)
    table = model.__table__
    connection = db.session.connection()
    for row, identifier in zip(rows, _new_ids(connection, table, len(rows)), strict=True):
        row["id"] = identifier
    write_rows(table, rows, [column.key for column in table.columns])


def number_new_objects(session: sa.orm.Session) -> None:
    """Give the pending ORM objects of ``session`` their ``id`` before its flush, as ``insert_rows`` does.

    Without an id, the flush asks for it with INSERT … RETURNING in pages of many rows, a statement
    psycopg does not cache and parses again in Python each time (a third of an import on PostgreSQL);
    with it, a plain INSERT sent with executemany.
    """
    pending: dict[sa.Table, list] = {}
    for state in sorted((sa.inspect(obj) for obj in session.new), key=lambda state: state.insert_order):
        table = state.mapper.local_table
        (key, *others) = state.mapper.primary_key
        if not others and key is table.c.get("id") and state.obj().id is None:
            pending.setdefault(table, []).append(state.obj())
    connection = session.connection()
    for table, objects in pending.items():
        for obj, identifier in zip(objects, _new_ids(connection, table, len(objects)), strict=True):
            obj.id = identifier


def _new_ids(connection, table: sa.Table, count: int) -> list[int]:
    """The ids of ``count`` new rows of ``table``, in order.

    PostgreSQL: drawn from the sequence in one query (psycopg parsed the pages of an INSERT …
    RETURNING again each time, in Python: 40 % of the import). SQLite: the ones it would give, after
    the largest id (and the largest ever given, for an AUTOINCREMENT table); the import holds the
    write lock from its first statement (``BEGIN IMMEDIATE``), so no other writer can take them.
    An INSERT … RETURNING cost half of the writing time.
    """
    if connection.dialect.name == "sqlite":
        first = first_free_id(connection, table)
        return list(range(first, first + count))
    numbers = sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id")))
    return sorted(connection.execute(numbers.select_from(sa.func.generate_series(1, count))).scalars())


def first_free_id(connection, table: sa.Table) -> int:
    """SQLite: the id it would give the next row of ``table``, after the largest id (and, for an
    AUTOINCREMENT table, after the largest it ever gave)."""
    largest = sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)).scalar_subquery()
    if table.kwargs.get("sqlite_autoincrement"):
        given = sa.select(sa.func.coalesce(sa.func.max(SQLITE_SEQUENCE.c.seq), 0))
        largest = sa.func.max(largest, given.where(SQLITE_SEQUENCE.c.name == table.name).scalar_subquery())
    return connection.execute(sa.select(largest)).scalar_one() + 1


def write_rows(table: sa.Table, rows: list[dict], keys: list[str] | None = None) -> None:
    """Insert the ``keys`` columns of ``rows`` (None when missing; by default the keys of the first row):
    COPY on PostgreSQL, one executemany on SQLite.

    The driver is given the values SQLAlchemy would send (its bind processors: JSON, dates…)
    without SQLAlchemy's per-row parameter building (a third of the writing time on SQLite);
    psycopg's executemany sent one INSERT per row, which the import then mostly spent waiting for.
    A driver error is raised as SQLAlchemy raises it: a constraint skips the formation.
    """
    keys = keys or list(rows[0])
    columns = []
    for key in keys:
        process = _bind_processor(table.c[key])
        columns.append(_driver_values(rows, key, process) if process else [row.get(key) for row in rows])
    write_values(table, keys, zip(*columns, strict=True))


def _bind_processor(column: sa.Column):
    """What converts a value of ``column`` for the driver (None: the driver takes it as it is)."""
    dialect = db.session.connection().dialect
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def driver_value(column: sa.Column, value):
    """``value`` of ``column`` as the driver takes it (SQLite: a date as its text…)."""
    process = _bind_processor(column)
    return process(value) if process else value


def _driver_values(rows: list[dict], key: str, process) -> list:
    """The values of column ``key`` of ``rows`` as the driver takes them. The processor's value for
    None is taken once (JSON 'null' of each row's empty JSON column…), and once for a value the
    previous row holds too (the time of an insert, shared by its rows)."""
    null = process(None)
    values, last, processed = [], None, None
    for row in rows:
        value = row.get(key)
        if value is None:
            values.append(null)
        elif value is last:
            values.append(processed)
        else:
            last, processed = value, process(value)
            values.append(processed)
    return values


def write_values(table: sa.Table, keys: list[str], values) -> None:
    """Insert ``values`` (sequences of the ``keys`` columns, as the driver takes them): COPY on
    PostgreSQL, one executemany on SQLite. A driver error is raised as SQLAlchemy raises it."""
    connection = db.session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(key) for key in keys)
    driver_error = dialect.loaded_dbapi.Error
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        if dialect.name == "postgresql":
            command = f"COPY {quote(table.name)} ({names}) FROM STDIN"
            with cursor.copy(command) as copy:
                for row in values:
                    copy.write_row(row)
        else:
            command = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({', '.join('?' * len(keys))})"
            cursor.executemany(command, values)
    except driver_error as error:
        raise sa.exc.DBAPIError.instance(command, None, error, driver_error) from error
    finally:
        cursor.close()
