"""Coordinates of communes (for the catalogue's distance search), from the shipped GeoNames extract.

``sofi/data/communes-coordonnees-pays-de-la-loire.csv`` is built by
``scripts/geonames_commune_coordinates.py`` (see there and ``sofi/data/README.md``). A
commune it does not list keeps no coordinates: nothing is guessed.
"""

import csv

import sqlalchemy as sa

from models import Commune, db
from sofi.services.referentials import DATA_DIR

COORDINATES_FILE = "communes-coordonnees-pays-de-la-loire.csv"


def load_commune_coordinates() -> int:
    """Set latitude/longitude of the known communes; returns how many were set. The caller commits."""
    with (DATA_DIR / COORDINATES_FILE).open(encoding="utf-8", newline="") as handle:
        coordinates = {
            row["code_insee"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(handle)
        }
    updated = 0
    for commune in db.session.scalars(sa.select(Commune).where(Commune.code_insee.in_(coordinates))):
        latitude, longitude = coordinates[commune.code_insee]
        if (commune.latitude, commune.longitude) != (latitude, longitude):
            commune.latitude, commune.longitude = latitude, longitude
        updated += 1
    db.session.flush()
    return updated
