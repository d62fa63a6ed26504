"""Automatic archiving (seed procedure 004, « L'archivage automatique »).

To stay consultable, a published action must have at least one session that has not started
(``date_debut`` after the reference day); an action in entrées/sorties permanentes
(``entrees_sorties = "1"``) or modular (``type_parcours = "3"``, parcours modularisé) may have
started, as long as its last session has not ended (latest ``date_fin`` after the reference day).
The others are archived through ``workflow.archive_actions`` (out of the catalogue, the API and
the LHÉO export; still visible to their organisation and validators; archive date set).

Only actions in the "publiée" state are considered. An action whose organisation is revising
it (back to "en cours de saisie" with its previous version still published) is left alone: its
new sessions are not known yet; it is judged again when the revision is approved.

Running it twice the same day changes nothing the second time.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from models import Action, ActionStatus, SessionFormation, db
from sofi.search_public import kept_counts
from sofi.services import workflow

ENTREES_SORTIES_PERMANENTES = "1"
PARCOURS_MODULARISE = "3"


def keeps_published(today: date) -> sa.ColumnElement[bool]:
    """SQL condition: the action still meets the consultation rules on ``today``."""
    session = sa.orm.aliased(SessionFormation)
    not_started = sa.exists().where(session.action_id == Action.id, session.date_debut > today)
    permanent = sa.orm.aliased(SessionFormation)
    flexible = sa.exists().where(
        permanent.action_id == Action.id,
        sa.or_(
            permanent.entrees_sorties == ENTREES_SORTIES_PERMANENTES,
            permanent.type_parcours == PARCOURS_MODULARISE,
        ),
    )
    last = sa.orm.aliased(SessionFormation)
    last_end = sa.select(sa.func.max(last.date_fin)).where(last.action_id == Action.id).scalar_subquery()
    return sa.or_(not_started, sa.and_(flexible, last_end > today))


def actions_to_archive(today: date) -> sa.Select:
    """The published actions that no longer meet the rules on ``today``."""
    return (
        sa.select(Action)
        .where(Action.status == ActionStatus.PUBLIEE, sa.not_(keeps_published(today)))
        .order_by(Action.id)
    )


@dataclass
class ArchivingResult:
    today: date
    archived: list[tuple[int, str]] = field(default_factory=list)
    kept: int = 0

    def summary(self) -> str:
        return (
            f"Archivage au {self.today:%d/%m/%Y} : {len(self.archived)} action(s) archivée(s), "
            f"{self.kept} action(s) publiée(s) conservée(s)."
        )


def archive_expired(today: date | None = None) -> ArchivingResult:
    """Archive every published action that no longer meets the rules (idempotent)."""
    today = today or date.today()
    result = ArchivingResult(today)
    try:
        actions = db.session.scalars(actions_to_archive(today)).all()
        result.archived = [(action.id, action.intitule) for action in actions]
        workflow.archive_actions(actions)
        kept_counts.rebuild(today)  # the day's count of the whole offer, without the sessions ended
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    result.kept = db.session.scalar(
        sa.select(sa.func.count()).select_from(Action).where(Action.status == ActionStatus.PUBLIEE)
    )
    return result
