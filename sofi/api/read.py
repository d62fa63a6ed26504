"""Public read endpoints: the published offer and the reference lists (no token, CORS open)."""

from dataclasses import asdict
from datetime import datetime
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import jsonify, request, url_for
from sqlalchemy.orm import selectinload

from models import Commune, CommuneCodePostal, Dispositif, Formacode, Public, db
from models.codelists import codelist, label
from sofi.api.blueprint import api
from sofi.api.errors import ApiError, detail
from sofi.public_pages import kept_until_the_offer_changes
from sofi.search_public import SearchError, parse_params, search
from sofi.search_public.published import formation_view, organisation_view, session_view
from sofi.text import search_key

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Query parameters of /formations besides the search filters.
PAGING = ("apres", "limite", "facettes")


def _limit() -> int:
    raw = request.args.get("limite", "")
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "parametre_invalide", f"« limite » est un nombre entre 1 et {MAX_LIMIT}.", "limite")
    return int(raw)


def _json_dates(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_dates(v) for v in value]
    return value


@api.get("/formations")
@kept_until_the_offer_changes
def list_formations():
    params, errors = parse_params(request.args)
    known = {"q", *(f for f in params.__dataclass_fields__), *PAGING}
    errors_details = [detail("parametre_invalide", e.field, e.message) for e in errors]
    errors_details += [
        detail("parametre_inconnu", name, f"Le paramètre « {name} » n'existe pas.")
        for name in request.args
        if name not in known
    ]
    if errors_details:
        raise ApiError(
            400, "parametre_invalide", "La recherche contient des paramètres invalides.", details=errors_details
        )
    with_facets = request.args.get("facettes", "oui").lower() not in ("non", "0", "false")
    try:
        result = search(params, cursor=request.args.get("apres") or None, limit=_limit(), with_facets=with_facets)
    except SearchError as error:
        first = error.errors[0]
        raise ApiError(400, "curseur_invalide", first.message, first.field) from error
    query = params.to_query()
    next_url = None
    if result.next_cursor:
        pairs = [*query, ("apres", result.next_cursor)]
        if request.args.get("limite"):
            pairs.append(("limite", request.args["limite"]))
        next_url = url_for(".list_formations") + "?" + urlencode(pairs)
    return jsonify(
        {
            "total": result.total,
            "tri": result.sort,
            "items": result.items,
            "facets": {name: [asdict(v) for v in values] for name, values in result.facets.items()},
            "next_cursor": result.next_cursor,
            "links": {
                "next": next_url,
                "html": url_for("catalogue.formations") + ("?" + urlencode(query) if query else ""),
            },
            "warnings": [detail("parametre_ignore", w.field, w.message) for w in result.warnings],
        }
    )


@api.get("/formations/<int:formation_id>")
@kept_until_the_offer_changes
def get_formation(formation_id: int):
    view = formation_view(formation_id)
    if view is None:
        raise ApiError(404, "introuvable", "Aucune formation publiée ne porte ce numéro.")
    view = _json_dates(view)
    view["links"] = {
        "html": url_for("catalogue.formation", formation_id=formation_id),
        "lheo": f"/api/v1/formations/{formation_id}.lheo",
    }
    return jsonify(view)


@api.get("/sessions/<fas>")
@kept_until_the_offer_changes
def get_session(fas: str):
    view = session_view(fas)
    if view is None:
        raise ApiError(404, "introuvable", "Aucune session publiée ne porte ce code FAS.")
    view["links"] = {"formation": url_for(".get_formation", formation_id=view["formation_id"])}
    return jsonify(view)


@api.get("/organisations/<siret>")
@kept_until_the_offer_changes
def get_organisation(siret: str):
    view = organisation_view(siret) if siret.isdigit() and len(siret) == 14 else None
    if view is None:
        raise ApiError(404, "introuvable", "Aucun organisme n'a d'offre publiée sous ce SIRET.")
    view["links"] = {"html": url_for("catalogue.organisation", siret=siret)}
    return jsonify(view)


# Reference lists -------------------------------------------------------------------------------
def _after_key() -> str:
    return request.args.get("apres", "").strip()


@api.get("/formacodes")
def list_formacodes():
    limit = _limit() if request.args.get("limite") else MAX_LIMIT
    query = sa.select(Formacode).order_by(Formacode.code)
    words = [w for w in search_key(request.args.get("q", "")).split(" ") if w]
    if words:
        query = query.where(*(Formacode.search_text.like(f"%{w}%") for w in words))
    parent = request.args.get("parent", "").strip()
    if parent:
        query = query.where(Formacode.parent_code == parent)
    if request.args.get("racines", "").lower() in ("oui", "1", "true"):
        query = query.where(Formacode.parent_code.is_(None), Formacode.kind == "DOM")
    if _after_key():
        query = query.where(Formacode.code > _after_key())
    rows = db.session.scalars(query.limit(limit + 1)).all()
    items = [
        {
            "code": f.code,
            "libelle": f.label,
            "parent_code": f.parent_code,
            "champ_code": f.field_code,
            "champ_libelle": f.field_label,
        }
        for f in rows[:limit]
    ]
    return jsonify({"items": items, "next_cursor": rows[limit - 1].code if len(rows) > limit else None})


@api.get("/dispositifs")
def list_dispositifs():
    items = [
        {
            "code": d.code,
            "libelle": d.label,
            "financeur_code": d.financeur_code,
            "financeur": label("dict-financeurs", d.financeur_code),
            "programme_regional": d.programme_regional,
            "actif": d.active,
            "publics_par_defaut": [p.code for p in d.default_publics],
        }
        for d in db.session.scalars(
            sa.select(Dispositif).options(selectinload(Dispositif.default_publics)).order_by(Dispositif.code)
        )
    ]
    return jsonify({"items": items})


@api.get("/publics")
def list_publics():
    items = [
        {"code": p.code, "libelle": p.label, "formacode": p.formacode_code}
        for p in db.session.scalars(sa.select(Public).order_by(Public.code))
    ]
    return jsonify({"items": items})


@api.get("/niveaux")
def list_niveaux():
    return jsonify({"items": [{"code": code, "libelle": text} for code, text in codelist("dict-niveaux").items()]})


@api.get("/communes")
def list_communes():
    limit = _limit() if request.args.get("limite") else MAX_LIMIT
    query = sa.select(Commune).options(selectinload(Commune.codes_postaux)).order_by(Commune.code_insee)
    text = request.args.get("q", "").strip()
    if text:
        query = query.where(Commune.nom.ilike(f"%{text}%"))
    departement = request.args.get("departement", "").strip()
    if departement:
        query = query.where(Commune.departement == departement)
    postal = request.args.get("code_postal", "").strip()
    if postal:
        query = query.where(
            Commune.code_insee.in_(
                sa.select(CommuneCodePostal.code_insee).where(CommuneCodePostal.code_postal == postal)
            )
        )
    if _after_key():
        query = query.where(Commune.code_insee > _after_key())
    rows = db.session.scalars(query.limit(limit + 1)).all()
    items = [
        {
            "code_insee": c.code_insee,
            "nom": c.nom,
            "departement": c.departement,
            "type": c.kind,
            "codes_postaux": [cp.code_postal for cp in c.codes_postaux],
            "latitude": c.latitude,
            "longitude": c.longitude,
        }
        for c in rows[:limit]
    ]
    return jsonify({"items": items, "next_cursor": rows[limit - 1].code_insee if len(rows) > limit else None})
