"""LHÉO 2.3 over HTTP (public, read-only): the published offer as national systems read it.

* ``GET /api/v1/formations/<id>.lheo``: the LHÉO document of one formation (its published
  actions only); 404 when the formation has no published action.
* ``GET /api/v1/lheo[?since=ISO 8601]``: the whole published offer, or the formations with a
  change published since ``since``; streamed (same writer as ``flask sofi export-lheo``).

Only published versions are read (``PublishedAction``), so drafts and archived offer never leak.
"""

from flask import Blueprint, Response, jsonify, request, stream_with_context

from exporters.lheo.writer import iter_document, published_actions
from sofi.services.diffusion import parse_since
from sofi.services.errors import DomainError

lheo_api = Blueprint("lheo_api", __name__, url_prefix="/api/v1")
MIMETYPE = "application/xml"


def _error(status: int, code: str, message: str):
    response = jsonify({"erreur": {"code": code, "message": message}})
    response.status_code = status
    return response


@lheo_api.get("/formations/<int:formation_id>.lheo")
def formation_lheo(formation_id: int):
    groups = list(published_actions(formation_id=formation_id))
    if not groups:
        return _error(404, "introuvable", f"La formation {formation_id} n'a aucune action publiée.")
    body = b"".join(iter_document(groups))
    response = Response(body, mimetype=MIMETYPE)
    response.headers["Content-Disposition"] = f'inline; filename="formation-{formation_id}.lheo.xml"'
    return response


@lheo_api.get("/lheo")
def offer_lheo():
    try:
        since = parse_since(request.args.get("since"))
    except DomainError as error:
        return _error(400, "requete_invalide", error.message)
    chunks = iter_document(published_actions(since=since))
    response = Response(stream_with_context(chunks), mimetype=MIMETYPE)
    response.headers["Content-Disposition"] = 'inline; filename="offre-lheo.xml"'
    return response
