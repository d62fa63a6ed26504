"""Status changes of an action: the only code that sets ``Action.status``."""

from datetime import date

from models import Action, ActionStatus, User, db
from models.base import utcnow
from sofi import audit, permissions
from sofi.rules import blocking, check_action
from sofi.services import publication
from sofi.services.errors import DomainError

SUBMITTABLE = {ActionStatus.EN_COURS_DE_SAISIE, ActionStatus.EN_ATTENTE_REPONSES, ActionStatus.REFUSEE}


def submit_action(user: User, action: Action, today: date | None = None) -> None:
    """ "Envoyer en validation": only the action's organisation, only when nothing blocks."""
    if not permissions.is_organisation_user(user) or not permissions.can_edit(user, action):
        raise DomainError("Vous ne pouvez pas envoyer cette action en validation.")
    if action.status not in SUBMITTABLE:
        raise DomainError(f"Cette action est « {action.status.label} » : elle ne peut pas être envoyée en validation.")
    problems = blocking(check_action(action, today or date.today()))
    if problems:
        raise DomainError(
            f"L'action ne peut pas être envoyée : {len(problems)} point(s) bloquant(s) à corriger "
            "(voir l'état de la saisie)."
        )
    action.status = ActionStatus.EN_ATTENTE_VALIDATION
    action.status_changed_at = action.submitted_at = utcnow()
    db.session.commit()


def archive_action(action: Action) -> None:
    """Archive an action (automatic archiving): out of the catalogue, API and export.

    It stays visible to its organisation and to validators. The caller commits (archiving
    runs as one batch).
    """
    if action.status is ActionStatus.ARCHIVEE:
        return
    publication.unpublish(action)
    action.status = ActionStatus.ARCHIVEE
    action.status_changed_at = action.archived_at = utcnow()
    audit.note("archive", action, "Action archivée automatiquement.")
