"""Loads the reference data shipped under ``sofi/data`` (idempotent: re-running updates)."""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from models import Dispositif, Formacode, Nsf, Public, Rome, db
from sofi.services.referentials import DATA_DIR
from sofi.services.referentials.certifinfo import import_certifinfo
from sofi.services.referentials.communes import import_communes
from sofi.services.referentials.coordinates import load_commune_coordinates
from sofi.services.referentials.rncp import import_rncp
from sofi.text import search_key

FICHE_FILES = ("export_fiches_RNCP_fixture.xml", "export_fiches_RS_fixture.xml", "fiches-seeds.xml")


@dataclass
class LoadSummary:
    counts: dict[str, int] = field(default_factory=dict)


def _csv(name: str, delimiter: str = ",") -> list[dict]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _upsert(model, key: str, rows: list[dict]) -> int:
    """Insert or update ``rows`` of ``model`` matched on the primary-key attribute ``key``."""
    existing = {getattr(obj, key): obj for obj in db.session.scalars(sa.select(model))}
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            obj = model(**{key: row[key]})
            db.session.add(obj)
            existing[row[key]] = obj
        for attribute, value in row.items():
            if attribute != key:
                setattr(obj, attribute, value)
    db.session.flush()
    return len(rows)


def _formacodes() -> list[dict]:
    rows = [
        {
            "code": row["code"],
            "label": row["label"],
            "kind": row["type"][:20] or None,
            "field_code": row["field_code"] or None,
            "field_label": row["field_label"] or None,
            "parent_code": row["parent_code"] or None,
            "nsf_code": row["nsf_code"] or None,
            "synonyms": row["synonyms"] or None,
            "version": "V8",
            "search_text": search_key(row["code"], row["label"], row["synonyms"]),
        }
        for row in _csv("formacode.csv")
    ]
    rows += [
        {
            **row,
            "parent_code": row["parent_code"] or None,
            "kind": "DOM",
            "version": "SEEDS",
            "search_text": search_key(row["code"], row["label"]),
        }
        for row in _csv("formacode-supplement.csv")
    ]
    return rows


def _romes() -> list[dict]:
    seen: dict[str, dict] = {}
    for row in _csv("rome.csv", delimiter=";"):
        seen.setdefault(row["code_rome"], {"code": row["code_rome"], "label": row["libelle_rome"][:255]})
    return list(seen.values())


def _dispositifs() -> list[dict]:
    publics = {public.code: public for public in db.session.scalars(sa.select(Public))}
    return [
        {
            "code": int(row["code"]),
            "label": row["label"],
            "financeur_code": row["financeur_code"],
            "conventionnement_financeur": row["conventionnement_financeur"] or None,
            "contrat_apprentissage": row["contrat_apprentissage"] == "1",
            "contrat_professionnalisation": row["contrat_professionnalisation"] == "1",
            "programme_regional": row["programme_regional"] == "1",
            "formation_initiale": row["formation_initiale"] == "1",
            "prise_en_charge_frais": row["prise_en_charge_frais"] == "1",
            "requires_funder_approval": row["requires_funder_approval"] == "1",
            "requires_document": row["requires_document"] == "1",
            "default_publics": [publics[code] for code in row["default_publics"].split(";") if code],
        }
        for row in _csv("dispositifs.csv")
    ]


def load_referentials(step: Callable[[str], None] = lambda _: None) -> LoadSummary:
    """Load every shipped reference file in one transaction."""
    summary = LoadSummary()
    try:
        step("Formacode")
        summary.counts["formacode"] = _upsert(Formacode, "code", _formacodes())
        step("NSF")
        summary.counts["nsf"] = _upsert(
            Nsf, "code", [{"code": r["code"], "label": r["label"]} for r in _csv("nsf.csv")]
        )
        step("ROME")
        summary.counts["rome"] = _upsert(Rome, "code", _romes())
        step("Publics")
        summary.counts["publics"] = _upsert(
            Public,
            "code",
            [
                {"code": r["code"], "label": r["label"], "formacode_code": r["formacode_code"] or None}
                for r in _csv("publics.csv")
            ],
        )
        step("Dispositifs")
        summary.counts["dispositifs"] = _upsert(Dispositif, "code", _dispositifs())
        step("Communes")
        summary.counts["communes"] = import_communes(DATA_DIR / "communes-pays-de-la-loire.json", commit=False).communes
        summary.counts["coordonnées de communes"] = load_commune_coordinates()
        step("Certif Info")
        summary.counts["certifinfo"] = import_certifinfo(DATA_DIR / "certif_info.csv", commit=False).rows
        step("Fiches RNCP/RS")
        summary.counts["certifications"] = sum(
            import_rncp(Path(DATA_DIR / name), commit=False).fiches for name in FICHE_FILES
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return summary


def referentials_loaded() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Dispositif)) > 0
