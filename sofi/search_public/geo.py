"""Distances for the public search: haversine in SQL on both databases.

PostgreSQL computes it with its own trigonometric functions; SQLite gets the same formula
as a Python function registered on every connection (``sofi_distance_m``). Both return
whole metres, so that a distance can be a sort key of keyset pagination.
"""

import math

import sqlalchemy as sa

from models import Commune, PublishedSession, db

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _sqlite_distance_m(lat1, lon1, lat2, lon2):
    if None in (lat1, lon1, lat2, lon2):
        return None
    return int(round(haversine_km(lat1, lon1, lat2, lon2) * 1000))


@sa.event.listens_for(sa.engine.Engine, "connect")
def _register_sqlite_functions(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function("sofi_distance_m", 4, _sqlite_distance_m, deterministic=True)


def distance_m(latitude: float, longitude: float):
    """SQL expression: whole metres from (latitude, longitude) to a published session's site."""
    lat, lon = PublishedSession.latitude, PublishedSession.longitude
    if db.engine.dialect.name == "sqlite":
        return sa.func.sofi_distance_m(latitude, longitude, lat, lon)
    radians = sa.func.radians
    lat0 = sa.literal(float(latitude), sa.Float)
    lon0 = sa.literal(float(longitude), sa.Float)
    a = sa.func.power(sa.func.sin((radians(lat) - radians(lat0)) / 2), 2) + sa.func.cos(radians(lat0)) * sa.func.cos(
        radians(lat)
    ) * sa.func.power(sa.func.sin((radians(lon) - radians(lon0)) / 2), 2)
    km = 2 * EARTH_RADIUS_KM * sa.func.asin(sa.func.least(1.0, sa.func.sqrt(a)))
    return sa.cast(sa.func.round(km * 1000), sa.Integer)


def bounding_box(latitude: float, longitude: float, radius_km: float):
    """A cheap SQL pre-filter: the rectangle that contains the circle."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * max(0.01, math.cos(math.radians(latitude)))))
    return sa.and_(
        PublishedSession.latitude.between(latitude - dlat, latitude + dlat),
        PublishedSession.longitude.between(longitude - dlon, longitude + dlon),
    )


def commune_position(code: str) -> tuple[float, float] | None:
    """Coordinates of a commune: the shipped ones, else the mean of its published sites' positions."""
    commune = db.session.get(Commune, code)
    if commune is not None and commune.latitude is not None and commune.longitude is not None:
        return commune.latitude, commune.longitude
    row = db.session.execute(
        sa.select(sa.func.avg(PublishedSession.latitude), sa.func.avg(PublishedSession.longitude)).where(
            PublishedSession.commune_code == code,
            PublishedSession.latitude.is_not(None),
            PublishedSession.longitude.is_not(None),
        )
    ).one()
    if row[0] is None:
        return None
    return float(row[0]), float(row[1])
