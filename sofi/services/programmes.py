"""The Region's programme (seed 002): yearly file import, templates, "Formations publiques > Créer",
and the Region's consent on changes to published programme actions.

- :func:`import_programme_file` reads the Region's extraction (CSV or XLSX, format in
  ``docs/programme-file.md``), checks every line first, then creates or updates programmes,
  lots, organisations and the lots' mandataires/formateurs in one transaction (or rolls
  everything back for a dry run). A file with a bad line writes nothing.
- :func:`create_from_lot` creates the formation and the action of a programme action, pre-filled
  from the programme's :class:`ProgrammeTemplate`, through ``sofi.services.offer``; the session
  and dispositif forms are then pre-filled by :func:`session_defaults` and :func:`dispositif_defaults`.
- :func:`region_consent` records the Region's agreement on a revision of a published programme
  action; ``sofi.services.workflow.approve`` refuses while :func:`region_consent_pending`.
"""

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from models import (
    Action,
    ActionStatus,
    Dispositif,
    Formacode,
    Formation,
    Lot,
    LotOrganisation,
    LotRole,
    ModelValidationError,
    Organisation,
    Programme,
    ProgrammeAction,
    ProgrammeTemplate,
    Public,
    PublishedAction,
    RegionConsent,
    Role,
    SessionDispositif,
    SessionFormation,
    Site,
    User,
    db,
)
from models.programmes import programme_actions_clause
from models.validation import check_siret
from sofi import audit, permissions
from sofi.rules.programme import parse_lot
from sofi.services import offer
from sofi.services.errors import DomainError, ImportFileError
from sofi.services.tabular import csv_problem, formula_problem, looks_like_formula

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TEMPLATES_FILE = DATA_DIR / "programme-templates.json"
EXAMPLE_CSV = DATA_DIR / "programme-region-exemple.csv"
EXAMPLE_XLSX = DATA_DIR / "programme-region-exemple.xlsx"

# The columns of the Region's file, in order (see docs/programme-file.md).
COLUMNS = [
    "programme_code",
    "programme",
    "lot",
    "intitule_lot",
    "annee",
    "places_commandees",
    "bon_commande",
    "semestre_bon_commande",
    "id_action_cr",
    "role",
    "siret",
    "raison_sociale",
    "code_of_cr",
]
REQUIRED = {
    "programme_code": "le code du programme",
    "programme": "l'intitulé du programme",
    "lot": "le code du lot",
    "intitule_lot": "l'intitulé du lot",
    "annee": "l'année",
    "places_commandees": "le nombre de places commandées",
    "role": "le rôle (mandataire ou formateur)",
    "siret": "le SIRET",
    "raison_sociale": "la raison sociale",
}
LOT_FIELDS = (
    "programme_code",
    "intitule_lot",
    "annee",
    "places_commandees",
    "bon_commande",
    "semestre",
    "id_action_cr",
)
LOT_FIELD_LABELS = {
    "programme_code": "le programme",
    "intitule_lot": "l'intitulé",
    "annee": "l'année",
    "places_commandees": "le nombre de places commandées",
    "bon_commande": "le bon de commande",
    "semestre": "le semestre du bon de commande",
    "id_action_cr": "l'ID action CR",
}
MAX_ERRORS_SHOWN = 50
MAX_XLSX_INFLATED = 50 * 1024 * 1024  # the yearly file is a few hundred lines: far below


# --- reading the file ----------------------------------------------------------------------


class ProgrammeFileError(ImportFileError):
    """The Region's file has bad lines: nothing was written; ``problems`` lists them by line."""

    def __init__(self, problems: list[str]):
        shown = problems[:MAX_ERRORS_SHOWN]
        more = f"\n… et {len(problems) - len(shown)} autre(s) erreur(s)." if len(problems) > len(shown) else ""
        super().__init__(
            f"Fichier refusé, rien n'a été importé ({len(problems)} erreur(s)) :\n" + "\n".join(shown) + more
        )
        self.problems = problems


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows_from_csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")
        except UnicodeDecodeError as error:
            raise ImportFileError(
                "Le fichier n'est pas un texte CSV : ses octets ne sont ni de l'UTF-8 ni du Windows-1252."
            ) from error
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[_cell(value) for value in row] for row in reader]
    except csv.Error as error:
        raise ImportFileError(csv_problem(error, reader.line_num)) from error


def _check_xlsx_size(content: bytes) -> None:
    """Refuse a zip bomb before openpyxl inflates it: the sizes announced by the archive are bounded."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise ImportFileError("Le fichier XLSX n'a pas pu être lu (fichier endommagé ou d'un autre format).") from error
    if inflated > MAX_XLSX_INFLATED:
        raise ImportFileError(
            f"Le fichier XLSX décompressé ferait {inflated / 1048576:.0f} Mo : la limite est de "
            f"{MAX_XLSX_INFLATED / 1048576:.0f} Mo. Rien n'a été importé."
        )


def _rows_from_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    _check_xlsx_size(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds of errors on a damaged file
        raise ImportFileError("Le fichier XLSX n'a pas pu être lu (fichier endommagé ou d'un autre format).") from error
    try:
        return _sheet_rows(workbook)
    except Exception as error:  # a damaged sheet only shows while its rows are read
        raise ImportFileError("La feuille du fichier XLSX n'a pas pu être lue (fichier endommagé).") from error
    finally:
        workbook.close()


def _sheet_rows(workbook) -> list[list[str]]:
    rows = []
    for values in workbook.worksheets[0].iter_rows(values_only=True):
        row = []
        for value in values:
            if isinstance(value, int) and not isinstance(value, bool):
                row.append(str(value))
            else:
                row.append(_cell(value))
        rows.append(row)
    return rows


def read_rows(content: bytes, filename: str) -> list[tuple[int, dict]]:
    """``(line number, {column: value})`` for each non-empty line after the header (line 1)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        rows = _rows_from_xlsx(content)
    elif name.endswith(".csv") or name.endswith(".txt"):
        rows = _rows_from_csv(content)
    else:
        raise ImportFileError("Format de fichier non reconnu : le fichier doit être un .csv ou un .xlsx.")
    if not rows:
        raise ImportFileError("Le fichier est vide : la première ligne doit porter les noms des colonnes.")
    header = [value.strip().lower() for value in rows[0]]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            "Ligne 1 : colonne(s) manquante(s) : " + ", ".join(missing) + ". Colonnes attendues : " + ", ".join(COLUMNS)
        )
    unknown = [column for column in header if column and column not in COLUMNS]
    if unknown:
        raise ImportFileError("Ligne 1 : colonne(s) inconnue(s) : " + ", ".join(unknown) + ".")
    positions = {column: header.index(column) for column in COLUMNS}
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(value for value in row):
            continue
        lines.append((number, {c: (row[i] if i < len(row) else "") for c, i in positions.items()}))
    if not lines:
        raise ImportFileError("Le fichier ne contient aucune ligne de données.")
    return lines


# --- checking the lines ----------------------------------------------------------------------


@dataclass
class FileLine:
    number: int
    programme_code: str
    programme: str
    lot: str
    intitule_lot: str
    annee: int
    places_commandees: int
    bon_commande: str | None
    semestre: int | None
    id_action_cr: str | None
    role: LotRole
    siret: str
    raison_sociale: str
    code_of_cr: str | None


def _integer(value: str, label: str, minimum: int, maximum: int) -> int:
    if not (value.isascii() and value.isdigit()) or not minimum <= int(value) <= maximum:
        raise ValueError(f"{label} « {value} » doit être un nombre entier entre {minimum} et {maximum}")
    return int(value)


def _check_line(number: int, raw: dict) -> tuple[FileLine | None, list[str]]:
    problems = []

    def fail(message: str) -> None:
        problems.append(f"Ligne {number} : {message}.")

    for column, label in REQUIRED.items():
        if not raw[column]:
            fail(f"{label} est obligatoire (colonne {column})")
    if problems:
        return None, problems
    values = {}
    for column, label, minimum, maximum in (
        ("annee", "l'année", 2000, 2100),
        ("places_commandees", "le nombre de places commandées", 1, 100000),
    ):
        try:
            values[column] = _integer(raw[column], label, minimum, maximum)
        except ValueError as error:
            fail(str(error))
    semestre = raw["semestre_bon_commande"]
    if semestre and semestre not in ("1", "2"):
        fail(f"le semestre du bon de commande « {semestre} » doit être 1 ou 2")
    role = raw["role"].lower()
    if role not in {r.value for r in LotRole}:
        fail(f"le rôle « {raw['role']} » doit être « mandataire » ou « formateur »")
    try:
        siret = check_siret("siret", raw["siret"])
    except ModelValidationError as error:
        fail(f"SIRET « {raw['siret']} » : {error.message.rstrip('.')}")
        siret = None
    for column, limit in (
        ("programme_code", 20),
        ("programme", 255),
        ("lot", 30),
        ("intitule_lot", 255),
        ("bon_commande", 50),
        ("id_action_cr", 30),
        ("raison_sociale", 255),
        ("code_of_cr", 30),
    ):
        if len(raw[column]) > limit:
            fail(f"la colonne {column} est limitée à {limit} caractères ({len(raw[column])} saisis)")
        elif looks_like_formula(raw[column]):
            fail(formula_problem(column, raw[column]))
    parsed = parse_lot(raw["lot"])
    if parsed is not None and "annee" in values and parsed.year != values["annee"]:
        fail(f"le lot {raw['lot']} porte l'année {parsed.year} mais la colonne annee indique {values['annee']}")
    if problems:
        return None, problems
    return (
        FileLine(
            number=number,
            programme_code=raw["programme_code"].upper(),
            programme=raw["programme"],
            lot=raw["lot"],
            intitule_lot=raw["intitule_lot"],
            annee=values["annee"],
            places_commandees=values["places_commandees"],
            bon_commande=raw["bon_commande"] or None,
            semestre=int(semestre) if semestre else None,
            id_action_cr=raw["id_action_cr"] or None,
            role=LotRole(role),
            siret=siret,
            raison_sociale=raw["raison_sociale"],
            code_of_cr=raw["code_of_cr"] or None,
        ),
        [],
    )


def check_lines(rows: list[tuple[int, dict]]) -> list[FileLine]:
    """Every line checked alone, then against the others; raises :class:`ProgrammeFileError`."""
    problems: list[str] = []
    lines: list[FileLine] = []
    bad_lots: set[str] = set()  # lots with a bad line: not checked as a whole (the bad line says it all)
    for number, raw in rows:
        line, found = _check_line(number, raw)
        problems += found
        if line is not None:
            lines.append(line)
        else:
            bad_lots.add(raw["lot"])
    programmes: dict[str, FileLine] = {}
    lots: dict[str, FileLine] = {}
    seen: dict[tuple[str, str, LotRole], int] = {}
    for line in lines:
        first = programmes.setdefault(line.programme_code, line)
        if first.programme != line.programme:
            problems.append(
                f"Ligne {line.number} : le programme {line.programme_code} s'intitule « {line.programme} » "
                f"mais « {first.programme} » à la ligne {first.number}."
            )
        first = lots.setdefault(line.lot, line)
        for name in LOT_FIELDS:
            if getattr(first, name) != getattr(line, name):
                problems.append(
                    f"Ligne {line.number} : {LOT_FIELD_LABELS[name]} du lot {line.lot} "
                    f"(« {getattr(line, name) or ''} ») diffère de la ligne {first.number} "
                    f"(« {getattr(first, name) or ''} »)."
                )
        key = (line.lot, line.siret, line.role)
        if key in seen:
            problems.append(
                f"Ligne {line.number} : le SIRET {line.siret} est déjà {line.role.value} du lot {line.lot} "
                f"(ligne {seen[key]})."
            )
        seen.setdefault(key, line.number)
    for code, first in lots.items():
        if code not in bad_lots and not any(line.lot == code and line.role is LotRole.MANDATAIRE for line in lines):
            problems.append(f"Ligne {first.number} : le lot {code} n'a aucune ligne « mandataire ».")
    if problems:
        raise ProgrammeFileError(sorted(problems, key=_line_number))
    return lines


def _line_number(message: str) -> int:
    try:
        return int(message.split(" ", 2)[1])
    except (IndexError, ValueError):
        return 0


# --- applying the file -----------------------------------------------------------------------


@dataclass
class LineReport:
    number: int
    lot: str
    siret: str
    role: str
    changes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "; ".join(self.changes) if self.changes else "inchangé"


@dataclass
class ImportReport:
    dry_run: bool = False
    lines: list[LineReport] = field(default_factory=list)
    programmes_created: int = 0
    programmes_updated: int = 0
    templates_created: int = 0
    lots_created: int = 0
    lots_updated: int = 0
    organisations_created: int = 0
    links_added: int = 0
    links_updated: int = 0
    links_removed: int = 0
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.programmes_created,
                self.programmes_updated,
                self.templates_created,
                self.lots_created,
                self.lots_updated,
                self.organisations_created,
                self.links_added,
                self.links_updated,
                self.links_removed,
            )
        )

    @property
    def summary(self) -> str:
        verb = "Simulation (rien n'a été enregistré)" if self.dry_run else "Import terminé"
        return (
            f"{verb} : {len(self.lines)} ligne(s) lue(s) ; programmes : {self.programmes_created} créé(s), "
            f"{self.programmes_updated} modifié(s) ; modèles livrés ajoutés : {self.templates_created} ; "
            f"lots : {self.lots_created} créé(s), {self.lots_updated} modifié(s) ; organismes créés : "
            f"{self.organisations_created} ; mandataires/formateurs : {self.links_added} ajouté(s), "
            f"{self.links_updated} modifié(s), {self.links_removed} retiré(s)."
        )


def _require_administrator(user: User | None) -> None:
    if user is not None and not permissions.is_administrator(user):
        raise DomainError("Seuls les administrateurs du Cariforef peuvent importer le fichier de la Région.")


def import_programme_file(content: bytes, filename: str, *, dry_run: bool = False, user: User | None = None):
    """Import the Region's file (``user`` None: a command). All or nothing; returns an :class:`ImportReport`."""
    _require_administrator(user)
    report, first_programme = apply_programme_file(content, filename, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        return report
    if report.changed:
        audit.note("import-programme", first_programme, report.summary)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        raise ImportFileError("Fichier refusé, rien n'a été importé : données incohérentes avec la base.") from error
    return report


def apply_programme_file(content: bytes, filename: str, *, dry_run: bool = False) -> tuple[ImportReport, Programme]:
    """Check the whole file, then write it in the current transaction (flushed, not committed)."""
    lines = check_lines(read_rows(content, filename))
    report = ImportReport(dry_run=dry_run)
    try:
        with db.session.no_autoflush:
            first_programme = _apply(lines, report)
        db.session.flush()
    except ModelValidationError as error:
        db.session.rollback()
        raise ImportFileError(f"Fichier refusé, rien n'a été importé : {error.message}") from error
    except Exception:
        db.session.rollback()
        raise
    return report, first_programme


def _apply(lines: list[FileLine], report: ImportReport) -> Programme:
    """Create or update everything the lines describe; returns the first line's programme (for the audit note)."""
    programmes = {p.code: p for p in db.session.scalars(sa.select(Programme))}
    lot_codes = {line.lot for line in lines}
    lots = {
        lot.code: lot
        for lot in db.session.scalars(
            sa.select(Lot).where(Lot.code.in_(lot_codes)).options(selectinload(Lot.organisations))
        )
    }
    sirets = {line.siret for line in lines}
    organisations = {
        o.siret: o for o in db.session.scalars(sa.select(Organisation).where(Organisation.siret.in_(sirets)))
    }
    done_programmes: set[str] = set()
    done_lots: set[str] = set()
    wanted: dict[str, dict[tuple[int, LotRole], str | None]] = {}
    line_reports: dict[int, LineReport] = {}
    for line in lines:
        entry = LineReport(line.number, line.lot, line.siret, line.role.value)
        line_reports[line.number] = entry
        report.lines.append(entry)
        # Programme
        programme = programmes.get(line.programme_code)
        if programme is None:
            programme = Programme(code=line.programme_code, intitule=line.programme)
            db.session.add(programme)
            programmes[line.programme_code] = programme
            report.programmes_created += 1
            entry.changes.append(f"programme {line.programme_code} créé")
            if _add_shipped_template(programme):
                report.templates_created += 1
                entry.changes.append("modèle du programme livré ajouté")
        elif line.programme_code not in done_programmes and programme.intitule != line.programme:
            programme.intitule = line.programme
            report.programmes_updated += 1
            entry.changes.append(f"programme {line.programme_code} renommé")
        done_programmes.add(line.programme_code)
        # Organisation (matched by SIRET; an existing one keeps its own directory data)
        organisation = organisations.get(line.siret)
        if organisation is None:
            organisation = Organisation(siret=line.siret, raison_sociale=line.raison_sociale)
            db.session.add(organisation)
            organisations[line.siret] = organisation
            report.organisations_created += 1
            entry.changes.append(f"organisme {line.siret} créé")
        # Lot
        lot = lots.get(line.lot)
        values = {
            "intitule": line.intitule_lot,
            "annee": line.annee,
            "nb_places": line.places_commandees,
            "bon_commande": line.bon_commande,
            "semestre": line.semestre,
            "id_action_cr": line.id_action_cr,
        }
        if lot is None:
            lot = Lot(code=line.lot, programme=programme, **values)
            db.session.add(lot)
            lots[line.lot] = lot
            report.lots_created += 1
            entry.changes.append(f"lot {line.lot} créé")
        elif line.lot not in done_lots:
            changed = [name for name, value in values.items() if getattr(lot, name) != value]
            if lot.programme is not programme:
                changed.append("programme")
                lot.programme = programme
            for name in changed:
                if name != "programme":
                    setattr(lot, name, values[name])
            if changed:
                report.lots_updated += 1
                entry.changes.append(f"lot {line.lot} modifié ({', '.join(changed)})")
        done_lots.add(line.lot)
        wanted.setdefault(line.lot, {})[(id(organisation), line.role)] = line
    # Mandataires and formateurs of each lot of the file: exactly those of the file.
    for code, links in wanted.items():
        lot = lots[code]
        existing = {(id(link.organisation), link.role): link for link in lot.organisations}
        for key, line in links.items():
            entry = line_reports[line.number]
            organisation = organisations[line.siret]
            link = existing.get(key)
            if link is None:
                lot.organisations.append(
                    LotOrganisation(organisation=organisation, role=line.role, code_cr=line.code_of_cr)
                )
                report.links_added += 1
                entry.changes.append(f"{line.role.label.lower()} ajouté au lot")
            elif link.code_cr != line.code_of_cr:
                link.code_cr = line.code_of_cr
                report.links_updated += 1
                entry.changes.append(f"code OF CR modifié ({line.code_of_cr or 'vide'})")
        for key, link in existing.items():
            if key not in links:
                lot.organisations.remove(link)
                db.session.delete(link)  # explicitly, so that the audit log records it
                report.links_removed += 1
                report.removed.append(
                    f"Lot {code} : {link.organisation.siret} ({link.organisation.raison_sociale}) n'est plus "
                    f"{link.role.value}."
                )
    return programmes[lines[0].programme_code]


# --- demo --------------------------------------------------------------------------------------


def load_demo_programme() -> ImportReport:
    """The demo's regional programme: the shipped example file, and the demo actions of its lots linked.

    Runs inside the demo's transaction (nothing is committed here); idempotent.
    """
    report, _ = apply_programme_file(EXAMPLE_CSV.read_bytes(), EXAMPLE_CSV.name)
    ensure_shipped_templates()
    lots = {lot.code: lot for lot in db.session.scalars(sa.select(Lot))}
    linked = set(db.session.scalars(sa.select(ProgrammeAction.action_id)))
    for dispositif in db.session.scalars(
        sa.select(SessionDispositif).where(SessionDispositif.numero_lot_cr.in_(list(lots)))
    ):
        action = dispositif.session.action
        lot = lots[dispositif.numero_lot_cr]
        if action.id in linked or not lot.mandataires:
            continue
        responsable = dispositif.session.organisme_responsable
        mandataire = responsable if responsable in lot.mandataires else lot.mandataires[0]
        db.session.add(ProgrammeAction(action=action, lot=lot, mandataire=mandataire))
        linked.add(action.id)
    db.session.flush()
    return report


# --- templates -------------------------------------------------------------------------------


def shipped_templates() -> dict[str, dict]:
    return json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))


def _add_shipped_template(programme: Programme) -> bool:
    data = shipped_templates().get(programme.code)
    if data is None or programme.template is not None:
        return False
    programme.template = ProgrammeTemplate(**data)
    return True


def ensure_shipped_templates() -> int:
    """Give the programmes that have none the template shipped for their code; the caller commits."""
    added = 0
    for programme in db.session.scalars(sa.select(Programme).options(selectinload(Programme.template))):
        if programme.template is None and _add_shipped_template(programme):
            added += 1
    return added


def save_template(user: User, template: ProgrammeTemplate) -> None:
    """An administrator creates or changes a programme's template."""
    if not permissions.is_administrator(user):
        db.session.rollback()
        raise DomainError("Seuls les administrateurs du Cariforef peuvent modifier les modèles de programme.")
    codes = set(template.formacodes or [])
    unknown = sorted(codes - set(db.session.scalars(sa.select(Formacode.code).where(Formacode.code.in_(codes)))))
    if unknown:
        db.session.rollback()
        raise DomainError("Formacode(s) inconnu(s) : " + ", ".join(unknown) + ".", "formacodes")
    known_publics = set(db.session.scalars(sa.select(Public.code)))
    if set(template.publics or []) - known_publics:
        db.session.rollback()
        raise DomainError(
            "Public(s) inconnu(s) : " + ", ".join(sorted(set(template.publics) - known_publics)), "publics"
        )
    db.session.add(template)
    _commit()


def save_programme_record(user: User, record) -> None:
    """An administrator corrects a programme or a lot by hand (the yearly file is the usual way)."""
    if not permissions.is_administrator(user):
        db.session.rollback()
        raise DomainError("Seuls les administrateurs du Cariforef peuvent modifier le programme régional.")
    db.session.add(record)
    _commit()


def _commit() -> None:
    try:
        db.session.commit()
    except ModelValidationError as error:
        db.session.rollback()
        raise DomainError(error.message[:1].upper() + error.message[1:], error.field) from error
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        raise DomainError("Enregistrement impossible : une donnée est incohérente ou déjà utilisée.") from error


# --- "Formations publiques > Créer" --------------------------------------------------------------


def lots_for(user: User) -> list[Lot]:
    """The lots of active programmes where the user's current establishment is mandataire or formateur."""
    organisation = permissions.current_organisation(user)
    if organisation is None or not permissions.is_organisation_user(user):
        return []
    return list(
        db.session.scalars(
            sa.select(Lot)
            .join(Programme)
            .where(
                Programme.active,
                Lot.id.in_(sa.select(LotOrganisation.lot_id).where(LotOrganisation.organisation_id == organisation.id)),
            )
            .options(selectinload(Lot.organisations).joinedload(LotOrganisation.organisation))
            .order_by(Programme.intitule, Lot.code)
        )
    )


def lot_for(user: User, lot_id) -> Lot | None:
    """A lot the user may create from, or None (another organisation's lot, unknown id)."""
    wanted = int(lot_id) if str(lot_id).isdigit() else None
    return next((lot for lot in lots_for(user) if lot.id == wanted), None)


def create_from_lot(user: User, lot: Lot, mandataire: Organisation, site: Site) -> Action:
    """Create the formation and action of a programme action from ``lot``, pre-filled from its template.

    The organisation is the user's current establishment (a mandataire or formateur of the lot);
    the action is linked to the lot and to its mandataire (the session's organisme responsable).
    """
    organisation = permissions.current_organisation(user)
    if not permissions.is_organisation_user(user) or organisation is None:
        raise DomainError("Seuls les organismes de formation créent des formations publiques.")
    if lot_for(user, lot.id) is None:
        raise DomainError(f"Votre établissement n'est ni mandataire ni formateur du lot {lot.code}.", "lot_id")
    if mandataire not in lot.mandataires:
        raise DomainError(f"{mandataire.raison_sociale} n'est pas mandataire du lot {lot.code}.", "mandataire_id")
    if site.organisation_id != organisation.id or not site.active:
        raise DomainError("Choisissez un site de réalisation de votre établissement.", "site_id")
    template = lot.programme.template
    if template is None:
        raise DomainError(
            f"Le modèle du programme « {lot.programme.intitule} » n'est pas encore défini : contactez le Cariforef.",
            "programme_id",
        )
    with db.session.no_autoflush:
        formation = Formation(
            organisation=organisation,
            certifiante=False,
            intitule=template.intitule,
            objectif_general=template.objectif_general,
            niveau_sortie=template.niveau_sortie or None,
        )
        formation.set_formacodes(list(template.formacodes or []), template.formacode_principal or None)
        action = Action(
            formation=formation,
            organisation=organisation,
            site=site,
            complement_programme=template.complement_programme,
            objectifs=template.objectifs,
            resultats_attendus=template.resultats_attendus,
            niveau_entree=template.niveau_entree or "1",
            prerequis=list(template.prerequis or []),
            commentaire_prerequis=template.commentaire_prerequis,
            status=ActionStatus.EN_COURS_DE_SAISIE,
        )
        link = ProgrammeAction(action=action, lot=lot, mandataire=mandataire, created_by_id=user.id)
        db.session.add(link)
    offer.save(user, action)
    audit.note("programme", action, f"Action créée à partir du lot {lot.code} ({lot.programme.intitule}).")
    db.session.commit()
    return action


def programme_link(action: Action) -> ProgrammeAction | None:
    return action.programme_link


def session_defaults(action: Action) -> dict:
    """Pre-filled values of a new session of a programme action (organisme responsable = mandataire)."""
    link = programme_link(action)
    if link is None:
        return {}
    values = {"organisme_responsable_id": link.mandataire_id}
    template = link.lot.programme.template
    if template is not None:
        if template.entrees_sorties:
            values["entrees_sorties"] = template.entrees_sorties[0]
        if template.types_parcours:
            values["type_parcours"] = template.types_parcours[0]
    return values


def session_choices(action: Action) -> dict:
    """The values a programme session may take: {"organisme_responsable": [...], "entrees_sorties": [...]…}."""
    link = programme_link(action)
    if link is None:
        return {}
    choices = {"organisme_responsable": [link.mandataire]}
    template = link.lot.programme.template
    if template is not None:
        if template.entrees_sorties:
            choices["entrees_sorties"] = list(template.entrees_sorties)
        if template.types_parcours:
            choices["type_parcours"] = list(template.types_parcours)
    return choices


def dispositif_defaults(session: SessionFormation) -> SessionDispositif | None:
    """The programme dispositif of a new dispositif of a programme session, pre-filled (not saved).

    It carries the lot's external codes (Numéro lot CR, ID Action CR, OF Mandataire CR), which
    the form shows read-only; the number of places is left to the organisation (bon de commande).
    """
    link = programme_link(session.action)
    if link is None or link.lot.programme.template is None:
        return None
    template = link.lot.programme.template
    if any(d.dispositif_code == template.dispositif_code for d in session.dispositifs):
        return None
    publics = list(db.session.scalars(sa.select(Public).where(Public.code.in_(template.publics or []))))
    return SessionDispositif(
        dispositif_code=template.dispositif_code,
        dispositif=db.session.get(Dispositif, template.dispositif_code),
        publics=sorted(publics, key=lambda p: (template.publics or []).index(p.code)),
        numero_lot_cr=link.lot.code,
        id_action_cr=link.lot.id_action_cr,
        of_mandataire_cr=link.lot.mandataire_code(link.mandataire_id),
        prise_en_charge_frais=template.prise_en_charge_frais,
    )


# --- the Region's consent ----------------------------------------------------------------------


def _lot_codes_of_snapshot(data: dict | None) -> set[str]:
    return {
        (d.get("numero_lot_cr") or "").strip()
        for s in (data or {}).get("sessions", [])
        for d in s.get("dispositifs", [])
        if d.get("programme_regional") and (d.get("numero_lot_cr") or "").strip()
    }


def is_programme_action(action: Action) -> bool:
    """Created from a lot, or carrying (now or in its published version) a programme dispositif with a lot."""
    if programme_link(action) is not None:
        return True
    if any(
        d.dispositif is not None and d.dispositif.programme_regional and (d.numero_lot_cr or "").strip()
        for s in action.sessions
        for d in s.dispositifs
    ):
        return True
    published = db.session.get(PublishedAction, action.id) if action.id else None
    return published is not None and bool(_lot_codes_of_snapshot(published.data))


def requires_region_consent(action: Action) -> bool:
    """A revision of a published programme action: the Region must agree before it is approved."""
    return (
        action.id is not None and db.session.get(PublishedAction, action.id) is not None and is_programme_action(action)
    )


def region_decision(action: Action) -> RegionConsent | None:
    """The Region's latest decision on the current submission of ``action``."""
    return db.session.scalar(
        sa.select(RegionConsent)
        .where(RegionConsent.action_id == action.id, RegionConsent.submitted_at == action.submitted_at)
        .order_by(RegionConsent.at.desc(), RegionConsent.id.desc())
        .limit(1)
    )


def region_consent_pending(action: Action) -> RegionConsent | bool:
    """False when nothing waits for the Region; else True (no decision yet) or the refusal."""
    if not requires_region_consent(action):
        return False
    decision = region_decision(action)
    if decision is not None and decision.agreed:
        return False
    return decision or True


def pending_changes() -> list[Action]:
    """Revisions of published programme actions waiting for validation (the Region's list)."""
    candidates = db.session.scalars(
        sa.select(Action)
        .where(
            Action.status == ActionStatus.EN_ATTENTE_VALIDATION,
            Action.id.in_(sa.select(PublishedAction.action_id)),
        )
        .order_by(Action.submitted_at, Action.id)
    ).all()
    return [action for action in candidates if is_programme_action(action)]


def programme_actions() -> list[Action]:
    """Every programme action that is not archived (the Region's read-only view of its offer)."""
    return db.session.scalars(
        sa.select(Action)
        .where(programme_actions_clause(), Action.status != ActionStatus.ARCHIVEE)
        .order_by(Action.id.desc())
        .limit(500)
    ).all()


def lots_of(action: Action) -> list[str]:
    """The lot codes of an action: of its link, its dispositifs, and its published version."""
    codes = set()
    link = programme_link(action)
    if link is not None:
        codes.add(link.lot.code)
    codes |= {
        d.numero_lot_cr.strip()
        for s in action.sessions
        for d in s.dispositifs
        if d.dispositif is not None and d.dispositif.programme_regional and (d.numero_lot_cr or "").strip()
    }
    published = db.session.get(PublishedAction, action.id) if action.id else None
    if published is not None:
        codes |= _lot_codes_of_snapshot(published.data)
    return sorted(codes)


def region_consent(user: User, action: Action, agreed: bool, comment: str = "") -> RegionConsent:
    """The Region agrees (or not) to a change of a published programme action sent for validation."""
    if not user.is_authenticated or user.role is not Role.REGION:
        raise DomainError("Seuls les comptes de la Région peuvent donner cet accord.")
    if action.status is not ActionStatus.EN_ATTENTE_VALIDATION:
        raise DomainError(f"Cette action est « {action.status.label} » : elle n'attend pas l'accord de la Région.")
    if not requires_region_consent(action):
        raise DomainError("Cette action n'est pas une modification d'une action publiée du programme régional.")
    comment = (comment or "").strip()
    if not agreed and not comment:
        raise DomainError("Indiquez pourquoi la Région refuse cette modification.", "comment")
    decision = RegionConsent(
        action_id=action.id,
        agreed=agreed,
        comment=comment or None,
        user_id=user.id,
        submitted_at=action.submitted_at,
    )
    db.session.add(decision)
    verdict = "Accord" if agreed else "Refus"
    audit.note(
        "region",
        action,
        f"{verdict} de la Région sur la modification de l'action publiée" + (f" : {comment}" if comment else "."),
        after={"agreed": agreed, "comment": comment or None},
    )
    from sofi.services.workflow import _notify_validators

    _notify_validators(
        action,
        "SOFI : décision de la Région",
        "La Région a donné son accord à la modification."
        if agreed
        else f"La Région a refusé la modification : {comment}",
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        raise DomainError("Cette action vient d'être traitée par quelqu'un d'autre : rechargez la page.") from error
    return decision


def region_refusal_message(decision: RegionConsent | bool) -> str:
    if isinstance(decision, RegionConsent):
        return f"Validation impossible : la Région a refusé cette modification ({decision.comment})."
    return (
        "Validation impossible : l'accord préalable de la Région est attendu pour cette modification "
        "d'une action publiée du programme régional."
    )


def organisations_of(lots: Iterable[Lot]) -> set[int]:
    return {link.organisation_id for lot in lots for link in lot.organisations}
