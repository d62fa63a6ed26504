"""French error pages (403, 404, 500…) for the HTML parts of the app (the API answers JSON)."""

from flask import render_template
from werkzeug.exceptions import HTTPException

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
