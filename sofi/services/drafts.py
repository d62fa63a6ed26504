"""Form input kept when it cannot be saved yet, so that a user never loses what they typed."""

import sqlalchemy as sa

from models import FormDraft, User, db


def keep(user: User, form_key: str, data: dict) -> None:
    """Store (or replace) the raw input of ``form_key`` for ``user``."""
    draft = db.session.scalar(sa.select(FormDraft).filter_by(user_id=user.id, form_key=form_key))
    if draft is None:
        draft = FormDraft(user_id=user.id, form_key=form_key, data=data)
        db.session.add(draft)
    else:
        draft.data = data
    db.session.commit()


def restore(user: User, form_key: str) -> dict | None:
    draft = db.session.scalar(sa.select(FormDraft).filter_by(user_id=user.id, form_key=form_key))
    return draft.data if draft else None


def discard(user: User, form_key: str) -> None:
    db.session.execute(sa.delete(FormDraft).filter_by(user_id=user.id, form_key=form_key))
    db.session.commit()
