"""Unsaved form input kept for its author, so that nothing typed is lost (even invalid)."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import db, utcnow


class FormDraft(db.Model):
    """The raw input of one form (``form_key`` names the form and the record) for one user."""

    __tablename__ = "form_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    form_key: Mapped[str] = mapped_column(sa.String(200))
    data: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "form_key", name="uq_form_draft_user_form"),)
