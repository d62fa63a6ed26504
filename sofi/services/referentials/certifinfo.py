"""Import of the Certif Info open-data CSV (``;``-separated, UTF-8, one row per entry)."""

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from models import CertifInfo, Formacode, db
from sofi.services.errors import ImportFileError
from sofi.services.referentials.limits import check_lengths
from sofi.services.referentials.progress import Progress, counting_text, no_progress
from sofi.services.tabular import csv_problem, formula_problem, looks_like_formula
from sofi.text import search_key

REQUIRED_COLUMNS = {
    "Code_Diplome",
    "Libelle_Diplome",
    "Libelle_Type_Diplome",
    "Code_Niveau_Europeen",
    "Date_MaJ",
    "Code_FormaCode",
    "Libelle_FormaCode",
    "Code_Nsf",
    "Code_RNCP",
    "Code_RS",
    "certificateur",
    "Etat_Libelle",
}
ROME_COLUMNS = [f"Code_Rome_{n}" for n in range(1, 6)]
TEXT_COLUMNS = ("Libelle_Diplome", "Libelle_Type_Diplome", "Libelle_FormaCode", "certificateur", "Etat_Libelle")
BATCH_SIZE = 1000


@dataclass
class CertifInfoImportSummary:
    created: int = 0
    updated: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _parse_row(row: dict, line: int) -> dict:
    code = _clean(row["Code_Diplome"])
    if code is None or not (code.isascii() and code.isdigit()):
        raise ImportFileError(f"Ligne {line} : le code Certif Info « {code or ''} » n'est pas un nombre.")
    if len(code.lstrip("0")) > 9:  # an integer column
        raise ImportFileError(f"Ligne {line} : le code Certif Info « {code} » est trop long (9 chiffres au plus).")
    intitule = _clean(row["Libelle_Diplome"])
    if intitule is None:
        raise ImportFileError(f"Ligne {line} : l'intitulé (Libelle_Diplome) est vide.")
    updated_on = _clean(row["Date_MaJ"])
    if updated_on:
        try:
            updated_on = datetime.strptime(updated_on, "%d/%m/%Y").date()
        except ValueError as error:
            raise ImportFileError(f"Ligne {line} : la date « {updated_on} » n'est pas au format JJ/MM/AAAA.") from error
    for column in TEXT_COLUMNS:
        if looks_like_formula(_clean(row[column])):
            raise ImportFileError(f"Ligne {line} : {formula_problem(column, _clean(row[column]))}.")
    values = {
        "code": int(code),
        "intitule": intitule[:500],
        "type_libelle": _clean(row["Libelle_Type_Diplome"]),
        "niveau_europeen": _clean(row["Code_Niveau_Europeen"]),
        "formacode_code": _clean(row["Code_FormaCode"]),
        "formacode_label": _clean(row["Libelle_FormaCode"]),
        "nsf_code": _clean(row["Code_Nsf"]),
        "rome_codes": [rome for column in ROME_COLUMNS if (rome := _clean(row.get(column)))],
        "rncp_code": _clean(row["Code_RNCP"]),
        "rs_code": _clean(row["Code_RS"]),
        "certificateur": (_clean(row["certificateur"]) or "")[:500] or None,
        "etat": _clean(row["Etat_Libelle"]),
        "updated_on": updated_on,
        "search_text": search_key(
            code,
            intitule,
            row["Code_RNCP"] and f"RNCP{row['Code_RNCP']}",
            row["Code_RS"] and f"RS{row['Code_RS']}",
            row["certificateur"],
        ),
    }
    check_lengths(CertifInfo, values, f"Ligne {line}")
    return values


def _rows(path: Path, progress: Progress):
    try:
        with path.open("rb") as raw:
            text = counting_text(raw, progress, "utf-8-sig")
            reader = csv.DictReader(text, delimiter=";")
            missing = REQUIRED_COLUMNS - set(reader.fieldnames or [])
            if missing:
                raise ImportFileError(
                    "Ce fichier n'est pas un export Certif Info : colonnes manquantes "
                    + ", ".join(sorted(missing))
                    + "."
                )
            for row in reader:
                yield _parse_row(row, reader.line_num)
    except UnicodeDecodeError as error:
        raise ImportFileError("Le fichier n'est pas encodé en UTF-8.") from error
    except csv.Error as error:
        raise ImportFileError(csv_problem(error, reader.line_num)) from error
    except OSError as error:
        raise ImportFileError(f"Impossible de lire le fichier « {path} » : {error.strerror}.") from error


def import_certifinfo(path: Path, progress: Progress = no_progress, commit: bool = True) -> CertifInfoImportSummary:
    """Create or update Certif Info entries from the CSV; all or nothing."""
    summary = CertifInfoImportSummary()
    try:
        known_formacodes = set(db.session.scalars(sa.select(Formacode.code)))
        batch: list[dict] = []

        def flush(batch: list[dict]) -> None:
            existing = {
                entry.code: entry
                for entry in db.session.scalars(
                    sa.select(CertifInfo).where(CertifInfo.code.in_([row["code"] for row in batch]))
                )
            }
            for row in batch:
                entry = existing.get(row["code"])
                if entry is None:
                    entry = CertifInfo(code=row["code"])
                    db.session.add(entry)
                    existing[row["code"]] = entry
                    summary.created += 1
                else:
                    summary.updated += 1
                for key, value in row.items():
                    setattr(entry, key, value)
                code, label = row["formacode_code"], row["formacode_label"]
                if code and label and len(code) == 5 and code not in known_formacodes:
                    db.session.add(
                        Formacode(
                            code=code, label=label[:255], version="CERTIFINFO", search_text=search_key(code, label)
                        )
                    )
                    known_formacodes.add(code)
            db.session.flush()

        for row in _rows(Path(path), progress):
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
        if summary.rows == 0:
            raise ImportFileError("Le fichier ne contient aucune ligne de données.")
        if commit:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return summary
