"""Named subsets of sessions and actions: the dashboard counters of the seeds.

Each preset is a WHERE clause; the dashboard counts it and the list it links to filters
with the very same clause, so a counter always matches its list.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from models import Action, ActionStatus, Dispositif, ProgrammeAction, SessionDispositif, SessionFormation


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    clause: Callable[[date], sa.ColumnElement]


# Neither reads a whole large table: a session's dispositifs are probed through the index on
# session_dispositif (only the rows being counted or listed are looked at), and the archived
# actions, few, are read once from the index on action.status into a hash.
def _with_dispositif(condition) -> sa.ColumnElement:
    return sa.exists().where(
        SessionDispositif.session_id == SessionFormation.id,
        SessionDispositif.dispositif_code.in_(sa.select(Dispositif.code).where(condition)),
    )


def _not_archived() -> sa.ColumnElement:
    return SessionFormation.action_id.not_in(sa.select(Action.id).where(Action.status == ActionStatus.ARCHIVEE))


def _active(today: date) -> sa.ColumnElement:
    return sa.and_(SessionFormation.date_fin >= today, _not_archived())


SESSION_PRESETS = [
    Preset("actives", "Sessions de formation actives", _active),
    Preset(
        "initiales",
        "Sessions de formation initiales actives",
        lambda today: sa.and_(_active(today), _with_dispositif(Dispositif.formation_initiale)),
    ),
    Preset(
        "inactives-bientot",
        "Sessions de formation inactives dans moins d'un mois",
        lambda today: sa.and_(_active(today), SessionFormation.date_fin < today + timedelta(days=31)),
    ),
    Preset(
        "inactives",
        "Sessions de formation inactives",
        lambda today: sa.or_(SessionFormation.date_fin < today, sa.not_(_not_archived())),
    ),
    Preset(
        "programme-region",
        "Sessions de formation du programme région",
        lambda today: sa.and_(_active(today), _with_dispositif(Dispositif.programme_regional)),
    ),
    Preset(
        "apprentissage",
        "Sessions de formation en contrat d'apprentissage",
        lambda today: sa.and_(_active(today), _with_dispositif(Dispositif.contrat_apprentissage)),
    ),
    Preset(
        "professionnalisation",
        "Sessions de formation en contrat de professionnalisation",
        lambda today: sa.and_(_active(today), _with_dispositif(Dispositif.contrat_professionnalisation)),
    ),
    Preset(
        "distance",
        "Sessions de formation ouvertes à distance",
        lambda today: sa.and_(_active(today), SessionFormation.modalite_enseignement.in_(["1", "2"])),
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
        lambda today: Action.status == ActionStatus.EN_COURS_DE_SAISIE,
    ),
    Preset(
        "publiques-en-cours-de-saisie",
        "Actions de formation publique en cours de saisie",
        lambda today: sa.and_(Action.status == ActionStatus.EN_COURS_DE_SAISIE, _public_action()),
    ),
    Preset(
        "en-attente-validation",
        "Actions de formation en attente de validation par CARIF-OREF",
        lambda today: Action.status == ActionStatus.EN_ATTENTE_VALIDATION,
    ),
    Preset(
        "en-attente-reponses",
        "Actions de formation en attente de réponses",
        lambda today: Action.status == ActionStatus.EN_ATTENTE_REPONSES,
    ),
    Preset(
        "certifinfo-remplace",
        "Actions de formation dont le code Certifinfo a été remplacé par le CARIF-OREF",
        lambda today: Action.certifinfo_replaced,
    ),
]

SESSION_PRESETS_BY_KEY = {preset.key: preset for preset in SESSION_PRESETS}
ACTION_PRESETS_BY_KEY = {preset.key: preset for preset in ACTION_PRESETS}
