"""SQLAlchemy models of SOFI and their constraints (nothing about HTTP here)."""

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from models.accounts import (
    ActivationKey,
    ActivationKeyRequest,
    KeyRequestStatus,
    LoginThrottle,
    OutboxMessage,
    PasswordResetToken,
    ThrottleScope,
)
from models.api_tokens import ApiToken
from models.base import Base, db
from models.drafts import FormDraft
from models.offer import (
    Action,
    ActionStatus,
    Formation,
    FormationFormacode,
    InformationCollective,
    PeriodeInscription,
    SessionDispositif,
    SessionFormation,
)
from models.organisations import (
    Contact,
    Conventionnement,
    Organisation,
    PorteOuverte,
    Site,
)
from models.programmes import (
    Lot,
    LotOrganisation,
    LotRole,
    Programme,
    ProgrammeAction,
    ProgrammeTemplate,
    RegionConsent,
)
from models.public_search import published_action_fts  # noqa: F401  (PostgreSQL-only search index)
from models.publication import (
    PublishedAction,
    PublishedFormacode,
    PublishedSession,
    published_session_dispositif,
    published_session_public,
)
from models.referentials import (
    BlocCompetences,
    Certificateur,
    Certification,
    CertifInfo,
    Commune,
    CommuneCodePostal,
    Dispositif,
    Formacode,
    Nsf,
    Public,
    Rome,
)
from models.users import Membership, Role, User
from models.validation import ModelValidationError
from models.workflow import ActionMessage, AuditEvent, FunderApproval, MessageKind, SupportingDocument

__all__ = [
    "Action",
    "ActionMessage",
    "ActionStatus",
    "ActivationKey",
    "ActivationKeyRequest",
    "ApiToken",
    "AuditEvent",
    "Base",
    "BlocCompetences",
    "Certificateur",
    "CertifInfo",
    "Certification",
    "Commune",
    "CommuneCodePostal",
    "Contact",
    "Conventionnement",
    "Dispositif",
    "FormDraft",
    "Formacode",
    "FunderApproval",
    "Formation",
    "FormationFormacode",
    "InformationCollective",
    "KeyRequestStatus",
    "LoginThrottle",
    "Lot",
    "LotOrganisation",
    "LotRole",
    "Membership",
    "MessageKind",
    "ModelValidationError",
    "Nsf",
    "Organisation",
    "OutboxMessage",
    "PasswordResetToken",
    "PeriodeInscription",
    "PorteOuverte",
    "Programme",
    "ProgrammeAction",
    "ProgrammeTemplate",
    "Public",
    "PublishedAction",
    "PublishedFormacode",
    "PublishedSession",
    "RegionConsent",
    "Role",
    "Rome",
    "SessionDispositif",
    "SessionFormation",
    "Site",
    "SupportingDocument",
    "ThrottleScope",
    "User",
    "db",
    "published_session_dispositif",
    "published_session_public",
]


@sa.event.listens_for(OrmSession, "before_flush")
def _check_consistency(session, flush_context, instances):
    """Run the cross-field checks (dates, places…) of every new or changed record."""
    for instance in list(session.new) + list(session.dirty):
        check = getattr(instance, "check_consistency", None)
        if check is not None:
            check()
