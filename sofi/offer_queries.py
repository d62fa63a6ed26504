"""Named subsets of sessions and actions: the dashboard counters of the seeds.

Each preset is written once. The list it links to filters with it as a WHERE clause, and the
dashboard counts it; a counter therefore always matches its list. Session presets are written
against *terms* (end date, mode, "not archived", "has a dispositif of this kind") that have two
readings: on the session table for the lists (``clause``), and on one row per session carrying
its dispositif flags, computed in a single pass, for the counters (``count_sessions``): probing
each session's dispositifs once per counter made the dashboard of a large organisation slow.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from models import Action, ActionStatus, Dispositif, ProgrammeAction, SessionDispositif, SessionFormation, db


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    rule: Callable  # (terms, today) -> WHERE clause; the terms are ignored by action presets

    def clause(self, today: date) -> sa.ColumnElement:
        """The WHERE clause of the list this preset names."""
        return self.rule(SESSION_TABLE_TERMS, today)


# The kinds of dispositif a session preset can ask for (columns of the small dispositif table).
DISPOSITIF_KINDS = (
    Dispositif.formation_initiale,
    Dispositif.programme_regional,
    Dispositif.contrat_apprentissage,
    Dispositif.contrat_professionnalisation,
)


def _codes(kind) -> list[int]:
    """Codes of the dispositifs of ``kind``, read once from the small reference table."""
    return list(db.session.scalars(sa.select(Dispositif.code).where(kind).order_by(Dispositif.code)))


def _archived_actions() -> sa.Select:
    return sa.select(Action.id).where(Action.status == ActionStatus.ARCHIVEE)


class _SessionTableTerms:
    """The terms read on the session table: a session's dispositifs are probed through the unique
    index on session_dispositif (session_id, dispositif_code); the archived actions, few, are read
    once from the index on action.status into a hash."""

    def __init__(self):
        self.date_fin = SessionFormation.date_fin
        self.modalite_enseignement = SessionFormation.modalite_enseignement

    @staticmethod
    def not_archived() -> sa.ColumnElement:
        return SessionFormation.action_id.not_in(_archived_actions())

    @staticmethod
    def has_dispositif(kind) -> sa.ColumnElement:
        return sa.exists().where(
            SessionFormation.id == SessionDispositif.session_id, SessionDispositif.dispositif_code.in_(_codes(kind))
        )


class _SessionRowTerms:
    """The terms read on ``session_rows``: one row per session with its flags."""

    def __init__(self, rows):
        self.rows = rows
        self.date_fin = rows.c.date_fin
        self.modalite_enseignement = rows.c.modalite_enseignement

    def not_archived(self) -> sa.ColumnElement:
        return self.rows.c.archived == 0

    def has_dispositif(self, kind) -> sa.ColumnElement:
        return self.rows.c[kind.key] == 1


SESSION_TABLE_TERMS = _SessionTableTerms()


def session_rows(scope: Callable[[sa.Select], sa.Select]) -> sa.Subquery:
    """One row per session that ``scope`` keeps, with the flags the presets test."""
    flags = [
        sa.func.max(sa.case((SessionDispositif.dispositif_code.in_(_codes(kind)), 1), else_=0)).label(kind.key)
        for kind in DISPOSITIF_KINDS
    ]
    query = (
        sa.select(
            SessionFormation.id,
            SessionFormation.date_fin,
            SessionFormation.modalite_enseignement,
            sa.case((Action.status == ActionStatus.ARCHIVEE, 1), else_=0).label("archived"),
            *flags,
        )
        .join(Action, Action.id == SessionFormation.action_id)
        .outerjoin(SessionDispositif, SessionDispositif.session_id == SessionFormation.id)
        .group_by(SessionFormation.id, SessionFormation.date_fin, SessionFormation.modalite_enseignement, Action.status)
    )
    return scope(query).subquery("session_rows")


def count_sessions(presets: list[Preset], scope: Callable[[sa.Select], sa.Select], today: date) -> list[int]:
    """Every session counter in one pass over the sessions ``scope`` keeps."""
    rows = session_rows(scope)
    terms = _SessionRowTerms(rows)
    query = sa.select(*(sa.func.count().filter(preset.rule(terms, today)) for preset in presets)).select_from(rows)
    return list(db.session.execute(query).one())


def _active(terms, today: date) -> sa.ColumnElement:
    return sa.and_(terms.date_fin >= today, terms.not_archived())


def _active_with(kind) -> Callable:
    return lambda terms, today: sa.and_(_active(terms, today), terms.has_dispositif(kind))


SESSION_PRESETS = [
    Preset("actives", "Sessions de formation actives", _active),
    Preset("initiales", "Sessions de formation initiales actives", _active_with(Dispositif.formation_initiale)),
    Preset(
        "inactives-bientot",
        "Sessions de formation inactives dans moins d'un mois",
        lambda terms, today: sa.and_(_active(terms, today), terms.date_fin < today + timedelta(days=31)),
    ),
    Preset(
        "inactives",
        "Sessions de formation inactives",
        lambda terms, today: sa.or_(terms.date_fin < today, sa.not_(terms.not_archived())),
    ),
    Preset(
        "programme-region", "Sessions de formation du programme région", _active_with(Dispositif.programme_regional)
    ),
    Preset(
        "apprentissage",
        "Sessions de formation en contrat d'apprentissage",
        _active_with(Dispositif.contrat_apprentissage),
    ),
    Preset(
        "professionnalisation",
        "Sessions de formation en contrat de professionnalisation",
        _active_with(Dispositif.contrat_professionnalisation),
    ),
    Preset(
        "distance",
        "Sessions de formation ouvertes à distance",
        lambda terms, today: sa.and_(_active(terms, today), terms.modalite_enseignement.in_(["1", "2"])),
    ),
]


def _public_action() -> sa.ColumnElement:
    """An action of the regional programme ("formation publique"), or created from a lot of its file."""
    return sa.or_(
        sa.exists().where(
            SessionFormation.action_id == Action.id,
            SessionDispositif.session_id == SessionFormation.id,
            Dispositif.code == SessionDispositif.dispositif_code,
            Dispositif.programme_regional,
        ),
        sa.exists().where(ProgrammeAction.action_id == Action.id),
    )


ACTION_PRESETS = [
    Preset(
        "en-cours-de-saisie",
        "Actions de formation en cours de saisie",
        lambda _terms, _today: Action.status == ActionStatus.EN_COURS_DE_SAISIE,
    ),
    Preset(
        "publiques-en-cours-de-saisie",
        "Actions de formation publique en cours de saisie",
        lambda _terms, _today: sa.and_(Action.status == ActionStatus.EN_COURS_DE_SAISIE, _public_action()),
    ),
    Preset(
        "en-attente-validation",
        "Actions de formation en attente de validation par CARIF-OREF",
        lambda _terms, _today: Action.status == ActionStatus.EN_ATTENTE_VALIDATION,
    ),
    Preset(
        "en-attente-reponses",
        "Actions de formation en attente de réponses",
        lambda _terms, _today: Action.status == ActionStatus.EN_ATTENTE_REPONSES,
    ),
    Preset(
        "certifinfo-remplace",
        "Actions de formation dont le code Certifinfo a été remplacé par le CARIF-OREF",
        lambda _terms, _today: Action.certifinfo_replaced,
    ),
]

SESSION_PRESETS_BY_KEY = {preset.key: preset for preset in SESSION_PRESETS}
ACTION_PRESETS_BY_KEY = {preset.key: preset for preset in ACTION_PRESETS}
