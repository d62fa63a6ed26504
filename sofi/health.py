"""``/healthz``: answers 200 when the application and its database answer."""

import sqlalchemy as sa
from flask import Blueprint, jsonify

from sofi.extensions import db

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok")
