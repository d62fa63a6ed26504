"""Model-level validation: the checks the seeds impose on every write, whatever its origin.

Validators raise :class:`ModelValidationError`, which names the field and carries a French
message suitable for showing next to that field. The database carries the same rules as
CHECK constraints where SQL can express them, so that a bulk insert cannot bypass them.
"""

import re

from stdnum.fr import siret as stdnum_siret

from models.codelists import codelist


class ModelValidationError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field} : {message}")
        self.field = field
        self.message = message


def check_siret(field: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    value = re.sub(r"\s", "", value)
    if not re.fullmatch(r"\d{14}", value):
        raise ModelValidationError(field, "le SIRET doit comporter exactement 14 chiffres.")
    if not stdnum_siret.is_valid(value):
        raise ModelValidationError(field, "ce SIRET n'est pas valide (clé de contrôle erronée).")
    return value


def check_nda(field: str, value: str | None) -> str | None:
    """Numéro de déclaration d'activité: 11 characters, digits and possibly a letter."""
    if value is None or value == "":
        return None
    value = value.strip().upper()
    if not re.fullmatch(r"[0-9A-Z]{11}", value):
        raise ModelValidationError(
            field, "le numéro de déclaration d'activité doit comporter 11 caractères (chiffres ou lettres)."
        )
    return value


def check_length(field: str, value: str | None, maximum: int, label: str) -> str | None:
    if value is not None and len(value) > maximum:
        raise ModelValidationError(field, f"{label} est limité à {maximum} caractères ({len(value)} saisis).")
    return value


def check_code(field: str, value: str | None, list_name: str, label: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in codelist(list_name):
        raise ModelValidationError(field, f"« {value} » n'est pas une valeur autorisée pour {label}.")
    return value


def check_codes(field: str, values, list_name: str, label: str) -> list[str]:
    values = list(values or [])
    for value in values:
        check_code(field, value, list_name, label)
    if len(set(values)) != len(values):
        raise ModelValidationError(field, f"{label} contient des valeurs en double.")
    return values


def check_min(field: str, value, minimum, label: str):
    if value is not None and value < minimum:
        raise ModelValidationError(field, f"{label} doit être au moins {minimum}.")
    return value


def check_url(field: str, value: str | None, label: str) -> str | None:
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    check_length(field, value, 400, label)
    if not re.match(r"^https?://[^\s/$.?#].[^\s]*$", value, re.IGNORECASE):
        raise ModelValidationError(field, f"{label} doit être une adresse web commençant par http:// ou https://.")
    return value
