"""Expectations of the public search, computed from the live demo records (never from the search code).

An offer is public when its action is in the "publiée" state; a session is listed while it
has not ended. Everything below reads the live tables and the reference data directly.
"""

import math
import re
import unicodedata
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from models import Action, ActionStatus, Commune, Formacode, SessionDispositif, SessionFormation, db
from sofi.services.api_tokens import create_token


def plain(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def distance_km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (spherical Earth, mean radius), written independently of the app."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def public_sessions(today: date | None = None) -> list[SessionFormation]:
    """Sessions of published actions that have not ended."""
    today = today or date.today()
    query = (
        sa.select(SessionFormation)
        .join(Action)
        .where(Action.status == ActionStatus.PUBLIEE, SessionFormation.date_fin >= today)
        .options(
            selectinload(SessionFormation.dispositifs).selectinload(SessionDispositif.publics),
            selectinload(SessionFormation.action).selectinload(Action.formation),
        )
    )
    return list(db.session.scalars(query))


def fas(session: SessionFormation) -> str:
    return f"{session.action.formation_id}-{session.action_id}-{session.id}"


def formacode_ancestors(code: str) -> set[str]:
    """``code`` and its generic terms up to the root of the tree."""
    found, current = set(), code
    while current and current not in found:
        found.add(current)
        current = db.session.scalar(sa.select(Formacode.parent_code).where(Formacode.code == current))
    return found


def in_domain(session: SessionFormation, domain: str) -> bool:
    return any(domain in formacode_ancestors(code) for code in session.action.formation.formacode_codes)


def within(session: SessionFormation, commune_code: str, radius_km: float) -> bool:
    commune = db.session.get(Commune, commune_code)
    site = session.site
    if site.latitude is None or commune.latitude is None:
        return False
    return distance_km(commune.latitude, commune.longitude, site.latitude, site.longitude) <= radius_km


def dispositif_codes(session: SessionFormation) -> set[int]:
    return {d.dispositif_code for d in session.dispositifs}


def public_codes(session: SessionFormation) -> set[str]:
    return {p.code for d in session.dispositifs for p in d.publics}


def title_words(session: SessionFormation) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", plain(session.action.intitule)))


def api_fas(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["fas_code"] for item in response.get_json()["items"]]


def all_pages(client, query: str, limit: int = 2) -> list[dict]:
    """Every item of a search, following the cursors."""
    items, url = [], f"/api/v1/formations?{query}&limite={limit}"
    for _ in range(50):
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items += body["items"]
        if not body["links"]["next"]:
            return items
        url = body["links"]["next"]
    raise AssertionError("pagination never ends")


def token_for(app, email: str, siret: str | None = None, name: str = "Logiciel de test", **kwargs) -> str:
    """A new API token of the demo user's establishment (``siret``: which one, when they have several)."""
    from flask import session as http_session

    from models import Organisation, User
    from sofi.permissions import CURRENT_ORGANISATION_KEY

    user = db.session.scalar(sa.select(User).where(User.email == email))
    with app.test_request_context():
        if siret:
            organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == siret))
            http_session[CURRENT_ORGANISATION_KEY] = organisation.id
        _token, secret = create_token(user, name, **kwargs)
    return secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
