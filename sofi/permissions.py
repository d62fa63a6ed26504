"""The one place that answers "which rows may this user see?" and "may they do this?".

Organisation users work on one establishment at a time — the one picked with the SIRET
switcher, kept in the Flask session — and see only its records. Validators and
administrators see every record. Every admin list, count, detail, edit, delete, export,
relation drop-down, autocomplete and bulk action goes through :func:`scoped`.
"""

from collections.abc import Callable

import sqlalchemy as sa
from flask import session as http_session

from models import (
    Action,
    AuditEvent,
    Contact,
    Formation,
    InformationCollective,
    Organisation,
    PeriodeInscription,
    PorteOuverte,
    Role,
    SessionDispositif,
    SessionFormation,
    Site,
    User,
)

CURRENT_ORGANISATION_KEY = "organisation_id"
STAFF_ROLES = {Role.VALIDATOR, Role.ADMINISTRATOR}


def is_staff(user: User) -> bool:
    return user.is_authenticated and user.role in STAFF_ROLES


def is_administrator(user: User) -> bool:
    return user.is_authenticated and user.role is Role.ADMINISTRATOR


def is_organisation_user(user: User) -> bool:
    return user.is_authenticated and user.role is Role.ORGANISATION


class OrganisationPrincipal:
    """Acts for exactly one establishment without being a user account (an API token).

    Permissions treat it as an organisation user whose only establishment is that one: the
    services accept it wherever they accept a user, and it sees and edits that establishment's
    records only.
    """

    role = Role.ORGANISATION
    is_authenticated = True
    is_anonymous = False
    is_active = True
    active = True
    id = None

    def __init__(self, organisation: Organisation, label: str):
        self.organisation = organisation
        self.label = label

    @property
    def organisations(self) -> list[Organisation]:
        return [self.organisation]

    @property
    def email(self) -> str:
        return self.label

    display_name = email

    def __str__(self) -> str:
        return self.label


def current_organisation(user: User) -> Organisation | None:
    """The establishment an organisation user works on: the switcher's choice, else the first."""
    if isinstance(user, OrganisationPrincipal):
        return user.organisation
    if not is_organisation_user(user):
        return None
    organisations = user.organisations
    if not organisations:
        return None
    chosen = http_session.get(CURRENT_ORGANISATION_KEY)
    for organisation in organisations:
        if organisation.id == chosen:
            return organisation
    return organisations[0]


def switch_organisation(user: User, organisation_id: int) -> Organisation | None:
    """Make ``organisation_id`` the current establishment if the user belongs to it."""
    for organisation in user.organisations:
        if organisation.id == organisation_id:
            http_session[CURRENT_ORGANISATION_KEY] = organisation.id
            return organisation
    return None


def _session_owned(org_id):
    return SessionFormation.action_id.in_(sa.select(Action.id).where(Action.organisation_id == org_id))


def _site_owned(org_id):
    return sa.select(Site.id).where(Site.organisation_id == org_id)


# How each record type belongs to an organisation: model → (organisation id → WHERE clause).
OWNERSHIP: dict[type, Callable] = {
    Organisation: lambda org_id: Organisation.id == org_id,
    Site: lambda org_id: Site.organisation_id == org_id,
    Contact: lambda org_id: Contact.organisation_id == org_id,
    PorteOuverte: lambda org_id: PorteOuverte.site_id.in_(_site_owned(org_id)),
    Formation: lambda org_id: sa.or_(
        Formation.organisation_id == org_id,
        Formation.id.in_(sa.select(Action.formation_id).where(Action.organisation_id == org_id)),
    ),
    Action: lambda org_id: Action.organisation_id == org_id,
    SessionFormation: _session_owned,
    SessionDispositif: lambda org_id: SessionDispositif.session_id.in_(
        sa.select(SessionFormation.id).where(_session_owned(org_id))
    ),
    InformationCollective: lambda org_id: InformationCollective.session_id.in_(
        sa.select(SessionFormation.id).where(_session_owned(org_id))
    ),
    PeriodeInscription: lambda org_id: PeriodeInscription.session_id.in_(
        sa.select(SessionFormation.id).where(_session_owned(org_id))
    ),
    # The history of the organisation's own records (and of its actions' whole trees).
    AuditEvent: lambda org_id: sa.or_(
        AuditEvent.organisation_id == org_id,
        AuditEvent.action_id.in_(sa.select(Action.id).where(Action.organisation_id == org_id)),
    ),
}


def is_funder(user: User) -> bool:
    return user.is_authenticated and user.role is Role.FUNDER and bool(user.financeur_code)


def funder_actions_clause(user: User):
    """Actions with a session of a scheme whose approval belongs to the funder ``user``."""
    from models import Dispositif, SessionDispositif

    return Action.id.in_(
        sa.select(SessionFormation.action_id)
        .join(SessionDispositif, SessionDispositif.session_id == SessionFormation.id)
        .join(Dispositif)
        .where(Dispositif.financeur_code == user.financeur_code, Dispositif.requires_funder_approval)
    )


def visibility_clause(model: type, user: User):
    """WHERE clause limiting ``model`` to what ``user`` may see (``true`` for staff)."""
    if is_staff(user):
        return sa.true()
    organisation = current_organisation(user)
    if organisation is None or model not in OWNERSHIP:
        return sa.false()
    return OWNERSHIP[model](organisation.id)


def scoped(query, model: type, user: User):
    """Restrict a SELECT (or ORM Query) on ``model`` to the rows ``user`` may see."""
    return (
        query.where(visibility_clause(model, user))
        if hasattr(query, "where")
        else query.filter(visibility_clause(model, user))
    )


def can_see(user: User, record) -> bool:
    from models import db

    model = type(record)
    identity = sa.inspect(record).identity
    if identity is None:
        return False
    primary_key = sa.inspect(model).primary_key[0]
    query = sa.select(sa.literal(1)).select_from(model).where(primary_key == identity[0])
    return db.session.scalar(scoped(query, model, user)) is not None


def can_edit(user: User, record) -> bool:
    """Organisation users edit their own records; a formation only by the organisation that owns it."""
    if is_administrator(user):
        return True
    if not is_organisation_user(user):
        return False
    organisation = current_organisation(user)
    if organisation is None:
        return False
    if isinstance(record, Formation):
        return record.organisation_id == organisation.id
    return can_see(user, record)
