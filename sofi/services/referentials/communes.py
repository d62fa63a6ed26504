"""Import of communes with their postal codes (``communes.json`` of @etalab/decoupage-administratif)."""

import json
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from models import Commune, CommuneCodePostal, db
from sofi.services.errors import ImportFileError

PRIMARY_KIND = "commune-actuelle"


@dataclass
class CommunesImportSummary:
    created: int = 0
    updated: int = 0

    @property
    def communes(self) -> int:
        return self.created + self.updated


def _read(path: Path) -> list[dict]:
    try:
        with path.open(encoding="utf-8") as handle:
            entries = json.load(handle)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"Le fichier JSON est mal formé : {error.msg} (ligne {error.lineno}).") from error
    except UnicodeDecodeError as error:
        raise ImportFileError("Le fichier n'est pas encodé en UTF-8.") from error
    except OSError as error:
        raise ImportFileError(f"Impossible de lire le fichier « {path} » : {error.strerror}.") from error
    if not isinstance(entries, list):
        raise ImportFileError("Le fichier doit contenir une liste de communes.")
    return entries


def _optional_text(value, max_length: int) -> bool:
    return value is None or (isinstance(value, str) and len(value) <= max_length)


def _merge_by_code(entries: list[dict]) -> dict[str, dict]:
    """One entry per INSEE code: the current commune wins, postal codes are pooled.

    The source lists a "commune déléguée" under the same code as its current commune.
    """
    merged: dict[str, dict] = {}
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ImportFileError(f"L'entrée n°{position} n'est pas un objet JSON.")
        code, nom, departement = entry.get("code"), entry.get("nom"), entry.get("departement")
        if (
            not (isinstance(code, str) and len(code) == 5)
            or not (isinstance(nom, str) and nom.strip() and len(nom) <= 255)
            or not (isinstance(departement, str) and 0 < len(departement) <= 3)
        ):
            raise ImportFileError(
                f"L'entrée n°{position} doit avoir un code INSEE à 5 caractères, un nom et un département."
            )
        postal_codes = entry.get("codesPostaux") or []
        if not isinstance(postal_codes, list) or any(
            not (isinstance(cp, str) and len(cp) == 5 and cp.isdigit()) for cp in postal_codes
        ):
            raise ImportFileError(f"Commune {code} ({nom}) : code postal invalide {postal_codes}.")
        population = entry.get("population")
        if population is not None and (isinstance(population, bool) or not isinstance(population, int)):
            raise ImportFileError(f"Commune {code} ({nom}) : la population « {population} » n'est pas un nombre.")
        if not all(
            _optional_text(entry.get(key), length) for key, length in (("region", 3), ("chefLieu", 5), ("type", 30))
        ):
            raise ImportFileError(f"Commune {code} ({nom}) : région, chef-lieu ou type invalide.")
        current = merged.get(code)
        if current is None or (entry.get("type") == PRIMARY_KIND and current.get("type") != PRIMARY_KIND):
            pooled = set(postal_codes) | set(current["codesPostaux"] if current else [])
            merged[code] = {**entry, "codesPostaux": sorted(pooled)}
        else:
            current["codesPostaux"] = sorted(set(current["codesPostaux"]) | set(postal_codes))
    return merged


def import_communes(path: Path, commit: bool = True) -> CommunesImportSummary:
    """Create or update communes and their postal codes; all or nothing."""
    summary = CommunesImportSummary()
    merged = _merge_by_code(_read(Path(path)))
    if not merged:
        raise ImportFileError("Le fichier ne contient aucune commune.")
    try:
        existing = {
            commune.code_insee: commune
            for commune in db.session.scalars(sa.select(Commune).options(selectinload(Commune.codes_postaux)))
        }
        for code, entry in merged.items():
            commune = existing.get(code)
            if commune is None:
                commune = Commune(code_insee=code)
                db.session.add(commune)
                summary.created += 1
            else:
                summary.updated += 1
            commune.nom = entry["nom"]
            commune.departement = entry["departement"]
            commune.region = entry.get("region")
            commune.kind = entry.get("type") or PRIMARY_KIND
            commune.chef_lieu = entry.get("chefLieu")
            commune.population = entry.get("population")
            current = {cp.code_postal for cp in commune.codes_postaux}
            wanted = set(entry["codesPostaux"])
            commune.codes_postaux = [cp for cp in commune.codes_postaux if cp.code_postal in wanted] + [
                CommuneCodePostal(code_postal=cp) for cp in sorted(wanted - current)
            ]
        if commit:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return summary
