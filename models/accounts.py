"""Account security records: password-reset tokens, activation keys and their requests,
login throttling, and the outbox of every e-mail SOFI sends.

Secrets (reset tokens, activation keys) are never stored: only the SHA-256 hash of each is
kept, so that a copy of the database does not let anyone reset a password or create an
account.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow
from models.organisations import Organisation
from models.users import User


class PasswordResetToken(db.Model):
    """A single-use link to choose a new password (``token_hash`` = SHA-256 of the secret)."""

    __tablename__ = "password_reset_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()


activation_key_organisation = sa.Table(
    "activation_key_organisation",
    db.metadata,
    sa.Column("activation_key_id", sa.ForeignKey("activation_key.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("organisation_id", sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class KeyRequestStatus(enum.StrEnum):
    PENDING = "pending"
    ISSUED = "issued"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return KEY_REQUEST_STATUS_LABELS[self]


KEY_REQUEST_STATUS_LABELS = {
    KeyRequestStatus.PENDING: "À traiter",
    KeyRequestStatus.ISSUED: "Clé envoyée",
    KeyRequestStatus.CLOSED: "Classée sans suite",
}


class ActivationKeyRequest(db.Model):
    """ "Je n'ai pas de clé d'activation et souhaite en faire la demande": handled by Cariforef."""

    __tablename__ = "activation_key_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str] = mapped_column(sa.String(14), index=True)
    raison_sociale: Mapped[str] = mapped_column(sa.String(255))
    nom: Mapped[str] = mapped_column(sa.String(100))
    prenom: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(255))
    telephone: Mapped[str | None] = mapped_column(sa.String(30))
    message: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[KeyRequestStatus] = mapped_column(
        sa.Enum(
            KeyRequestStatus,
            name="key_request_status",
            native_enum=False,
            length=10,
            values_callable=lambda statuses: [s.value for s in statuses],
        ),
        default=KeyRequestStatus.PENDING,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    processed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    processed_by: Mapped[User | None] = relationship()
    activation_keys: Mapped[list["ActivationKey"]] = relationship(back_populates="request")

    def __str__(self) -> str:
        return f"{self.siret} - {self.raison_sociale}"


class ActivationKey(db.Model):
    """A single-use key letting a training organisation create its account (``key_hash`` = SHA-256)."""

    __tablename__ = "activation_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    used_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("activation_key_request.id", ondelete="SET NULL"), index=True
    )

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=activation_key_organisation, order_by=Organisation.siret
    )
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    request: Mapped[ActivationKeyRequest | None] = relationship(back_populates="activation_keys")


class ThrottleScope(enum.StrEnum):
    LOGIN_EMAIL = "login-email"
    LOGIN_IP = "login-ip"
    KEY_REQUEST_IP = "key-request-ip"


class LoginThrottle(db.Model):
    """Failed attempts counted per e-mail or per client address, in the database so that
    every process sees the same counters. ``retry_after`` slows attempts down, ``locked_until``
    blocks them."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str] = mapped_column(sa.String(255))
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    retry_after: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("scope", "key", name="uq_login_throttle_scope_key"),
        sa.CheckConstraint("failures >= 0", name="failures_min"),
    )


class OutboxMessage(db.Model):
    """Every e-mail SOFI sends, kept whether or not it could be delivered.

    ``sensitive`` messages carry a personal secret (reset link, activation key): their body
    is masked in the database once handed to the SMTP server and never shown on screen.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(255), index=True)
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    sensitive: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(sa.Text)

    def __str__(self) -> str:
        return f"{self.recipient} : {self.subject}"
