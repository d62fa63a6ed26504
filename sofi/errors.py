"""French error pages (403, 404, 500…) for the HTML parts of the app (the API answers JSON)."""

import sqlalchemy as sa
from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from sofi import db_unavailable

MESSAGES = {
    400: ("Requête invalide", "La demande envoyée n'est pas valide."),
    403: ("Accès refusé", "Vous n'avez pas le droit d'accéder à cette page."),
    404: ("Page introuvable", "Cette page n'existe pas, ou l'enregistrement demandé n'est pas accessible."),
    405: ("Méthode non autorisée", "Cette adresse ne s'utilise pas ainsi."),
    413: ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée."),
    429: ("Trop de demandes", "Trop de demandes en peu de temps : réessayez dans quelques instants."),
    500: ("Erreur du serveur", "Une erreur inattendue s'est produite ; rien n'a été enregistré. Réessayez plus tard."),
}


def error_page(error: HTTPException):
    """The French page of an HTTP error (used by the app-wide HTTPException handler)."""
    code = error.code or 500
    title, message = MESSAGES.get(code, (error.name, error.description or MESSAGES[500][1]))
    return render_template("error.html", code=code, title=title, message=message), code


RETRY_AFTER_SECONDS = 5


def database_unavailable(error: sa.exc.DBAPIError):
    """503 when the database went away during a request: the transaction is rolled back, nothing is half-saved.

    The HTML page reads nothing from the database. After a form POST it carries the submitted
    fields back in a form that re-sends them, so that the input is not lost; the API answers
    JSON. Other driver errors (programming mistakes) are not this handler's business.
    """
    if not db_unavailable.is_database_unavailable(error):
        raise error
    db_unavailable.rollback_quietly()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        from sofi.api.errors import error_response

        return error_response(503, "base_indisponible", db_unavailable.MESSAGE, headers=headers)
    resend = request.method == "POST" and not request.files
    fields = list(request.form.items(multi=True)) if resend else []
    page = render_template(
        "unavailable.html", message=db_unavailable.MESSAGE, resend=resend, fields=fields, action=request.url
    )
    return page, 503, headers


def init_error_pages(app: Flask) -> None:
    app.register_error_handler(sa.exc.DBAPIError, database_unavailable)
