"""Rules of the Region's programme (seed 002, PREPA Avenir Sup).

A session carrying a dispositif of the regional programme with a lot of the Region's yearly
file (``numero_lot_cr`` such as ``PAS2025_4``: programme prefix, year, lot number) must start
in the year of the lot, must have informations collectives (« la saisie est obligatoire pour
que l'offre puisse alimenter Kairos, Ouiform et les sites régionaux »), and the dispositif
takes charge of the frais pédagogiques.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from models import SessionDispositif, SessionFormation
from sofi.rules.base import Context, Problem, fr_date, problem, rule

LOT_PATTERN = re.compile(r"^(?P<programme>[A-Za-z]+)(?P<year>\d{4})(?:_(?P<number>\w+))?$")


@dataclass(frozen=True)
class Lot:
    code: str
    programme: str
    year: int


def parse_lot(code: str | None) -> Lot | None:
    """``PAS2025_4`` → ``Lot("PAS2025_4", "PAS", 2025)``; None when the code has another shape."""
    match = LOT_PATTERN.match((code or "").strip())
    if match is None:
        return None
    return Lot(code.strip(), match["programme"].upper(), int(match["year"]))


def is_programme_lot(dispositif: SessionDispositif) -> bool:
    """A dispositif of the regional programme carrying a lot code."""
    base = dispositif.dispositif
    return base is not None and base.programme_regional and bool((dispositif.numero_lot_cr or "").strip())


def _lots(session: SessionFormation) -> list[tuple[SessionDispositif, Lot | None]]:
    return [(d, parse_lot(d.numero_lot_cr)) for d in session.dispositifs if is_programme_lot(d)]


@rule("session")
def lot_year(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """A programme session starts in the year of its lot."""
    if session.date_debut is None:
        return
    for dispositif, lot in _lots(session):
        if lot is not None and session.date_debut.year != lot.year:
            yield problem(
                session,
                "programme.lot_year",
                "date_debut",
                f"Date début : les sessions du lot {lot.code} ({dispositif.dispositif.label}) doivent débuter en "
                f"{lot.year} ; la date saisie est le {fr_date(session.date_debut)}.",
            )


@rule("session")
def informations_collectives(session: SessionFormation, ctx: Context) -> Iterator[Problem]:
    """A programme session has at least one information collective."""
    if _lots(session) and not session.informations_collectives:
        yield problem(
            session,
            "programme.informations_collectives.required",
            "informations_collectives",
            "Informations collectives : la saisie est obligatoire pour les formations du programme régional "
            "(elle alimente Kairos, Ouiform et les sites régionaux).",
        )


@rule("dispositif")
def prise_en_charge_frais(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """The programme dispositif takes charge of the frais pédagogiques."""
    if is_programme_lot(dispositif) and not dispositif.prise_en_charge_frais:
        yield problem(
            dispositif,
            "programme.prise_en_charge_frais.required",
            "prise_en_charge_frais",
            "Prise en charge des frais pédagogiques : doit être « oui » pour une formation du programme régional.",
        )


@rule("dispositif")
def numero_lot(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """A lot code of an unexpected shape: its year cannot be checked (warning)."""
    if is_programme_lot(dispositif) and parse_lot(dispositif.numero_lot_cr) is None:
        yield problem(
            dispositif,
            "programme.numero_lot_cr.format",
            "numero_lot_cr",
            f"Numéro lot CR : « {dispositif.numero_lot_cr} » n'a pas la forme attendue (par exemple PAS2025_4) ; "
            "l'année du lot ne peut pas être contrôlée.",
            blocking=False,
        )
