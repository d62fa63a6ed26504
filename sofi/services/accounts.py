"""Accounts: login with brute-force protection, password reset, activation keys and their
requests, and the administrators' management of users.

Each public function is one user action: it checks what it must, writes, queues its e-mails
(:mod:`sofi.services.mail`) and commits once, or raises a :class:`DomainError` with a French
message having changed nothing.

Secrets (reset tokens, activation keys) are random, sent by e-mail only, and stored as their
SHA-256 hash.
"""

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from models import (
    ActivationKey,
    ActivationKeyRequest,
    KeyRequestStatus,
    LoginThrottle,
    Membership,
    ModelValidationError,
    Organisation,
    OutboxMessage,
    PasswordResetToken,
    Role,
    ThrottleScope,
    User,
    db,
)
from models.base import utcnow
from models.users import password_hash_method
from models.validation import check_siret
from sofi import permissions
from sofi.services.errors import DomainError
from sofi.services.mail import external_url, send_mail

BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
INACTIVE_ACCOUNT = "Ce compte est désactivé. Contactez le Cariforef Pays de la Loire pour le réactiver."
SLOWED_DOWN = "Trop de tentatives rapprochées : patientez quelques secondes avant de réessayer."
INVALID_RESET_LINK = (
    "Ce lien de réinitialisation n'est pas valable : il a expiré ou a déjà servi. Faites une nouvelle demande."
)
INVALID_KEY = "Clé d'activation inconnue, expirée ou déjà utilisée."
ADMINISTRATORS_ONLY = "Action réservée aux administrateurs du Cariforef."

RESET_TOKEN_LIFETIME = timedelta(hours=1)
RESET_REQUESTS_PER_HOUR = 3
DEFAULT_KEY_DAYS = 14
MAX_KEY_DAYS = 90
KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: keys are typed from an e-mail
KEY_GROUPS, KEY_GROUP_LENGTH = 4, 5  # 20 characters of a 32-letter alphabet: 100 bits
MAX_SLOWDOWN_SECONDS = 60
STALE_THROTTLE_AGE = timedelta(days=1)


# Helpers ----------------------------------------------------------------------------------
def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()[:255]


def normalise_key(value: str | None) -> str:
    """``abcde-fghjk …`` → ``ABCDEFGHJK…``: case, spaces and dashes do not matter."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def format_key(raw: str) -> str:
    return "-".join(raw[i : i + KEY_GROUP_LENGTH] for i in range(0, len(raw), KEY_GROUP_LENGTH))


def _as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives back naive datetimes: every timestamp SOFI writes is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _date_fr(value: datetime) -> str:
    return _as_utc(value).strftime("%d/%m/%Y")


def _dummy_hash() -> str:
    return _dummy_hash_of(password_hash_method())


@cache
def _dummy_hash_of(method: str) -> str:
    """A hash written like the users' ones: checking it takes the time of checking theirs."""
    return generate_password_hash("sofi-mot-de-passe-factice", method=method)


def _require_administrator(user: User | None, *, command_line: bool = False) -> None:
    """Administrators only; ``None`` stands for the command line where it is allowed."""
    if user is None and command_line:
        return
    if user is None or not permissions.is_administrator(user):
        raise DomainError(ADMINISTRATORS_ONLY)


def _valid_email(email: str) -> str:
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(f"L'adresse e-mail « {email} » n'est pas valide.", "email") from error
    return email


def _set_password(user: User, password: str) -> None:
    try:
        user.set_password(password or "")
    except ModelValidationError as error:
        raise DomainError(error.message[:1].upper() + error.message[1:], "password") from error


def _email_taken(email: str, except_user_id: int | None = None) -> bool:
    query = sa.select(User.id).where(User.email == email)
    if except_user_id is not None:
        query = query.where(User.id != except_user_id)
    return db.session.scalar(query) is not None


# Throttling -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThrottlePolicy:
    max_attempts: int
    window: timedelta
    lock: timedelta
    slow_from: int  # attempts from which each further attempt must wait (0: never)
    delay: timedelta


def _policy(scope: ThrottleScope) -> ThrottlePolicy:
    config = current_app.config
    window = timedelta(seconds=config.get("SOFI_LOGIN_WINDOW_SECONDS", 900))
    lock = timedelta(seconds=config.get("SOFI_LOGIN_LOCK_SECONDS", 900))
    delay = timedelta(seconds=config.get("SOFI_LOGIN_DELAY_SECONDS", 1))
    if scope is ThrottleScope.LOGIN_EMAIL:
        maximum = config.get("SOFI_LOGIN_MAX_FAILURES", 5)
    elif scope is ThrottleScope.LOGIN_IP:
        # Several users of one training centre share an address: a higher limit per address.
        maximum = config.get("SOFI_LOGIN_MAX_FAILURES_PER_IP", 20)
    else:
        maximum = config.get("SOFI_KEY_REQUESTS_PER_IP", 5)
        return ThrottlePolicy(maximum, timedelta(hours=1), timedelta(hours=1), 0, timedelta(0))
    return ThrottlePolicy(maximum, window, lock, max(2, math.ceil(maximum / 2)), delay)


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return (
        "Trop de tentatives de connexion infructueuses : par sécurité, la connexion est bloquée "
        f"pendant {minutes} minute{'s' if minutes > 1 else ''}. Vous pouvez aussi réinitialiser votre mot de passe."
    )


def _check_throttles(keys: list[tuple[ThrottleScope, str]], now: datetime, locked_message=_locked_message) -> None:
    """Raise while one of ``keys`` is locked or must still wait; the same whether an account exists."""
    clause = sa.or_(*(sa.and_(LoginThrottle.scope == scope.value, LoginThrottle.key == key) for scope, key in keys))
    rows = db.session.scalars(sa.select(LoginThrottle).where(clause)).all()
    locks = [_as_utc(row.locked_until) for row in rows if row.locked_until and _as_utc(row.locked_until) > now]
    if locks:
        raise DomainError(locked_message(max(locks), now))
    if any(row.retry_after and _as_utc(row.retry_after) > now for row in rows):
        raise DomainError(SLOWED_DOWN)


def _throttle_row(scope: ThrottleScope, key: str, now: datetime) -> LoginThrottle:
    """The counter of ``(scope, key)``, created if needed and locked for this transaction."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(LoginThrottle)
        .values(scope=scope.value, key=key, failures=0, window_start=now)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    query = sa.select(LoginThrottle).where(LoginThrottle.scope == scope.value, LoginThrottle.key == key)
    return db.session.scalars(query.with_for_update().execution_options(populate_existing=True)).one()


def _record_attempt(scope: ThrottleScope, key: str, now: datetime) -> LoginThrottle:
    """Count one failed attempt; slow down, then lock, when there are too many."""
    policy = _policy(scope)
    row = _throttle_row(scope, key, now)
    lock_over = row.locked_until is not None and _as_utc(row.locked_until) <= now
    if lock_over or _as_utc(row.window_start) <= now - policy.window:
        row.failures, row.window_start, row.retry_after, row.locked_until = 0, now, None, None
    row.failures += 1
    if row.failures >= policy.max_attempts:
        row.locked_until, row.retry_after = now + policy.lock, None
    elif policy.slow_from and row.failures >= policy.slow_from and policy.delay:
        seconds = min(policy.delay.total_seconds() * 2 ** (row.failures - policy.slow_from), MAX_SLOWDOWN_SECONDS)
        row.retry_after = now + timedelta(seconds=seconds)
    return row


def _purge_stale_throttles(now: datetime) -> None:
    """Counters untouched for a day and not locked are of no use any more."""
    db.session.execute(
        sa.delete(LoginThrottle)
        .where(
            LoginThrottle.window_start < now - STALE_THROTTLE_AGE,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
        .execution_options(synchronize_session=False)
    )


def _clear_throttle(scope: ThrottleScope, key: str) -> None:
    db.session.execute(
        sa.delete(LoginThrottle)
        .where(LoginThrottle.scope == scope.value, LoginThrottle.key == key)
        .execution_options(synchronize_session=False)
    )


# Login ------------------------------------------------------------------------------------
def authenticate(email: str, password: str, client_ip: str | None) -> User:
    """The active user with this e-mail and password, or a :class:`DomainError`.

    Failures are counted per e-mail and per client address (see :func:`_policy`): unknown
    e-mails and wrong passwords get the same message, the same delay and the same lock.
    """
    email, now = normalise_email(email), utcnow()
    keys = [(ThrottleScope.LOGIN_EMAIL, email), (ThrottleScope.LOGIN_IP, client_ip or "inconnue")]
    _check_throttles(keys, now)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")  # same time as for an existing account
        valid = False
    else:
        valid = user.check_password(password or "")
    if not valid:
        _purge_stale_throttles(now)
        rows = [_record_attempt(scope, key, now) for scope, key in keys]
        locks = [_as_utc(row.locked_until) for row in rows if row.locked_until]
        db.session.commit()
        raise DomainError(_locked_message(max(locks), now) if locks else BAD_CREDENTIALS, "password")
    if not user.active:
        db.session.rollback()
        raise DomainError(INACTIVE_ACCOUNT)
    _clear_throttle(ThrottleScope.LOGIN_EMAIL, email)
    user.last_login_at = now
    db.session.commit()
    return user


# Password reset ---------------------------------------------------------------------------
def request_password_reset(email: str) -> None:
    """Mail a single-use link (valid one hour) if an active account has this e-mail.

    Returns nothing and behaves the same whatever the e-mail, so that the answer does not tell
    whether an account exists. At most three links per account and per hour.
    """
    email, now = normalise_email(email), utcnow()
    user = db.session.scalar(sa.select(User).where(User.email == email, User.active.is_(True)))
    if user is None:
        return
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.created_at > now - timedelta(hours=1))
    )
    if recent >= RESET_REQUESTS_PER_HOUR:
        return
    _expire_reset_tokens(user, now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetToken(
            user=user, token_hash=hash_secret(token), created_at=now, expires_at=now + RESET_TOKEN_LIFETIME
        )
    )
    link = external_url("auth.password_reset", token=token)
    send_mail(
        user.email,
        "SOFI : réinitialisation de votre mot de passe",
        f"Bonjour,\n\n"
        f"Une réinitialisation du mot de passe de votre compte SOFI ({user.email}) a été demandée.\n"
        f"Pour choisir un nouveau mot de passe, ouvrez ce lien dans l'heure qui suit :\n\n{link}\n\n"
        "Ce lien ne peut servir qu'une fois. Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : "
        "votre mot de passe actuel reste valable.\n\n"
        "Le service Offre du Cariforef Pays de la Loire",
        secrets=[token],
    )
    db.session.commit()


def _expire_reset_tokens(user: User, now: datetime) -> None:
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


def find_reset_token(token: str) -> PasswordResetToken | None:
    """The valid (unused, unexpired, active account) reset token matching ``token``."""
    if not token or len(token) > 200:
        return None
    now = utcnow()
    record = db.session.scalar(
        sa.select(PasswordResetToken)
        .join(PasswordResetToken.user)
        .where(PasswordResetToken.token_hash == hash_secret(token), User.active.is_(True))
    )
    if record is None or record.used_at is not None or _as_utc(record.expires_at) <= now:
        return None
    return record


def reset_password(token: str, password: str) -> User:
    """Set the new password of the account the link was made for; the link then stops working."""
    record = find_reset_token(token)
    if record is None:
        raise DomainError(INVALID_RESET_LINK, "token")
    now, user = utcnow(), record.user
    _set_password(user, password)
    claimed = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == record.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # used by a concurrent request in the meantime
        db.session.rollback()
        raise DomainError(INVALID_RESET_LINK, "token")
    _expire_reset_tokens(user, now)
    _clear_throttle(ThrottleScope.LOGIN_EMAIL, user.email)
    send_mail(
        user.email,
        "SOFI : votre mot de passe a été modifié",
        f"Bonjour,\n\nLe mot de passe de votre compte SOFI ({user.email}) vient d'être modifié.\n"
        "Si vous n'êtes pas à l'origine de ce changement, contactez sans attendre le Cariforef Pays de la Loire "
        f"({current_app.config.get('SOFI_CARIFOREF_EMAIL')}, 02 40 20 40 20).\n\n"
        "Le service Offre du Cariforef Pays de la Loire",
    )
    db.session.commit()
    return user


# Activation keys --------------------------------------------------------------------------
def _new_key() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_GROUPS * KEY_GROUP_LENGTH))


def _issue(
    organisations: list[Organisation],
    email: str,
    *,
    issued_by: User | None,
    request: ActivationKeyRequest | None = None,
    valid_days: int = DEFAULT_KEY_DAYS,
) -> tuple[ActivationKey, str]:
    """Create a key and queue its e-mail (no commit)."""
    now, raw = utcnow(), _new_key()
    key = ActivationKey(
        key_hash=hash_secret(raw),
        email=email,
        created_at=now,
        expires_at=now + timedelta(days=valid_days),
        issued_by=issued_by,
        request=request,
        organisations=sorted(organisations, key=lambda o: o.siret),
    )
    db.session.add(key)
    formatted = format_key(raw)
    establishments = "\n".join(f"  - {o.siret} - {o.display_name}" for o in key.organisations)
    send_mail(
        email,
        "SOFI : votre clé d'activation",
        "Bonjour,\n\n"
        "Le Cariforef Pays de la Loire vous a attribué une clé d'activation pour créer votre compte SOFI, "
        f"rattaché à :\n{establishments}\n\n"
        f"Votre clé d'activation : {formatted}\n\n"
        f"Elle est valable jusqu'au {_date_fr(key.expires_at)} inclus et ne peut servir qu'une fois.\n"
        f"Pour créer votre compte, ouvrez {external_url('auth.activate')} "
        "(« J'ai reçu une clé d'activation et je veux créer mon compte ») et saisissez cette clé avec "
        f"l'adresse e-mail {email}.\n\n"
        "Le service Offre du Cariforef Pays de la Loire",
        secrets=[formatted, raw],
    )
    return key, formatted


def _check_key_target(email: str, valid_days: int) -> str:
    email = _valid_email(email)
    if not 1 <= valid_days <= MAX_KEY_DAYS:
        raise DomainError(f"La durée de validité doit être comprise entre 1 et {MAX_KEY_DAYS} jours.", "valid_days")
    if _email_taken(email):
        raise DomainError(
            f"Un compte existe déjà pour {email} : rattachez-lui l'organisme depuis l'écran « Utilisateurs ».",
            "email",
        )
    return email


def issue_activation_key(
    sirets: list[str], email: str, *, issued_by: User | None = None, valid_days: int = DEFAULT_KEY_DAYS
) -> tuple[ActivationKey, str]:
    """Issue a key for the establishments ``sirets`` and mail it to ``email``.

    ``issued_by`` is the administrator acting (``None`` for the command line). Returns the
    key record and the key itself, which is stored nowhere else.
    """
    _require_administrator(issued_by, command_line=True)
    email = _check_key_target(email, valid_days)
    wanted = list(dict.fromkeys(s.strip() for s in sirets if s and s.strip()))
    if not wanted:
        raise DomainError("Indiquez au moins un SIRET d'établissement.", "organisations")
    found = db.session.scalars(sa.select(Organisation).where(Organisation.siret.in_(wanted))).all()
    missing = sorted(set(wanted) - {o.siret for o in found})
    if missing:
        raise DomainError(f"Aucun organisme n'a le SIRET {', '.join(missing)}.", "organisations")
    key, formatted = _issue(list(found), email, issued_by=issued_by, valid_days=valid_days)
    db.session.commit()
    return key, formatted


def issue_activation_key_for_organisations(
    organisations: list[Organisation], email: str, *, issued_by: User, valid_days: int = DEFAULT_KEY_DAYS
) -> ActivationKey:
    """Issue a key from the administration screen (organisations chosen in a list)."""
    _require_administrator(issued_by)
    return issue_activation_key([o.siret for o in organisations], email, issued_by=issued_by, valid_days=valid_days)[0]


def activate_account(key: str, email: str, nom: str, prenom: str, password: str) -> User:
    """Create the organisation user the key was issued for; the key then stops working."""
    raw, email, now = normalise_key(key), normalise_email(email), utcnow()
    record = db.session.scalar(
        sa.select(ActivationKey)
        .where(ActivationKey.key_hash == hash_secret(raw))
        .options(selectinload(ActivationKey.organisations))
    )
    if record is None or record.used_at is not None or _as_utc(record.expires_at) <= now:
        raise DomainError(INVALID_KEY, "key")
    if record.email != email:
        raise DomainError(
            "Cette clé d'activation a été envoyée à une autre adresse : saisissez l'adresse e-mail "
            "à laquelle vous l'avez reçue.",
            "email",
        )
    if not record.organisations:
        raise DomainError("Cette clé n'est plus rattachée à aucun organisme : contactez le Cariforef.", "key")
    if _email_taken(email):
        raise DomainError(
            "Un compte existe déjà pour cette adresse : connectez-vous, ou réinitialisez votre mot de passe.", "email"
        )
    user = User(email=email, nom=(nom or "").strip() or None, prenom=(prenom or "").strip() or None)
    user.role, user.active = Role.ORGANISATION, True
    _set_password(user, password)
    user.memberships = [Membership(organisation=organisation) for organisation in record.organisations]
    claimed = db.session.execute(
        sa.update(ActivationKey)
        .where(ActivationKey.id == record.id, ActivationKey.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise DomainError(INVALID_KEY, "key")
    db.session.add(user)
    db.session.flush()
    db.session.execute(
        sa.update(ActivationKey)
        .where(ActivationKey.id == record.id)
        .values(used_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    try:
        db.session.commit()
    except IntegrityError as error:  # the same e-mail registered at the same moment
        db.session.rollback()
        raise DomainError("Un compte existe déjà pour cette adresse.", "email") from error
    return user


# Activation-key requests ------------------------------------------------------------------
def _requests_locked(until: datetime, now: datetime) -> str:
    return (
        "Trop de demandes ont été envoyées depuis votre connexion. Réessayez plus tard ou contactez "
        "le Cariforef Pays de la Loire au 02 40 20 40 20."
    )


def request_activation_key(
    *,
    siret: str,
    raison_sociale: str,
    nom: str,
    prenom: str,
    email: str,
    telephone: str | None = None,
    message: str | None = None,
    client_ip: str | None = None,
) -> ActivationKeyRequest:
    """Store a request for Cariforef's administrators and notify them by e-mail."""
    try:
        siret = check_siret("siret", siret)
    except ModelValidationError as error:
        raise DomainError(error.message[:1].upper() + error.message[1:], "siret") from error
    if not siret:
        raise DomainError("Le SIRET est obligatoire.", "siret")
    now, address = utcnow(), client_ip or "inconnue"
    _check_throttles([(ThrottleScope.KEY_REQUEST_IP, address)], now, locked_message=_requests_locked)
    _purge_stale_throttles(now)
    _record_attempt(ThrottleScope.KEY_REQUEST_IP, address, now)
    request = ActivationKeyRequest(
        siret=siret,
        raison_sociale=raison_sociale.strip()[:255],
        nom=nom.strip()[:100],
        prenom=prenom.strip()[:100],
        email=normalise_email(email),
        telephone=(telephone or "").strip()[:30] or None,
        message=(message or "").strip() or None,
        created_at=now,
    )
    db.session.add(request)
    db.session.flush()
    known = db.session.scalar(sa.select(Organisation).where(Organisation.siret == siret))
    send_mail(
        current_app.config.get("SOFI_CARIFOREF_EMAIL") or "offre@cariforef-pdl.org",
        f"SOFI : demande de clé d'activation - {request.raison_sociale} ({siret})",
        "Une demande de clé d'activation a été déposée sur SOFI.\n\n"
        f"SIRET : {siret}"
        + (f" (organisme connu : {known.display_name})" if known else " (aucun organisme de SOFI n'a ce SIRET)")
        + f"\nRaison sociale : {request.raison_sociale}\n"
        f"Demandeur : {request.prenom} {request.nom}\n"
        f"E-mail : {request.email}\n"
        f"Téléphone : {request.telephone or '-'}\n"
        f"Message :\n{request.message or '-'}\n\n"
        f"Traiter la demande : {external_url('key_requests.details_view', id=request.id)}\n",
    )
    db.session.commit()
    return request


def issue_keys_for_requests(acting_user: User, request_ids: list[int]) -> list[ActivationKeyRequest]:
    """Issue and mail one key per pending request, for the establishment of its SIRET.

    All or nothing: when one request cannot be served (unknown SIRET, existing account…),
    no key is issued and the message lists every problem.
    """
    _require_administrator(acting_user)
    requests = db.session.scalars(
        sa.select(ActivationKeyRequest)
        .where(ActivationKeyRequest.id.in_(request_ids))
        .order_by(ActivationKeyRequest.id)
    ).all()
    sirets = {r.siret for r in requests}
    organisations = {
        o.siret: o for o in db.session.scalars(sa.select(Organisation).where(Organisation.siret.in_(sirets)))
    }
    emails = {r.email for r in requests}
    taken = set(db.session.scalars(sa.select(User.email).where(User.email.in_(emails))))
    problems = []
    for r in requests:
        if r.status is not KeyRequestStatus.PENDING:
            problems.append(f"la demande de {r.raison_sociale} ({r.siret}) a déjà été traitée")
        elif r.siret not in organisations:
            problems.append(f"aucun organisme n'a le SIRET {r.siret} ({r.raison_sociale}) : créez-le d'abord")
        elif r.email in taken:
            problems.append(f"un compte existe déjà pour {r.email} : rattachez-lui l'organisme")
    if not requests:
        problems.append("aucune demande sélectionnée")
    if problems:
        raise DomainError("Aucune clé n'a été émise : " + " ; ".join(problems) + ".")
    now = utcnow()
    for r in requests:
        _issue([organisations[r.siret]], r.email, issued_by=acting_user, request=r)
        r.status, r.processed_at, r.processed_by = KeyRequestStatus.ISSUED, now, acting_user
    db.session.commit()
    return list(requests)


def close_key_requests(acting_user: User, request_ids: list[int]) -> int:
    """Close pending requests without issuing a key; returns how many were closed."""
    _require_administrator(acting_user)
    requests = db.session.scalars(
        sa.select(ActivationKeyRequest).where(
            ActivationKeyRequest.id.in_(request_ids), ActivationKeyRequest.status == KeyRequestStatus.PENDING
        )
    ).all()
    now = utcnow()
    for r in requests:
        r.status, r.processed_at, r.processed_by = KeyRequestStatus.CLOSED, now, acting_user
    db.session.commit()
    return len(requests)


# Users, as managed by administrators ------------------------------------------------------
def save_user(
    acting_user: User,
    user: User | None,
    *,
    email: str,
    nom: str | None,
    prenom: str | None,
    role: str,
    active: bool,
    organisations: list[Organisation],
) -> User:
    """Create (``user`` is ``None``) or update an account and its memberships.

    Passwords are never set here: a new user chooses one with "Réinitialiser votre mot de
    passe", as the welcome e-mail explains.
    """
    _require_administrator(acting_user)
    try:
        role = Role(role)
    except ValueError as error:
        raise DomainError(f"Rôle inconnu « {role} ».", "role") from error
    email = _valid_email(email)
    if _email_taken(email, except_user_id=user.id if user is not None else None):
        raise DomainError(f"Un compte existe déjà pour l'adresse {email}.", "email")
    organisations = list({o.id: o for o in organisations or []}.values())
    if role is Role.ORGANISATION and not organisations:
        raise DomainError("Un utilisateur d'organisme doit être rattaché à au moins un organisme.", "organisations")
    if user is not None and user.id == acting_user.id:
        if not active:
            raise DomainError("Vous ne pouvez pas désactiver votre propre compte.", "active")
        if role is not Role.ADMINISTRATOR:
            raise DomainError("Vous ne pouvez pas retirer votre propre rôle d'administrateur.", "role")
    creating = user is None
    if creating:
        user = User()
        db.session.add(user)
    user.email = email
    user.nom = (nom or "").strip() or None
    user.prenom = (prenom or "").strip() or None
    user.role, user.active = role, bool(active)
    wanted = {o.id: o for o in organisations}
    kept = [m for m in user.memberships if m.organisation_id in wanted]
    present = {m.organisation_id for m in kept}
    user.memberships = kept + [Membership(organisation=o) for o_id, o in wanted.items() if o_id not in present]
    if creating:
        send_mail(
            email,
            "SOFI : votre compte a été créé",
            f"Bonjour,\n\nLe Cariforef Pays de la Loire vous a créé un compte SOFI ({role.label}) "
            f"avec l'adresse {email}.\n"
            f"Pour choisir votre mot de passe, ouvrez {external_url('auth.password_reset_request')} "
            "(« Réinitialiser votre mot de passe ») et saisissez cette adresse.\n\n"
            "Le service Offre du Cariforef Pays de la Loire",
        )
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise DomainError(f"Un compte existe déjà pour l'adresse {email}.", "email") from error
    return user


def key_state(key: ActivationKey) -> str:
    """Whether an activation key was used, has expired or is still valid, in words."""
    if key.used_at:
        used_by = f" par {key.used_by.email}" if key.used_by else ""
        return f"Utilisée le {_as_utc(key.used_at).strftime('%d/%m/%Y %H:%M')} (UTC){used_by}"
    if _as_utc(key.expires_at) <= utcnow():
        return "Expirée"
    return "Valable"


def outbox_state(message: OutboxMessage) -> str:
    """What became of an e-mail, in words."""
    if message.sent_at:
        return f"Envoyé le {_as_utc(message.sent_at).strftime('%d/%m/%Y %H:%M')} (UTC)"
    if message.error:
        return message.error
    return "En attente d'envoi"
