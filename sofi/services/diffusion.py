"""Diffusion of the published offer: LHÉO 2.3 exports and the daily cycle (seed procedure 003).

The daily cycle (``flask sofi diffuse``, scheduled by cron or a systemd timer, see README):

1. automatic archiving (``sofi.services.archiving``), so that ended offer leaves the flows;
2. a full LHÉO 2.3 export of the published offer;
3. an incremental export: the formations with a change published since the previous cycle
   (the ``genere_le`` of the previous manifest; 24 hours when there is none). LHÉO has no
   deletion: consumers detect removals with the full file;
4. a manifest (date, counts, size and sha256 of each file), ``manifest-<horodatage>.json``,
   and ``manifest.json`` pointing to the latest cycle. Previous files are never deleted.

Every file is written to a temporary name in the same directory and moved into place.
"""

import contextlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from exporters.lheo.files import WrittenFile, replaced_atomically, write_file
from exporters.lheo.parts import PARALLEL_MIN_ACTIONS, PartFailed
from exporters.lheo.reader import inspect
from models import ModelValidationError, Organisation, db
from models.validation import check_siret
from sofi.config import int_setting
from sofi.services.archiving import archive_expired
from sofi.services.errors import DomainError

LATEST = "manifest.json"
CYCLE_FILES = (("lheo-complet", "xml"), ("lheo-increment", "xml"), ("manifest", "json"))
DEFAULT_WINDOW = timedelta(days=1)


def parse_day(value: str | None) -> date | None:
    """``AAAA-MM-JJ`` (or ``JJ/MM/AAAA``) → date; None stays None (today)."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d"):
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise DomainError(f"Date « {value} » invalide : attendu AAAA-MM-JJ (par exemple 2026-11-23).")


def parse_since(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time → aware UTC datetime (naive values are taken as UTC)."""
    if not value:
        return None
    text = value.strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise DomainError(
            f"Date « {value} » invalide : attendu une date ISO 8601 (2026-11-20 ou 2026-11-20T08:00:00+01:00)."
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_siret_option(value: str | None) -> str | None:
    if not value:
        return None
    try:
        siret = check_siret("siret", value)
    except ModelValidationError as error:
        raise DomainError(f"SIRET « {value} » : {error.message}") from error
    if db.session.scalar(sa.select(Organisation.id).where(Organisation.siret == siret)) is None:
        raise DomainError(f"Aucun établissement n'a le SIRET {siret}.")
    return siret


def export_lheo(output: Path | str, since: datetime | None = None, siret: str | None = None) -> WrittenFile:
    """Write the published offer (all of it, or what changed since ``since``) to ``output``."""
    path = Path(output)
    if path.is_dir():
        raise DomainError(f"« {output} » est un répertoire : indiquez le fichier à écrire.")
    if not path.parent.exists():
        raise DomainError(f"Le répertoire « {path.parent} » n'existe pas.")
    try:
        return write_file(path, since=since, siret=siret, parallel_min_actions=_parallel_min_actions())
    except PartFailed as error:  # the other process's failure, in French (else a traceback ends the command)
        raise DomainError(str(error)) from error
    except OSError as error:
        raise DomainError(f"Écriture de « {output} » impossible : {error.strerror}.") from error
    finally:
        db.session.rollback()  # read-only: end the (long) read transaction


def _parallel_min_actions() -> int:
    """From how many published actions a full export on PostgreSQL is written by two processes
    (``exporters.lheo.parts``): ``SOFI_LHEO_EXPORT_PARALLEL_ACTIONS`` (20,000)."""
    return int_setting("SOFI_LHEO_EXPORT_PARALLEL_ACTIONS", PARALLEL_MIN_ACTIONS)


def validate_export(path: Path | str) -> tuple[list, int]:
    """Schema errors of a written export (streamed, formation by formation), with their record."""
    info = inspect(path, max_bytes=1 << 62)
    return info.errors, info.error_count


def _write_json(path: Path, data: dict) -> None:
    with replaced_atomically(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def previous_manifest(directory: Path) -> dict | None:
    try:
        return json.loads((directory / LATEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _describe(kind: str, written: WrittenFile, since: datetime | None = None) -> dict:
    return {
        "type": kind,
        "fichier": written.path.name,
        "depuis": since.isoformat() if since else None,
        **written.stats.as_dict(),
        "octets": written.size,
        "sha256": written.sha256,
    }


def diffuse(output_dir: Path | str, today: date | None = None, now: datetime | None = None) -> dict:
    """Run the daily cycle in ``output_dir``; returns the manifest written."""
    directory = Path(output_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DomainError(f"Répertoire « {output_dir} » inutilisable : {error.strerror}.") from error
    now = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if (directory / f"manifest-{stamp}.json").exists():  # two cycles in the same second keep both
        stamp += f"-{sum(1 for _ in directory.glob(f'manifest-{stamp}*.json')) + 1}"
    archiving = archive_expired(today)
    previous = previous_manifest(directory)
    since = now - DEFAULT_WINDOW
    if previous and previous.get("genere_le"):
        with contextlib.suppress(ValueError):
            since = datetime.fromisoformat(previous["genere_le"])
    cycle_files = [directory / f"{prefix}-{stamp}.{suffix}" for prefix, suffix in CYCLE_FILES]
    try:
        return _write_cycle(directory, stamp, today, now, archiving, previous, since)
    except BaseException:
        # a cycle is published whole or not at all: no file of an interrupted cycle stays beside the previous ones
        for path in cycle_files:
            path.unlink(missing_ok=True)
        raise


def _write_cycle(directory: Path, stamp: str, today, now: datetime, archiving, previous, since) -> dict:
    full = export_lheo(directory / f"lheo-complet-{stamp}.xml")
    increment = export_lheo(directory / f"lheo-increment-{stamp}.xml", since=since)
    increment_entry = _describe("incrémental", increment, since)
    if increment.stats.formations == 0:
        # LHÉO requires at least one formation: an empty increment is not written
        increment.path.unlink(missing_ok=True)
        increment_entry.update(fichier=None, octets=0, sha256=None, remarque="aucune formation modifiée")
    name = f"manifest-{stamp}.json"
    manifest = {
        "format": "LHÉO 2.3",
        "genere_le": now.isoformat(),
        "date": (today or now.date()).isoformat(),
        "archivage": {
            "date_reference": archiving.today.isoformat(),
            "archivees": len(archiving.archived),
            "actions": [action_id for action_id, _ in archiving.archived],
        },
        "fichiers": [_describe("complet", full), increment_entry],
        "manifeste_precedent": previous.get("manifeste") if previous else None,
        "manifeste": name,
    }
    _write_json(directory / name, manifest)
    _write_json(directory / LATEST, manifest)
    return manifest
