"""The machinery of the business rules: :class:`Problem`, the registry and :func:`check_action`.

A rule is a small function ``check(record, ctx)`` that yields :class:`Problem` objects; it is
registered for one level of the F-A-S-D tree with ``@rule(level)``. :func:`check_action` walks
an action's tree (formation, action, then each session followed by its dispositifs) and runs
the rules of each level on each record. Rules read, never write: the walk runs with autoflush
off, so that checking a draft with unsaved changes neither flushes nor raises.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import MANYTOONE, joinedload, object_session, selectinload

from models import (
    Action,
    Certification,
    Contact,
    Formation,
    Organisation,
    SessionDispositif,
    SessionFormation,
    Site,
)

LEVELS = ("formation", "action", "session", "dispositif")

_LEVEL_OF = {
    Formation: "formation",
    Action: "action",
    SessionFormation: "session",
    SessionDispositif: "dispositif",
}


@dataclass(frozen=True)
class Problem:
    """Something missing or invalid in an action's tree.

    ``code`` is the stable name of the rule (``session.referent_pmr.required``); ``level`` and
    ``record_id`` say which record it concerns (``record_id`` is None for an unsaved record);
    ``field`` is the model attribute to link to (the relationship name for a reference, e.g.
    ``referent_pmr``, ``site``, ``dispositif``); ``message`` is French and names the field as
    the form does; ``blocking`` problems prevent submission and approval, the others are
    warnings; ``label`` says where, for a recap (FAS code of a session, label of a dispositif…).
    """

    code: str
    level: str
    record_id: int | None
    field: str | None
    message: str
    blocking: bool = True
    label: str = ""


@dataclass(frozen=True)
class Context:
    """What a rule may need besides its record: the action being checked and today's date."""

    today: date
    action: Action

    @property
    def formation(self) -> Formation | None:
        return self.action.formation

    @property
    def organisation(self) -> Organisation | None:
        """The dispensing organisation (the action's establishment)."""
        return self.action.organisation


Check = Callable[[object, Context], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    name: str
    level: str
    check: Check = field(repr=False)
    description: str = ""


RULES: dict[str, list[Rule]] = {level: [] for level in LEVELS}


def rule(level: str) -> Callable[[Check], Check]:
    """Register ``check`` as a rule of ``level`` (``formation``, ``action``, ``session``, ``dispositif``)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")

    def register(check: Check) -> Check:
        module = check.__module__.rsplit(".", 1)[-1]
        description = (check.__doc__ or "").strip().split("\n")[0]
        name = f"{module}.{check.__name__}"
        RULES[level][:] = [r for r in RULES[level] if r.name != name]  # a reloaded module replaces its rules
        RULES[level].append(Rule(name, level, check, description))
        return check

    return register


def rules(level: str | None = None) -> list[Rule]:
    """The registered rules, of one level or of all levels in F-A-S-D order."""
    if level is not None:
        return list(RULES[level])
    return [r for lvl in LEVELS for r in RULES[lvl]]


# --- building problems -------------------------------------------------------------------


def level_of(record) -> str:
    return _LEVEL_OF[type(record)]


def label_of(record) -> str:
    """How a recap names ``record``: intitulé, action number, FAS code, dispositif and session."""
    if isinstance(record, Formation):
        return record.intitule or (f"Formation {record.id}" if record.id else "Nouvelle formation")
    if isinstance(record, Action):
        return str(record) if record.id else "Nouvelle action"
    if isinstance(record, SessionFormation):
        return f"Session {record.fas_code}" if record.id and record.action is not None else "Nouvelle session"
    if isinstance(record, SessionDispositif):
        name = record.dispositif.label if record.dispositif is not None else "Nouveau dispositif"
        return f"{name} – {label_of(record.session)}" if record.session is not None else name
    return str(record)


def problem(record, code: str, field: str | None, message: str, *, blocking: bool = True) -> Problem:
    """A :class:`Problem` about ``record`` (its level, id and label are filled in)."""
    return Problem(
        code=code,
        level=level_of(record),
        record_id=record.id,
        field=field,
        message=message,
        blocking=blocking,
        label=label_of(record),
    )


def is_empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | dict):
        return len(value) == 0
    return False


def value_of(record, attribute: str):
    """The value of ``attribute``; for a reference, its foreign key when set (no query), else the object."""
    mapper = sa.inspect(type(record))
    relationship = mapper.relationships.get(attribute)
    if relationship is not None and relationship.direction is MANYTOONE:
        keys = [mapper.get_property_by_column(column).key for column in relationship.local_columns]
        values = [getattr(record, key) for key in keys]
        if all(value is not None for value in values):
            return values[0] if len(values) == 1 else tuple(values)
    return getattr(record, attribute)


def missing(record, attribute: str, label: str, *, blocking: bool = True, reason: str = "") -> Problem:
    """« Référent PMR : champ obligatoire. » (code ``<level>.<attribute>.required``)."""
    kind = "champ obligatoire" if blocking else "champ recommandé, à renseigner"
    message = f"{label} : {kind}{reason}."
    return problem(record, f"{level_of(record)}.{attribute}.required", attribute, message, blocking=blocking)


def required_fields(record, fields: Iterable[tuple[str, str]], *, blocking: bool = True) -> Iterator[Problem]:
    """A :func:`missing` problem for each ``(attribute, label)`` of ``fields`` left empty."""
    for attribute, label in fields:
        if is_empty(value_of(record, attribute)):
            yield missing(record, attribute, label, blocking=blocking)


def too_long(record, attribute: str, label: str, limit: int) -> Iterator[Problem]:
    value = getattr(record, attribute)
    if value is not None and len(value) > limit:
        yield problem(
            record,
            f"{level_of(record)}.{attribute}.too_long",
            attribute,
            f"{label} : limité à {limit} caractères ({len(value)} saisis).",
        )


def fr_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


# --- running the rules -------------------------------------------------------------------


def _run(level: str, record, ctx: Context) -> list[Problem]:
    found: list[Problem] = []
    for registered in RULES[level]:
        found.extend(registered.check(record, ctx))
    return found


def check_action(action: Action, today: date | None = None) -> list[Problem]:
    """Every problem of ``action``'s tree: formation, action, then each session and its dispositifs.

    Nothing is modified (autoflush is off during the walk). Load the action with
    :func:`tree_options` to read the whole tree in a fixed number of queries.
    """
    ctx = Context(today=today or date.today(), action=action)
    orm_session = object_session(action)
    with orm_session.no_autoflush if orm_session is not None else nullcontext():
        problems: list[Problem] = []
        if action.formation is not None:
            problems += _run("formation", action.formation, ctx)
        problems += _run("action", action, ctx)
        for training_session in action.sessions:
            problems += _run("session", training_session, ctx)
            for dispositif in training_session.dispositifs:
                problems += _run("dispositif", dispositif, ctx)
    return problems


def blocking(problems: Iterable[Problem]) -> list[Problem]:
    """The problems that prevent sending an action for validation or approving it."""
    return [p for p in problems if p.blocking]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    """The problems shown to the user that do not block submission."""
    return [p for p in problems if not p.blocking]


def tree_options() -> tuple:
    """Loader options for ``select(Action)`` that read everything the rules look at.

    ``db.session.scalar(sa.select(Action).where(Action.id == i).options(*tree_options()))``
    then ``check_action`` runs without any further query.
    """
    from sofi.rules.programme import tree_options as programme_options  # the lot an action was created from

    referents = (
        SessionFormation.referent_pmr,
        SessionFormation.referent_prf,
        SessionFormation.mail_liaison,
        SessionFormation.referent_mobilite,
    )
    return (
        joinedload(Action.formation).options(
            selectinload(Formation.domaines),
            selectinload(Formation.blocs),
            joinedload(Formation.certification).selectinload(Certification.blocs),
        ),
        joinedload(Action.organisation).options(
            selectinload(Organisation.habilitations),
            selectinload(Organisation.conventionnements),
        ),
        joinedload(Action.site).joinedload(Site.organisation),
        selectinload(Action.sessions).options(
            joinedload(SessionFormation.site).joinedload(Site.organisation),
            joinedload(SessionFormation.organisme_responsable),
            *(joinedload(referent).joinedload(Contact.organisation) for referent in referents),
            selectinload(SessionFormation.informations_collectives),
            selectinload(SessionFormation.dispositifs).options(
                joinedload(SessionDispositif.dispositif),
                selectinload(SessionDispositif.publics),
            ),
        ),
        *programme_options(),
    )
