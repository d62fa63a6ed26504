"""Accounts blueprint: login, logout, password reset, activation keys."""

from flask import Blueprint

from models import User, db
from sofi.extensions import login_manager

auth = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


from sofi.auth import views  # noqa: E402,F401  (routes register themselves on the blueprint)
