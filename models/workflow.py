"""What the validation workflow records: the audit log and the question threads."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import db, utcnow


class AuditEvent(db.Model):
    """One write, append-only: who, when, which record, and the values before and after.

    Rows are only ever inserted (``sofi.audit`` does it for every flush); nothing in the
    application updates or deletes them, and PostgreSQL refuses it by trigger.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(255))
    source: Mapped[str] = mapped_column(sa.String(20))
    operation: Mapped[str] = mapped_column(sa.String(20))
    table_name: Mapped[str] = mapped_column(sa.String(60))
    record_id: Mapped[str] = mapped_column(sa.String(60))
    organisation_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    action_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    message: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.Index("ix_audit_event_record", "table_name", "record_id"),)


class MessageKind(enum.StrEnum):
    QUESTION = "question"
    REPONSE = "reponse"
    REFUS = "refus"
    NOTE = "note"


class ActionMessage(db.Model):
    """A message of the validation thread of an action (optionally about one field)."""

    __tablename__ = "action_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    kind: Mapped[MessageKind] = mapped_column(
        sa.Enum(
            MessageKind,
            name="message_kind",
            native_enum=False,
            length=20,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    field: Mapped[str | None] = mapped_column(sa.String(100))
    body: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The live tree when the message was written, to show what changed since a question.
    tree: Mapped[dict | None] = mapped_column(sa.JSON)

    author = relationship("User")


class FunderApproval(db.Model):
    """A funder's decision on the sessions of its schemes in one submission of an action."""

    __tablename__ = "funder_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="CASCADE"), index=True)
    financeur_code: Mapped[str] = mapped_column(sa.String(2))
    approved: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The submission it answers: a new submission asks the funder again.
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user = relationship("User")


class SupportingDocument(db.Model):
    """A document justifying a funding (convention, accord de subvention…), seen by validators only."""

    __tablename__ = "supporting_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
