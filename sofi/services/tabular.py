"""Checks shared by the importers of tabular files (CSV, XLSX), with French messages.

Spreadsheet formulas hidden in cells (CSV injection) are refused at the door: exports
neutralise them too, refusing them on import keeps them out of the data entirely.
"""

import csv
import re

SIGNED_NUMBER = re.compile(r"[+-][\d\s.,()/]*")


def looks_like_formula(value: str | None) -> bool:
    """A cell a spreadsheet would evaluate (``=…``, ``@…``, ``+cmd…``); a signed number is not one."""
    if not value or value[0] not in "=+-@\t\r":
        return False
    return not (value[0] in "+-" and SIGNED_NUMBER.fullmatch(value))


def formula_problem(column: str, value: str) -> str:
    return f"la colonne {column} commence par « {value[0]} » comme une formule de tableur : valeur refusée"


def csv_problem(error: csv.Error, line: int) -> str:
    """French wording of a :mod:`csv` error (its own message is in English)."""
    if "field larger than field limit" in str(error):
        detail = f"un champ dépasse {csv.field_size_limit()} caractères (guillemet jamais refermé ?)"
    else:
        detail = "guillemets ou séparateurs incorrects"
    return f"Le fichier CSV est mal formé (ligne {line}) : {detail}."
