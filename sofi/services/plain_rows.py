"""Rows inserted without ORM objects, as the ORM would insert them.

Building and flushing an ORM object costs about ten times more than a plain row: a bulk writer
(the LHÉO import's new sessions) checks its rows with the models' own validators and
cross-field checks (``validated``), completes them with the columns' defaults and ids
(``insert_rows``) and writes them in one statement per table (``write_rows``: COPY on PostgreSQL).
"""

from functools import cache

import sqlalchemy as sa

from models import db


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


def insert_rows(model: type, rows: list[dict]) -> None:
    """Insert ``rows``, completed like an ORM insert: defaults, then ``id``."""
    for row in rows:
        for column in defaults(model):
            if column.key not in row:
                default = column.default
                row[column.key] = default.arg if default.is_scalar else default.arg(None)
    table = model.__table__
    connection = db.session.connection()
    keys = [column.key for column in table.columns if column.key != "id"]
    if connection.dialect.name == "sqlite":
        # SQLite numbers the rows of one INSERT in their order but may return them in any order: the ids
        # are sorted (SQLAlchemy's ordered RETURNING would insert the rows one by one, twice slower).
        params = [{key: row.get(key) for key in keys} for row in rows]
        ids = sorted(connection.execute(sa.insert(table).returning(table.c.id), params).scalars())
        for row, identifier in zip(rows, ids, strict=True):
            row["id"] = identifier
        return
    # The ids drawn from the sequence in one query, then COPY (psycopg parsed the pages of an
    # INSERT … RETURNING again each time, in Python: 40 % of the import).
    numbers = sa.select(sa.func.nextval(sa.func.pg_get_serial_sequence(table.name, "id")))
    ids = sorted(connection.execute(numbers.select_from(sa.func.generate_series(1, len(rows)))).scalars())
    for row, identifier in zip(rows, ids, strict=True):
        row["id"] = identifier
    write_rows(table, [{key: row.get(key) for key in ["id", *keys]} for row in rows])


def write_rows(table: sa.Table, rows: list[dict]) -> None:
    """Insert ``rows`` (all with the same keys): COPY on PostgreSQL, one executemany elsewhere.

    COPY is given the values SQLAlchemy would send (its bind processors: JSON…); psycopg's
    executemany sent one INSERT per row, which the import then mostly spent waiting for.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(table), rows)
        return
    dialect = connection.dialect
    keys = list(rows[0])
    columns = [(key, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for key in keys]
    quote = dialect.identifier_preparer.quote
    command = f"COPY {quote(table.name)} ({', '.join(quote(key) for key in keys)}) FROM STDIN"
    driver_error = dialect.loaded_dbapi.Error
    try:
        with connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(command) as copy:
            for row in rows:
                copy.write_row([row[key] if process is None else process(row[key]) for key, process in columns])
    except driver_error as error:  # as SQLAlchemy raises it: a constraint skips the formation (SKIPS)
        raise sa.exc.DBAPIError.instance(command, None, error, driver_error) from error
