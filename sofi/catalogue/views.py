"""The public catalogue: home, search, formation and organisation pages (no login, French).

Server-rendered pages that work without JavaScript; every search state is a plain GET URL.
They read the published offer only (``sofi.search_public``).
"""

from datetime import date
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from models import Commune, CommuneCodePostal, Formacode, db
from models.codelists import codelist, label
from sofi.public_pages import kept_until_the_offer_changes
from sofi.search_public import SearchError, niveau_label, parse_params, search
from sofi.search_public.published import formation_view, organisation_view
from sofi.text import search_key

catalogue = Blueprint("catalogue", __name__)

RADIUS_CHOICES = (5, 10, 20, 30, 50, 100)
PAGE_SIZE = 20
SORT_LABELS = {"pertinence": "Pertinence", "date": "Date de début", "distance": "Distance"}
FACET_TITLES = {
    "domaine": "Domaine de formation",
    "departement": "Département",
    "commune": "Commune",
    "dispositif": "Dispositif de financement",
    "financeur": "Financeur",
    "public": "Public",
    "certifiante": "Formation certifiante",
    "cpf": "Éligible au CPF",
    "niveau": "Niveau de sortie",
    "modalite": "Modalité d'enseignement",
    "entrees_permanentes": "Entrées et sorties permanentes",
    "recrutement_ouvert": "Recrutement ouvert",
}
DEPARTEMENTS = {
    "44": "Loire-Atlantique",
    "49": "Maine-et-Loire",
    "53": "Mayenne",
    "72": "Sarthe",
    "85": "Vendée",
}
LHEO_URL = "/api/v1/formations/{id}.lheo"


@catalogue.app_template_filter("iso_date_fr")
def iso_date_fr(value) -> str:
    """``2027-01-18`` (snapshot dates are ISO strings) → ``18/01/2027``."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y")


catalogue.add_app_template_filter(niveau_label, "niveau_label")


@catalogue.app_template_filter("euros")
def euros(value) -> str:
    if value in (None, ""):
        return ""
    amount = f"{float(value):,.2f}".replace(",", " ").replace(".", ",")
    return f"{amount} €"


@catalogue.app_context_processor
def _helpers():
    return {"code_labels": codelist, "departement_name": lambda code: DEPARTEMENTS.get(code, code)}


def resolve_place(text: str) -> tuple[str | None, list[Commune]]:
    """A commune typed as a name, a postal code or an INSEE code: (its code, or the candidates)."""
    text = (text or "").strip()
    if not text:
        return None, []
    if text.endswith(")") and "(" in text:  # "Nantes (44109)", as the form shows a chosen commune
        text = text.rsplit("(", 1)[1].rstrip(")").strip()
    if text.isdigit() and len(text) == 5:
        commune = db.session.get(Commune, text)
        if commune is not None:
            return commune.code_insee, []
        candidates = db.session.scalars(
            sa.select(Commune)
            .join(CommuneCodePostal)
            .where(CommuneCodePostal.code_postal == text)
            .order_by(Commune.population.desc().nulls_last(), Commune.nom)
        ).all()
    else:
        # Accent-, case- and hyphen-insensitive: "saint nazaire" finds Saint-Nazaire.
        wanted = _place_key(text)
        names = db.session.execute(sa.select(Commune.code_insee, Commune.nom)).all()
        exact = [code for code, nom in names if _place_key(nom) == wanted]
        codes = exact or [code for code, nom in names if _place_key(nom).startswith(wanted)]
        candidates = list(db.session.scalars(sa.select(Commune).where(Commune.code_insee.in_(codes[:200]))))
        candidates.sort(key=lambda c: (c.kind != "commune-actuelle", -(c.population or 0), c.nom))
    current = [c for c in candidates if c.kind == "commune-actuelle"] or candidates
    if len(current) == 1:
        return current[0].code_insee, []
    return None, current[:15]


def _place_key(text: str) -> str:
    return " ".join(search_key(text).replace("-", " ").replace("'", " ").split())


def _canonical(args: MultiDict) -> MultiDict | None:
    """The same search without empty parameters, or None when the URL is already clean."""
    clean = MultiDict([(key, value) for key, value in args.items(multi=True) if value.strip()])
    return clean if len(clean) != len(list(args.items(multi=True))) else None


@catalogue.get("/")
@kept_until_the_offer_changes
def home():
    params, _errors = parse_params(MultiDict())
    result = search(params, limit=1)
    return render_template(
        "catalogue/home.html",
        total=result.total,
        domains=result.facets["domaine"],
        departements=result.facets["departement"],
        radius_choices=RADIUS_CHOICES,
    )


@catalogue.get("/formations")
@kept_until_the_offer_changes
def formations():
    args = MultiDict(request.args)
    place_text, candidates = "", []
    if "lieu" in args:  # the search form: the typed place replaces the commune
        place_text = args.pop("lieu", "").strip()
        args.poplist("commune")
        args.pop("apres", None)
        code = None
        if place_text:
            code, candidates = resolve_place(place_text)
            if code:
                args.setlist("commune", [code])
        if code or not place_text:
            return _redirect_to(args)
    elif _canonical(args) is not None:
        return _redirect_to(args)
    params, errors = parse_params(args)
    if errors:
        # Search with what is valid: drop each parameter in error and show why.
        for error in errors:
            args.poplist(error.field)
        params, _ = parse_params(args)
    try:
        result = search(params, cursor=args.get("apres") or None, limit=PAGE_SIZE)
    except SearchError as error:
        errors += error.errors
        result = search(params, limit=PAGE_SIZE)
    commune = db.session.get(Commune, params.commune) if params.commune else None
    domain = db.session.get(Formacode, params.domaine) if params.domaine else None
    query = params.to_query()
    return render_template(
        "catalogue/search.html",
        params=params,
        result=result,
        errors=errors + result.warnings,
        place_text=place_text or (f"{commune.nom} ({commune.code_insee})" if commune else ""),
        unresolved_place=bool(place_text) and not candidates,
        candidates=candidates,
        commune=commune,
        domain=domain,
        radius_choices=RADIUS_CHOICES,
        sort_labels=SORT_LABELS,
        facet_titles=FACET_TITLES,
        first_page_url=_search_url(query),
        next_page_url=_search_url([*query, ("apres", result.next_cursor)]) if result.next_cursor else None,
        candidate_url=lambda code: _search_url([(k, v) for k, v in query if k != "commune"] + [("commune", code)]),
        api_url="/api/v1/formations" + ("?" + urlencode(query) if query else ""),
        is_next_page=bool(args.get("apres")),
    )


def _search_url(pairs) -> str:
    return url_for(".formations") + ("?" + urlencode(pairs) if pairs else "")


def _redirect_to(args: MultiDict):
    return redirect(_search_url(_clean_pairs(args)), 303)


def _clean_pairs(args: MultiDict) -> list[tuple[str, str]]:
    return [(key, value) for key, value in args.items(multi=True) if value.strip()]


@catalogue.get("/formations/<int:formation_id>")
@kept_until_the_offer_changes
def formation(formation_id: int):
    view = formation_view(formation_id)
    if view is None:
        abort(404)
    return render_template(
        "catalogue/formation.html",
        view=view,
        json_ld=course_json_ld(view),
        lheo_url=LHEO_URL.format(id=formation_id),
        label=label,
    )


@catalogue.get("/organismes/<siret>")
@kept_until_the_offer_changes
def organisation(siret: str):
    if not (siret.isdigit() and len(siret) == 14):
        abort(404)
    view = organisation_view(siret)
    if view is None:
        abort(404)
    return render_template("catalogue/organisation.html", view=view, label=label)


def _place(site: dict) -> dict:
    commune = site.get("commune") or {}
    place = {
        "@type": "Place",
        "name": site.get("nom"),
        "address": {
            "@type": "PostalAddress",
            "streetAddress": " ".join(p for p in (site.get("adresse1"), site.get("adresse2")) if p),
            "postalCode": site.get("code_postal"),
            "addressLocality": commune.get("nom"),
            "addressCountry": "FR",
        },
    }
    if site.get("latitude") is not None and site.get("longitude") is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": site["latitude"], "longitude": site["longitude"]}
    return place


COURSE_MODES = {"0": "onsite", "1": "blended", "2": "online"}


def course_json_ld(view: dict) -> dict:
    """schema.org Course with one CourseInstance per upcoming session (for search engines)."""
    formation = view["formation"]
    provider = view["actions"][0]["organisation"]
    instances = []
    for action in view["actions"]:
        for session in action["sessions"]:
            instance = {
                "@type": "CourseInstance",
                "identifier": session["fas_code"],
                "courseMode": COURSE_MODES.get(session.get("modalite_enseignement"), "onsite"),
                "startDate": session["date_debut"],
                "endDate": session["date_fin"],
                "location": _place(session.get("site") or action["site"]),
                "organizer": {"@type": "Organization", "name": action["organisation"]["raison_sociale"]},
            }
            prices = [
                d["frais_ttc"] or d["frais_ht"]
                for d in session.get("dispositifs", [])
                if d.get("frais_ttc") or d.get("frais_ht")
            ]
            if prices:
                instance["offers"] = {"@type": "Offer", "price": prices[0], "priceCurrency": "EUR", "category": "Paid"}
            instances.append(instance)
    course = {
        "@context": "https://schema.org",
        "@type": "Course",
        "name": formation["intitule"],
        "description": formation.get("objectifs") or view["actions"][0].get("objectifs") or formation["intitule"],
        "url": url_for(".formation", formation_id=view["id"], _external=True),
        "provider": {
            "@type": "Organization",
            "name": provider["raison_sociale"],
            "url": url_for(".organisation", siret=provider["siret"], _external=True),
        },
        "hasCourseInstance": instances,
    }
    if formation.get("certification"):
        course["educationalCredentialAwarded"] = formation["certification"]["intitule"]
    if formation.get("formacodes"):
        course["about"] = [f["libelle"] for f in formation["formacodes"] if f.get("libelle")]
    return course
