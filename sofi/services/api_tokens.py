"""API tokens of organisations: creation (the secret is shown once), revocation, authentication.

Only the SHA-256 of a secret is stored. A token acts for the establishment it was created
for, as an :class:`sofi.permissions.OrganisationPrincipal`; what it writes is audited as
"jeton API <name>" (``sofi.audit.acting_as``).
"""

import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from models import ApiToken, User, db
from models.base import utcnow
from sofi import audit, permissions
from sofi.permissions import OrganisationPrincipal
from sofi.services.errors import DomainError

SECRET_PREFIX = "sofi_"
SHOWN_PREFIX_LENGTH = 12
LAST_USED_PRECISION = timedelta(minutes=5)


class TokenError(Exception):
    """A request whose token is missing, unknown, revoked or expired (``code`` is stable)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _organisation_of(user: User):
    organisation = permissions.current_organisation(user)
    if not permissions.is_organisation_user(user) or organisation is None:
        raise DomainError("Seuls les organismes de formation gèrent des jetons API, pour leur établissement.")
    return organisation


def tokens_of(user: User) -> list[ApiToken]:
    """The tokens of the establishment the user works on, newest first."""
    organisation = _organisation_of(user)
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.organisation_id == organisation.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def create_token(
    user: User, name: str, expires_on: date | None = None, today: date | None = None
) -> tuple[ApiToken, str]:
    """A new token for the user's current establishment; returns it with its secret (shown once)."""
    organisation = _organisation_of(user)
    name = (name or "").strip()
    if not name:
        raise DomainError("Donnez un nom au jeton (le système qui l'utilisera).", "name")
    if len(name) > 100:
        raise DomainError("Le nom du jeton fait 100 caractères au plus.", "name")
    if expires_on is not None and expires_on < (today or date.today()):
        raise DomainError("La date d'expiration est déjà passée.", "expires_on")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organisation_id=organisation.id,
        name=name,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        token_hash=hash_secret(secret),
        created_by_id=user.id,
        # Valid until the end of the chosen day (UTC).
        expires_at=datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=UTC) if expires_on else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.note("api_token", token, f"Jeton API « {name} » créé.", after={"name": name, "prefix": token.prefix})
    db.session.commit()
    return token, secret


def revoke_token(user: User, token_id: int) -> ApiToken:
    organisation = _organisation_of(user)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.organisation_id != organisation.id:
        raise DomainError("Ce jeton n'existe pas pour votre établissement.")
    if token.revoked_at is not None:
        raise DomainError("Ce jeton est déjà révoqué.")
    token.revoked_at = utcnow()
    token.revoked_by_id = user.id
    audit.note("api_token", token, f"Jeton API « {token.name} » révoqué.", after={"revoked": True})
    db.session.commit()
    return token


def authenticate(secret: str | None, now: datetime | None = None) -> tuple[ApiToken, OrganisationPrincipal]:
    """The token a request presents, and the principal it acts as; raises :class:`TokenError`."""
    if not secret:
        raise TokenError("jeton_absent", "Cette opération demande un jeton API (en-tête Authorization: Bearer …).")
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_secret(secret.strip())))
    if token is None:
        raise TokenError("jeton_invalide", "Ce jeton API n'est pas reconnu.")
    now = now or utcnow()
    if token.revoked_at is not None:
        raise TokenError("jeton_revoque", "Ce jeton API a été révoqué par l'organisme.")
    if not token.is_usable(now):
        raise TokenError("jeton_expire", "Ce jeton API a expiré.")
    if not token.organisation.active:
        raise TokenError("organisme_inactif", "L'établissement de ce jeton n'est plus actif.")
    last = token.last_used_at
    if last is None or (last if last.tzinfo else last.replace(tzinfo=UTC)) < now - LAST_USED_PRECISION:
        token.last_used_at = now
        db.session.commit()
    return token, OrganisationPrincipal(token.organisation, actor_label(token))


def actor_label(token: ApiToken) -> str:
    return f"jeton API {token.name}"
