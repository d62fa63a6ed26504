"""The values of an LHÉO record as SOFI stores them: texts fitted and sanitised, codes checked
against their lists, numbers and SIRETs parsed, and the keys that match a record with a stored one.

Functions of the file's data alone (no query), shared by the parts of the import
(``lheo_import``, ``lheo_import_parties``, ``lheo_import_sessions``).
"""

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from exporters.lheo import mapping as m
from models.codelists import codelist
from models.validation import check_siret
from sofi.sanitize import clean_html
from sofi.text import search_key


class SkipRecord(Exception):
    """A record SOFI cannot take; the message (French) is the reason shown in the report."""


def fit_or_none(value: str | None, limit: int) -> str | None:
    return m.fit(value, limit) if value else None


@lru_cache(maxsize=1024)
def rich_text(value: str | None) -> str | None:
    """Imported rich text: HTML (or escaped HTML) reduced to SOFI's safe subset, ≤ 3000 characters.

    Remembered: the actions of a formation often share their texts (conditions…), and the HTML
    sanitiser took 2 % of an import's time."""
    if not value:
        return None
    cleaned = clean_html(value)
    if cleaned and len(cleaned) > 3000:
        cleaned = m.excerpt(m.strip_tags(cleaned), 3000)
    return cleaned


def listed_code(value: str | None, list_name: str) -> str | None:
    value = (value or "").strip()
    return value if value in codelist(list_name) else None


@lru_cache(maxsize=4096)
def checked_siret(value: str | None) -> str | None:
    """``check_siret``, remembered: the SIRET of a responsible or of a site is read again for each
    of its formations or actions (a refused one is checked again: exceptions are not remembered)."""
    return check_siret("siret", value)


@lru_cache(maxsize=4096)
def plain_text(value: str) -> str:
    """``m.strip_tags``, remembered: the title of a formation is the label of each of its sessions,
    a contact's name is read again for each session it is the contact of."""
    return m.strip_tags(value)


@lru_cache(maxsize=4096)  # a Decimal is immutable; the same prices and rates come back for each session
def decimal_or_none(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    cleaned = re.sub(r"[^0-9,.\-]", "", value).replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def int_or_none(value) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def assign(record, values: dict) -> list[str]:
    """Set the attributes that differ; returns the names of those changed."""
    changed = []
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name)
    return changed


def dated(session: dict) -> bool:
    return bool(session["date_debut"] and session["date_fin"] and session["date_fin"] >= session["date_debut"])


def date_problem(session: dict) -> str:
    if session["date_debut"] is None or session["date_fin"] is None:
        raw = f"{session.get('debut') or '?'} – {session.get('fin') or '?'}"
        return f"dates inconnues ({raw}) : SOFI exige un début et une fin"
    return "la date de fin précède la date de début"


def flag_set(value: str | None) -> bool:
    return (value or "").strip() == "1"


def formation_key(data: dict) -> str:
    """``numero_lheo`` of a formation: SOFI identifier, else LHÉO numero, else its title."""
    label = m.strip_tags(data.get("intitule") or "")[:80]
    return (data.get("sofi") or {}).get("identifiant") or data.get("numero") or f"intitule:{search_key(label)[:80]}"


def sofi_identifiant(data: dict) -> int | None:
    return int_or_none((data.get("sofi") or {}).get("identifiant"))


@lru_cache(maxsize=4096)
def contact_key(nom: str | None, prenom: str | None, email: str | None) -> tuple:
    """What makes two contacts of an organisation the same person for the import (a session's contact
    is usually the one of the sessions before it: the key is remembered)."""
    return search_key(nom), search_key(prenom), email
