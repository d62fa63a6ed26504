"""The audit log: every write to the offer, the directory and the accounts, automatically.

A flush listener records, for each inserted, updated or deleted row of an audited model,
who did it (the actor of the current request, API call or command), when, and the values
before and after. Nothing calls it explicitly, so no path (UI, API, CLI, importer) can
forget it. The rows are append-only (see ``models.workflow.AuditEvent``).
"""

import contextlib
import contextvars
import enum
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.base import NO_VALUE

from models import (
    Action,
    ActionMessage,
    AuditEvent,
    Contact,
    Conventionnement,
    Formation,
    InformationCollective,
    Lot,
    LotOrganisation,
    Membership,
    Organisation,
    PeriodeInscription,
    PorteOuverte,
    Programme,
    ProgrammeAction,
    ProgrammeTemplate,
    RegionConsent,
    SessionDispositif,
    SessionFormation,
    Site,
    User,
)
from models.base import utcnow
from sofi.config import JSON_OPTIONS
from sofi.plain_rows import driver_value

AUDITED = (
    Organisation,
    Site,
    Contact,
    PorteOuverte,
    Conventionnement,
    Formation,
    Action,
    SessionFormation,
    SessionDispositif,
    InformationCollective,
    PeriodeInscription,
    User,
    Membership,
    ActionMessage,
    Programme,
    Lot,
    LotOrganisation,
    ProgrammeTemplate,
    ProgrammeAction,
    RegionConsent,
)
SECRET_COLUMNS = {"password_hash"}
# Columns whose changes are bookkeeping, not edits (a login is not a change of the account).
IGNORED_COLUMNS = {"last_login_at", "updated_at"}


@dataclass(frozen=True)
class Actor:
    id: int | None
    label: str
    source: str


SYSTEM = Actor(None, "système", "system")
_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("sofi_audit_actor", default=None)


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is not None:
        return actor
    try:
        from flask import has_request_context, request
        from flask_login import current_user
    except ImportError:  # pragma: no cover - Flask is always installed
        return SYSTEM
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        source = "api" if request.path.startswith("/api/") else "ui"
        return Actor(current_user.id, current_user.email, source)
    return SYSTEM


@contextlib.contextmanager
def acting_as(label: str, source: str = "cli", user: User | None = None):
    """Attribute the writes made inside the block to ``label`` (a command, an import, a token)."""
    token = _actor.set(Actor(user.id if user else None, label, source))
    try:
        yield
    finally:
        _actor.reset(token)


# Values stored as they are; checked first by their exact type (an enum member is not one of them).
AS_IS = frozenset({str, int, float, bool, type(None)})


def _plain(value):
    convert = CONVERSIONS.get(type(value))
    if convert is not None:  # the usual types, by their exact type; subclasses (enums…) below
        return convert(value)
    if type(value) in AS_IS:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return _plain_items(value)
    return value


def _plain_items(values) -> list:
    return [item if type(item) in AS_IS else _plain(item) for item in values]


CONVERSIONS = {
    date: date.isoformat,
    datetime: datetime.isoformat,
    time: time.isoformat,
    Decimal: str,
    list: _plain_items,
    tuple: _plain_items,
}


@cache
def _column_keys(model: type) -> tuple[str, ...]:
    return tuple(c.key for c in sa.inspect(model).columns if c.key not in SECRET_COLUMNS)


def _column_values(model: type, loaded: dict) -> dict:
    """The audited columns present in ``loaded``, in column order, as JSON values."""
    return {
        key: value if type(value) in AS_IS else _plain(value)
        for key in _column_keys(model)
        if (value := loaded.get(key, NO_VALUE)) is not NO_VALUE
    }


def _values(instance) -> dict:
    # state.dict holds the loaded values (what AttributeState.loaded_value reads), without building
    # the per-instance attribute states: a bulk import creates thousands of rows per flush.
    return _column_values(type(instance), sa.inspect(instance).dict)


def _changes(instance) -> tuple[dict, dict]:
    state = sa.inspect(instance)
    before, after = {}, {}
    for key in _column_keys(type(instance)):
        if key in IGNORED_COLUMNS:
            continue
        history = state.attrs[key].history
        if history.has_changes():
            before[key] = _plain(history.deleted[0]) if history.deleted else None
            after[key] = _plain(history.added[0]) if history.added else None
    return before, after


def _loaded(instance, name):
    return sa.inspect(instance).dict.get(name)  # what is loaded, never a query


def _owners(instance) -> tuple[int | None, int | None]:
    """(organisation id, action id) of a record, from what is already loaded (no query in a flush)."""
    if isinstance(instance, Action):
        return instance.organisation_id, instance.id
    if isinstance(instance, SessionFormation):
        action = _loaded(instance, "action")
        return (action.organisation_id if action else None), instance.action_id
    if isinstance(instance, SessionDispositif | InformationCollective | PeriodeInscription):
        session = _loaded(instance, "session")
        action = _loaded(session, "action") if session is not None else None
        return (action.organisation_id if action else None), (session.action_id if session else None)
    if isinstance(instance, ActionMessage | ProgrammeAction | RegionConsent):
        return None, instance.action_id
    if isinstance(instance, Organisation):
        return instance.id, None
    if isinstance(instance, PorteOuverte):
        site = _loaded(instance, "site")
        return (site.organisation_id if site else None), None
    return getattr(instance, "organisation_id", None), None


def _record_id(instance) -> str:
    """The primary key, read from the row (a new row has no identity key yet during the flush)."""
    key = sa.inspect(type(instance)).primary_key_from_instance(instance)
    return "-".join(str(part) for part in key if part is not None)


def _event(actor: Actor, at: datetime, operation: str, instance, before, after, message=None) -> dict:
    """An audit row. ``at``: the time of the user's action, one for all the rows it writes in one go
    (a flush), as PostgreSQL's ``now()`` is the transaction's."""
    organisation_id, action_id = _owners(instance)
    return {
        "at": at,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "source": actor.source,
        "operation": operation,
        "table_name": instance.__tablename__,
        "record_id": _record_id(instance),
        "organisation_id": organisation_id,
        "action_id": action_id,
        "before": before,
        "after": after,
        "message": message,
    }


@sa.event.listens_for(OrmSession, "after_flush")
def _record(session, flush_context):
    actor, at = current_actor(), utcnow()
    events = []
    for instance in session.new:
        if isinstance(instance, AUDITED):
            events.append(_event(actor, at, "create", instance, None, _values(instance)))
    for instance in session.dirty:
        if isinstance(instance, AUDITED) and session.is_modified(instance, include_collections=False):
            before, after = _changes(instance)
            if after:
                events.append(_event(actor, at, "update", instance, before, after))
    for instance in session.deleted:
        if isinstance(instance, AUDITED):
            events.append(_event(actor, at, "delete", instance, _values(instance), None))
    if events:
        session.connection().execute(sa.insert(AuditEvent.__table__), events)


def note(operation: str, instance, message: str, before=None, after=None) -> None:
    """Record a domain event that is not a plain column change (a transition, a bulk approval)."""
    from models import db

    db.session.execute(
        sa.insert(AuditEvent.__table__),
        [_event(current_actor(), utcnow(), operation, instance, before, after, message)],
    )


# The columns of an event ``created_events`` gives, in order.
CREATED_EVENT_KEYS = (
    "at",
    "actor_id",
    "actor_label",
    "source",
    "operation",
    "table_name",
    "record_id",
    "organisation_id",
    "action_id",
    "before",
    "after",
)


def created_events(model: type, rows: list[dict], owners: list[tuple[int | None, int | None]]) -> list[tuple]:
    """The audit rows of rows inserted without ORM objects (the new records of an LHÉO import),
    as the values of ``CREATED_EVENT_KEYS`` the driver takes (``plain_rows.write_values``).

    Each is the ``create`` event the flush listener writes for a new object: ``rows`` hold what
    the flushed object would (the columns set, the defaults, the keys), ``owners`` the
    (organisation id, action id) of each row. The caller inserts them into ``audit_event``
    with the rows, in bulk. ``after`` is encoded straight from the row by orjson, which writes
    dates, times and enums as ``_plain`` does (Decimal: its text, by ``default``): an import
    writes one event per row (converting each value first, then encoding the converted row, cost
    2.5 s of the 21 s an import of 102,565 sessions computed).
    """
    actor = current_actor()
    event = AuditEvent.__table__.c
    constant = (
        driver_value(event.at, utcnow()),
        actor.id,
        actor.label,
        actor.source,
        "create",
        model.__tablename__,
    )
    before = driver_value(event.before, None)
    (key, *others) = [column.key for column in sa.inspect(model).primary_key]
    assert not others, f"{model.__name__}: one-column primary key expected"
    columns = _column_keys(model)
    return [
        (
            *constant,
            str(row[key]),
            *owner,
            before,
            orjson.dumps(
                {name: row[name] for name in columns if name in row}, default=str, option=JSON_OPTIONS
            ).decode(),
        )
        for row, owner in zip(rows, owners, strict=True)
    ]
