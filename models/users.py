"""Accounts and their memberships in organisations."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import TimestampMixin, db
from models.organisations import Organisation
from models.validation import ModelValidationError

PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's scrypt (n=2**15, r=8, p=1): about 0.2 s a hash, by design


def password_hash_method() -> str:
    """The method new password hashes are written with: scrypt, unless the application says otherwise.

    Only the test suite does (``SOFI_PASSWORD_HASH_METHOD``): it writes and checks passwords
    thousands of times, and the deliberate slowness of scrypt made up a large share of its run.
    A stored hash names its own method, so checking a password works whatever method wrote it.
    """
    if has_app_context():
        return current_app.config.get("SOFI_PASSWORD_HASH_METHOD", PASSWORD_HASH_METHOD)
    return PASSWORD_HASH_METHOD


class Role(enum.StrEnum):
    ORGANISATION = "organisation"
    VALIDATOR = "validator"
    ADMINISTRATOR = "administrator"
    FUNDER = "funder"
    REGION = "region"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ORGANISATION: "Organisme de formation",
    Role.VALIDATOR: "Valideur Cariforef",
    Role.ADMINISTRATOR: "Administrateur Cariforef",
    Role.FUNDER: "Financeur",
    Role.REGION: "Région",
}


class Membership(db.Model):
    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    user: Mapped["User"] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()


class User(TimestampMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    nom: Mapped[str | None] = mapped_column(sa.String(100))
    prenom: Mapped[str | None] = mapped_column(sa.String(100))
    role: Mapped[Role] = mapped_column(
        sa.Enum(
            Role, name="user_role", native_enum=False, length=20, values_callable=lambda roles: [r.value for r in roles]
        ),
        default=Role.ORGANISATION,
    )
    active: Mapped[bool] = mapped_column(default=True)
    # For a funder account: the LHÉO financeur code it approves sessions for (4 France Travail, 7 Agefiph…).
    financeur_code: Mapped[str | None] = mapped_column(sa.String(2))
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @validates("email")
    def _validate_email(self, key, value):
        value = (value or "").strip().lower()
        if "@" not in value or len(value) > 255:
            raise ModelValidationError(key, "l'adresse e-mail n'est pas valide.")
        return value

    # The user protocol of Flask-Login, written out so that models stay free of HTTP imports.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    def set_password(self, password: str) -> None:
        if len(password) < 10:
            raise ModelValidationError("password", "le mot de passe doit comporter au moins 10 caractères.")
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def organisations(self) -> list[Organisation]:
        return sorted((m.organisation for m in self.memberships), key=lambda o: o.siret)

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.prenom, self.nom) if part)
        return name or self.email

    def __str__(self) -> str:
        return self.email
