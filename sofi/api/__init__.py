"""The JSON API ``/api/v1``: public reads of the published offer, token writes for organisations.

``init_api`` registers the blueprint with what surrounds it: no CSRF (token authentication,
no cookies), rate limits (Flask-Limiter, memory storage, ``SOFI_API_RATE_LIMIT``), CORS on
the read endpoints, and JSON errors with a stable code.
"""

import os

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from models import db
from sofi.api import openapi, read, write  # noqa: F401  (routes register themselves)
from sofi.api.blueprint import api
from sofi.api.errors import ApiError, error_response
from sofi.errors import error_page
from sofi.extensions import csrf

DEFAULT_RATE_LIMIT = "300 per minute; 5000 per hour"
TESTING_RATE_LIMIT = "100000 per minute"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Expose-Headers": "ETag, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After",
    "Access-Control-Max-Age": "86400",
}
HTTP_CODES = {
    400: "requete_invalide",
    401: "non_authentifie",
    403: "interdit",
    404: "introuvable",
    405: "methode_non_permise",
    413: "requete_trop_grande",
    415: "type_non_supporte",
    429: "trop_de_requetes",
}
HTTP_MESSAGES = {
    404: "Cette adresse n'existe pas dans l'API.",
    405: "Cette méthode n'est pas permise sur cette adresse.",
    429: "Trop de requêtes : réessayez dans un moment.",
}


def _is_api() -> bool:
    return request.path.startswith(api.url_prefix + "/") or request.path == api.url_prefix


def _is_read() -> bool:
    return not request.path.startswith(api.url_prefix + "/offre")


def init_api(app: Flask) -> None:
    # SOFI_API_RATE_LIMIT (environment or config), e.g. "300 per minute; 5000 per hour"; tests run unlimited.
    default = TESTING_RATE_LIMIT if app.testing else DEFAULT_RATE_LIMIT
    app.config.setdefault("SOFI_API_RATE_LIMIT", os.environ.get("SOFI_API_RATE_LIMIT") or default)
    csrf.exempt(api)
    app.register_blueprint(api)
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri="memory://",
        headers_enabled=True,
        application_limits=[lambda: app.config["SOFI_API_RATE_LIMIT"]],
        application_limits_exempt_when=lambda: not _is_api() or request.method == "OPTIONS",
    )
    app.extensions["sofi_api_limiter"] = limiter

    @app.after_request
    def _cors(response):
        if _is_api() and _is_read():
            response.headers.update(CORS_HEADERS)
        return response

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error.response()

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not _is_api():
            return error_page(error)
        db.session.rollback()
        status = error.code or 500
        headers = dict(error.get_headers()) if status == 429 else {}
        headers.pop("Content-Type", None)
        return error_response(
            status,
            HTTP_CODES.get(status, "erreur_http"),
            HTTP_MESSAGES.get(status, error.description or "Erreur."),
            headers=headers,
        )
