"""Closed value lists: the LHÉO 2.3 code tables and SOFI's own lists from the seeds.

The LHÉO tables (``dict-*.csv``) are copied verbatim from ``shared/lheo/dictionaries``; the
``sofi-*.csv`` lists hold the values the seed procedures show on screen (rythmes, périodes
de formation, modalités pédagogiques…). They are versioned with the code because the XSD
enforces the LHÉO ones: a code outside them would produce an invalid export.
"""

import csv
from functools import cache
from pathlib import Path

_DIR = Path(__file__).with_name("codelists")


@cache
def codelist(name: str) -> dict[str, str]:
    """Return the ordered ``{code: label}`` mapping of the list ``name`` (file stem)."""
    path = _DIR / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["label"] for row in csv.DictReader(handle)}


def choices(name: str) -> list[tuple[str, str]]:
    """``(code, label)`` pairs for a select field."""
    return list(codelist(name).items())


def label(name: str, code: str | None) -> str:
    if code is None:
        return ""
    return codelist(name).get(code, code)


def available() -> list[str]:
    return sorted(path.stem for path in _DIR.glob("*.csv"))
