"""The ``api`` blueprint (``/api/v1``); its routes live in ``read``, ``write`` and ``openapi``."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")
