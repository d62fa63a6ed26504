"""Creating, editing, copying and deleting the F-A-S-D records of an organisation.

Every change goes through here: the permission is checked, an action that was published,
refused or waiting for validation goes back to "en cours de saisie" when its content
changes (it must be sent again), and the change is committed as one transaction.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from models import (
    Action,
    ActionStatus,
    Formation,
    InformationCollective,
    ModelValidationError,
    PeriodeInscription,
    SessionDispositif,
    SessionFormation,
    User,
    db,
)
from sofi import permissions
from sofi.services.errors import DomainError

READ_ONLY_STATES = {ActionStatus.ARCHIVEE}


def owning_action(record) -> Action | None:
    if isinstance(record, Action):
        return record
    if isinstance(record, SessionFormation):
        return record.action
    if isinstance(record, SessionDispositif | InformationCollective | PeriodeInscription):
        return record.session.action if record.session else None
    return None


def _owner_id(record) -> int | None:
    """The organisation a new record is created for."""
    if isinstance(record, Formation | Action):
        return record.organisation.id if record.organisation else record.organisation_id
    action = owning_action(record)
    return _owner_id(action) if action is not None else None


def check_editable(user: User, record) -> None:
    """Raise a DomainError unless ``user`` may change ``record`` now."""
    organisation = permissions.current_organisation(user)
    if not permissions.is_administrator(user):
        if organisation is None:
            raise DomainError("Choisissez d'abord l'établissement sur lequel vous saisissez.")
        if sa.inspect(record).persistent:
            if not permissions.can_edit(user, record):
                raise DomainError("Vous ne pouvez pas modifier cet enregistrement.")
        elif _owner_id(record) != organisation.id:
            raise DomainError("Vous ne pouvez créer des enregistrements que pour votre établissement.")
    action = owning_action(record)
    if action is not None and action.status in READ_ONLY_STATES:
        raise DomainError("Cette action est archivée : elle ne peut plus être modifiée.")


def _reopen(action: Action | None) -> None:
    """An edit re-opens its action: the status change itself is the workflow's (``workflow.reopen_edited``)."""
    # Imported here: workflow imports programmes, which imports this module.
    from sofi.services import workflow

    workflow.reopen_edited(action)


def save(user: User, record) -> None:
    """Commit a new or changed F-A-S-D record (already filled from a form)."""
    try:
        with db.session.no_autoflush:  # a new record is not in the session until it is allowed
            check_editable(user, record)
            action = owning_action(record)
            if action is not None and sa.inspect(action).persistent:
                _reopen(action)
    except DomainError:
        db.session.rollback()
        raise
    db.session.add(record)
    _commit()


def delete(user: User, record) -> None:
    check_editable(user, record)
    action = owning_action(record) if not isinstance(record, Action) else None
    db.session.delete(record)
    if action is not None:
        _reopen(action)
    _commit()


def _commit() -> None:
    try:
        db.session.commit()
    except ModelValidationError as error:
        db.session.rollback()
        raise DomainError(error.message[:1].upper() + error.message[1:], error.field) from error
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        raise DomainError("Enregistrement impossible : une donnée est incohérente ou déjà utilisée.") from error
    except StaleDataError as error:
        db.session.rollback()
        raise DomainError(
            "Cet enregistrement vient d'être modifié par quelqu'un d'autre : rechargez la fiche avant de la modifier."
        ) from error


def _copy_columns(source, target, exclude=("id", "created_at", "updated_at")) -> None:
    for column in sa.inspect(type(source)).columns:
        # A copy is a new record: it never inherits the LHÉO identifier of an imported one.
        if column.key not in exclude and column.key not in ("version", "numero_lheo") and not column.primary_key:
            value = getattr(source, column.key)
            setattr(target, column.key, list(value) if isinstance(value, list) else value)


def copy_session(source: SessionFormation, date_debut: date, date_fin: date) -> SessionFormation:
    """A new session of the same action with new dates, its dispositifs and inscription data."""
    copy = SessionFormation()
    _copy_columns(source, copy, exclude=("id", "created_at", "updated_at", "action_id", "date_debut", "date_fin"))
    copy.action = source.action
    copy.date_debut, copy.date_fin = date_debut, date_fin
    for dispositif in source.dispositifs:
        new = SessionDispositif(dispositif_code=dispositif.dispositif_code, nb_places=dispositif.nb_places)
        _copy_columns(dispositif, new, exclude=("id", "created_at", "updated_at", "session_id", "nb_places_restantes"))
        new.nb_places_restantes = None
        new.publics = list(dispositif.publics)
        copy.dispositifs.append(new)
    return copy


def copy_sessions(user: User, requests: list[tuple[SessionFormation, date, date]]) -> list[SessionFormation]:
    """Copy several sessions at once (one transaction); the originals are untouched."""
    copies = []
    with db.session.no_autoflush:
        for source, date_debut, date_fin in requests:
            check_editable(user, source)
            if date_fin < date_debut:
                raise DomainError(f"Session {source.fas_code} : la date de fin doit suivre la date de début.")
            copy = copy_session(source, date_debut, date_fin)
            db.session.add(copy)
            copies.append(copy)
            _reopen(source.action)
    _commit()
    return copies


def duplicate_action(user: User, source: Action) -> Action:
    """A new draft action of the same formation with copies of all its sessions."""
    with db.session.no_autoflush:
        action = _duplicate(user, source)
    db.session.add(action)
    _commit()
    return action


def _duplicate(user: User, source: Action) -> Action:
    check_editable(user, source)
    action = Action(formation=source.formation, organisation=source.organisation, site=source.site)
    _copy_columns(
        source,
        action,
        exclude=(
            "id",
            "created_at",
            "updated_at",
            "formation_id",
            "organisation_id",
            "site_id",
            "status",
            "status_changed_at",
            "certifinfo_replaced",
        ),
    )
    action.prerequis = list(source.prerequis or [])
    action.status = ActionStatus.EN_COURS_DE_SAISIE
    for session in source.sessions:
        copy = copy_session(session, session.date_debut, session.date_fin)
        copy.informations_collectives = [
            InformationCollective(
                date=i.date, heure_debut=i.heure_debut, heure_fin=i.heure_fin, lieu=i.lieu, commentaire=i.commentaire
            )
            for i in session.informations_collectives
        ]
        copy.periodes_inscription = [
            PeriodeInscription(type=p.type, date_debut=p.date_debut, date_fin=p.date_fin)
            for p in session.periodes_inscription
        ]
        action.sessions.append(copy)
    return action


def new_formation(user: User) -> Formation:
    organisation = permissions.current_organisation(user)
    if organisation is None:
        raise DomainError("Choisissez d'abord l'établissement sur lequel vous saisissez.")
    return Formation(organisation=organisation)
