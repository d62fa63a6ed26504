"""Importing LHÉO 2.3 / 2.2 documents: organisations, sites, formations, actions, sessions, dispositifs.

One streamed pass over the file (``exporters.lheo.reader``; a large file is read ahead by another
process, ``exporters.lheo.read_ahead``), in one transaction:

1. the file is checked (size, no DOCTYPE, namespace, root, each formation against the official
   XSD before it is applied). A ``lheo-index`` (Intercarif search summaries) is reported as not
   being an offer document; any schema error rejects the file: from the first one, the rest of
   the file is only validated, and at the end the transaction is rolled back, nothing written.
2. each valid formation is applied inside a savepoint: a record that SOFI cannot
   take (invalid SIRET, session without known dates…) is skipped with its reason, the others
   are created or updated. ``--dry-run`` rolls everything back at the end. The sessions created
   (and their dispositifs, publics, meetings, periods, audit rows) are plain rows, checked by
   the models' validators when read and inserted in bulk after each flush (``NewSession``).

Matching, so that a re-import updates instead of duplicating: organisations on their SIRET;
formations, actions and sessions on ``numero_lheo`` (the ``numero`` of the file, or the SOFI
identifier carried by a SOFI export) and, for a document written by this very database, on
their FAS code ids. Sites match on their address, contacts on name and e-mail.

Imported actions are drafts ("en cours de saisie"); a changed published action goes back to
draft through ``workflow.reopen_imported``. Status changes only happen in ``workflow``.

Reference data (decisions documented in ``docs/lheo-mapping.md``): Formacodes and communes
absent from our tables are added (from the code and the address of the file) with a warning;
unknown ROME/NSF codes and publics are skipped with a warning; an unknown certification makes
the formation non-certifying with a warning; third-party funders become dispositifs
« LHÉO – <financeur> » (code 9000 + code-financeur, inactive in the forms).
"""

import contextlib
import gc
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from exporters.lheo import mapping as m
from exporters.lheo.read_ahead import READ_AHEAD_MIN_BYTES, FormationBatches
from exporters.lheo.reader import DEFAULT_MAX_BYTES, LheoFileError
from models import (
    Action,
    ActionStatus,
    AuditEvent,
    Certification,
    CertifInfo,
    Commune,
    CommuneCodePostal,
    Contact,
    Dispositif,
    Formacode,
    Formation,
    InformationCollective,
    ModelValidationError,
    Nsf,
    Organisation,
    PeriodeInscription,
    Public,
    Rome,
    SessionDispositif,
    SessionFormation,
    Site,
    db,
)
from models.codelists import codelist
from models.codelists import label as code_label
from models.offer import session_dispositif_public
from models.validation import check_nda, check_siret
from sofi import audit
from sofi.config import int_setting
from sofi.db_unavailable import is_database_unavailable
from sofi.plain_rows import (
    foreign_key,
    insert_rows,
    number_new_objects,
    validated,
    write_rows,
    write_values,
)
from sofi.sanitize import clean_html
from sofi.services import workflow
from sofi.services.errors import DomainError, ImportFileError
from sofi.services.lheo_import_report import CREATED, SKIPPED, UNCHANGED, UPDATED, Entry, ImportReport
from sofi.text import search_key

CIVILITES = {"monsieur": "M", "m": "M", "m.": "M", "mr": "M", "madame": "MME", "mme": "MME", "mlle": "MME"}
DECIMAL_FIELDS = ("frais_ht", "taux_tva", "frais_ttc", "frais_additionnels_montant")
TEXT_FIELDS = ("numero_lot_cr", "id_action_cr", "of_mandataire_cr", "reference_marche", "frais_additionnels_details")
FLAG_DISPOSITIFS = (("formation-initiale", 15), ("contrat-apprentissage", 6), ("contrat-professionnalisation", 7))
# The order of the tuples ``_wanted_informations`` and ``_wanted_periodes`` give.
INFORMATION_COLUMNS = ("date", "heure_debut", "heure_fin", "lieu", "commentaire")
PERIODE_COLUMNS = ("type", "date_debut", "date_fin")
# Formations applied per savepoint and flush: a flush per formation cost half of the import time.
BATCH_SIZE = 200
# Allocations between two young collections during an import (Python: 700). 500,000 rather than
# 100,000: 60,340 sessions imported in 12.9 s instead of 13.8 s (fewer collections of the older
# generations, which walk every object the import holds), for 24 MB more at the peak (230 MB).
GC_THRESHOLD = 500_000


class LheoSchemaError(ImportFileError):
    def __init__(self, message: str, errors: list):
        super().__init__(message)
        self.errors = errors


def _max_bytes() -> int:
    """Size limit of an imported file: ``SOFI_LHEO_MAX_BYTES`` (200 MB)."""
    return int_setting("SOFI_LHEO_MAX_BYTES", DEFAULT_MAX_BYTES)


def _read_ahead_min_bytes() -> int:
    """From which size a file is read by another process (``exporters.lheo.read_ahead``):
    ``SOFI_LHEO_READ_AHEAD_BYTES`` (8 MB)."""
    return int_setting("SOFI_LHEO_READ_AHEAD_BYTES", READ_AHEAD_MIN_BYTES)


def _refuse(info) -> None:
    """Refuse what is not a schema-valid LHÉO offer document (``info`` of the whole file)."""
    if info.root == "lheo-index":
        raise ImportFileError(
            f"Ce fichier est un index LHÉO {info.version} (« lheo-index », {info.resumes} résumé(s) d'offre issus "
            "d'une recherche Intercarif) : ce n'est pas un document d'offre (formations, actions, sessions "
            "complètes). Rien n'a été importé."
        )
    if info.root != "lheo":
        raise ImportFileError(f"Document « {info.root} » : seul l'élément racine « lheo » contient une offre.")
    if info.error_count:
        shown = "\n".join(f"  - {error}" for error in info.errors[:50])
        more = f"\n  … et {info.error_count - 50} autre(s)." if info.error_count > 50 else ""
        raise LheoSchemaError(
            f"Le fichier n'est pas conforme au schéma LHÉO 2.3 ({info.error_count} erreur(s)) ; rien n'a été "
            f"importé :\n{shown}{more}",
            info.errors,
        )


def _begin() -> None:
    """Open the transaction explicitly on SQLite, so that savepoints nest inside it.

    IMMEDIATE: the write lock is taken at once, so the ids of new rows can be numbered before
    their insert (``plain_rows.insert_rows``) without another writer taking them meanwhile.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextlib.contextmanager
def _fewer_collections():
    """Run the cyclic garbage collector less often while importing.

    An import keeps tens of thousands of ORM objects alive until its commit: with the default
    threshold (a young collection every 700 allocations) the collector walked them so often
    that it took about a quarter of the import time. Young cycles are still collected.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def import_lheo(
    path: Path | str,
    organisation_siret: str | None = None,
    dry_run: bool = False,
    max_bytes: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import an LHÉO document (see the module docstring); one transaction."""
    path = Path(path)
    siret = None
    if organisation_siret:
        try:
            siret = check_siret("siret", organisation_siret)
        except ModelValidationError as error:
            raise DomainError(f"SIRET « {organisation_siret} » : {error.message}") from error
    try:
        file = FormationBatches(path, max_bytes or _max_bytes(), BATCH_SIZE, _read_ahead_min_bytes())
    except LheoFileError as error:
        raise ImportFileError(error.message) from error
    report = ImportReport(str(path), dry_run=dry_run)
    importer = Importer(report, siret)
    db.session.rollback()
    _begin()
    try:
        with _fewer_collections(), contextlib.closing(iter(file)) as batches:
            for batch in batches:
                importer.formations(batch)
                if progress is not None:
                    progress(importer.done)
        _refuse(file.info)
        report.version = file.info.version
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except LheoFileError as error:
        db.session.rollback()
        raise ImportFileError(error.message) from error
    except DomainError:
        db.session.rollback()
        raise
    except Exception as error:
        if is_database_unavailable(error):
            raise  # the command reports outages the same way everywhere (sofi.cli.reports_errors)
        db.session.rollback()
        raise ImportFileError(
            f"Import interrompu par une erreur inattendue ({type(error).__name__} : {error}) ; rien n'a été importé."
        ) from error
    return report


class SkipRecord(Exception):
    """A record SOFI cannot take; the message (French) is the reason shown in the report."""


# What skips a formation (and undoes what it wrote); anything else aborts the whole import.
SKIPS = (SkipRecord, DomainError, ModelValidationError, sa.exc.IntegrityError)


def _skip_reason(error: Exception) -> str:
    if isinstance(error, sa.exc.IntegrityError):
        return "donnée incohérente ou déjà utilisée (contrainte de la base)"
    message = error.args[0] if isinstance(error, SkipRecord) else getattr(error, "message", None)
    return message or str(error)


def _fit(value: str | None, limit: int) -> str | None:
    return m.fit(value, limit) if value else None


@lru_cache(maxsize=1024)
def _rich(value: str | None) -> str | None:
    """Imported rich text: HTML (or escaped HTML) reduced to SOFI's safe subset, ≤ 3000 characters.

    Remembered: the actions of a formation often share their texts (conditions…), and the HTML
    sanitiser costs 20 µs a text."""
    if not value:
        return None
    cleaned = clean_html(value)
    if cleaned and len(cleaned) > 3000:
        cleaned = m.excerpt(m.strip_tags(cleaned), 3000)
    return cleaned


def _code(value: str | None, list_name: str) -> str | None:
    value = (value or "").strip()
    return value if value in codelist(list_name) else None


@lru_cache(maxsize=4096)
def _siret(value: str | None) -> str | None:
    """``check_siret``, remembered: the SIRET of a responsible or of a site is read again for each
    of its formations or actions (a refused one is checked again: exceptions are not remembered)."""
    return check_siret("siret", value)


@lru_cache(maxsize=4096)
def _plain_text(value: str) -> str:
    """``m.strip_tags``, remembered: the title of a formation is the label of each of its sessions,
    a contact's name is read again for each session it is the contact of."""
    return m.strip_tags(value)


@lru_cache(maxsize=4096)  # a Decimal is immutable; the same prices and rates come back for each session
def _decimal(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    cleaned = re.sub(r"[^0-9,.\-]", "", value).replace(",", ".")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _int(value) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _assign(record, values: dict) -> list[str]:
    """Set the attributes that differ; returns the names of those changed."""
    changed = []
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name)
    return changed


def _dated(session: dict) -> bool:
    return bool(session["date_debut"] and session["date_fin"] and session["date_fin"] >= session["date_debut"])


def _date_problem(session: dict) -> str:
    if session["date_debut"] is None or session["date_fin"] is None:
        raw = f"{session.get('debut') or '?'} – {session.get('fin') or '?'}"
        return f"dates inconnues ({raw}) : SOFI exige un début et une fin"
    return "la date de fin précède la date de début"


def _flag(value: str | None) -> bool:
    return (value or "").strip() == "1"


def _formation_key(data: dict) -> str:
    """``numero_lheo`` of a formation: SOFI identifier, else LHÉO numero, else its title."""
    label = m.strip_tags(data.get("intitule") or "")[:80]
    return (data.get("sofi") or {}).get("identifiant") or data.get("numero") or f"intitule:{search_key(label)[:80]}"


def _sofi_identifiant(data: dict) -> int | None:
    return _int((data.get("sofi") or {}).get("identifiant"))


@lru_cache(maxsize=4096)
def _contact_key(nom: str | None, prenom: str | None, email: str | None) -> tuple:
    """What makes two contacts of an organisation the same person for the import (a session's contact
    is usually the one of the sessions before it: the key is remembered)."""
    return search_key(nom), search_key(prenom), email


@dataclass
class NewSession:
    """A session the import creates: its rows are checked when read, inserted by the next flush.

    Without ORM objects: building them and flushing them took three quarters of the import time
    (5,950 sessions: 4.5 s and 5.5 s of 12 s). ``links`` are the records it points to, whose ids
    may not exist before that flush.
    """

    action: Action
    links: dict[str, object]
    columns: dict
    informations: list[dict]
    periodes: list[dict]
    dispositifs: list[tuple[dict, list[str]]]


@dataclass
class StoredFormations:
    """The stored formations a batch may match, read in two queries instead of two per formation.

    Only valid until the next flush (formations then written are not in it).
    """

    sirens: set[str]
    identifiants: set[int]
    by_id: dict[int, Formation]
    by_key: dict[tuple[str, str], Formation]

    @classmethod
    def read(cls, batch: list[dict]) -> "StoredFormations":
        sirens = {((d.get("organisme") or {}).get("siret") or "")[:9] for d in batch}
        identifiants = {i for d in batch if (i := _sofi_identifiant(d)) is not None}
        keys = {_formation_key(d) for d in batch}
        with_organisation = sa.orm.selectinload(Formation.organisation)
        by_id = {
            f.id: f
            for f in db.session.scalars(
                sa.select(Formation).where(Formation.id.in_(identifiants)).options(with_organisation)
            )
        }
        by_key: dict[tuple[str, str], Formation] = {}
        rows = db.session.execute(
            sa.select(Formation, Organisation.siren)
            .join(Organisation, Formation.organisation_id == Organisation.id)
            .where(Formation.numero_lheo.in_(keys), Organisation.siren.in_(sirens))
            .order_by(Formation.id)
        )
        for formation, siren in rows:
            by_key.setdefault((siren, formation.numero_lheo), formation)
        return cls(sirens, identifiants, by_id, by_key)

    def by_identifiant(self, identifiant: int) -> Formation | None:
        return (
            self.by_id.get(identifiant) if identifiant in self.identifiants else db.session.get(Formation, identifiant)
        )

    def by_numero(self, siren: str, key: str) -> Formation | None | bool:
        """The formation, None, or False when this batch did not read that organisation's formations."""
        return self.by_key.get((siren, key)) if siren in self.sirens else False


class Importer:
    def __init__(self, report: ImportReport, only_siret: str | None = None):
        self.report = report
        self.only_siret = only_siret
        self.organisation_outcomes: dict[str, str] = {}
        self.known_formacodes = set(db.session.scalars(sa.select(Formacode.code)))
        self.known_romes = set(db.session.scalars(sa.select(Rome.code)))
        self.known_nsf = set(db.session.scalars(sa.select(Nsf.code)))
        # Reference rows resolved once (the identity map holds rows weakly: a get() per session would query).
        self.public_rows = {p.code: p for p in db.session.scalars(sa.select(Public))}
        self.publics = {p.formacode_code or p.code: p.code for p in self.public_rows.values()}
        self.public_codes = set(self.public_rows)
        self.schemes = {d.code: d for d in db.session.scalars(sa.select(Dispositif))}
        self.known_communes = set(db.session.scalars(sa.select(Commune.code_insee)))
        # Certifications by their fiche number and Certif Info rows by their code (reference rows, never
        # written by an import), held strongly: the identity map holds rows weakly, a get() would query.
        self._certifications: dict[str, Certification | None] = {}
        self._certifinfos: dict[int, CertifInfo | None] = {}
        self._created_codes: list[tuple[set, str]] = []
        self.done = 0  # formations applied or skipped
        self._reset_caches()

    def _reset_caches(self) -> None:
        """Records created in the current savepoint (queries do not see them: no autoflush)."""
        self.organisations: dict[str, Organisation] = {}
        self.communes: set[str] = set()
        self.dispositifs: dict[int, Dispositif] = {}
        self.created_sites: set[int] = set()
        self.updated_sites: set[int] = set()
        # What was written since the last flush that a lookup query would miss (see ``_find_formation``).
        self._unflushed: set[tuple] = set()
        self._stored: StoredFormations | None = None
        self._new_sessions: list[NewSession] = []
        self._contacts: dict[Organisation, dict[tuple, Contact]] = {}

    # --- formation -------------------------------------------------------------------------------

    def formations(self, batch: list[dict]) -> None:
        """Apply formations together (one savepoint, one flush) while none is skipped.

        A skip undoes the whole savepoint: the formations before the skipped one are applied
        together again, the skipped one alone (in its own savepoint, which reports why), and
        the rest together. An error at the flush (constraint, consistency check) names no
        formation: the batch is then applied formation by formation.
        """
        while batch:
            if len(batch) == 1:
                self.formation(batch[0])
                return
            failed = self._apply_together(batch)
            if failed is None:
                return
            if failed < 0:
                for data in batch:
                    self.formation(data)
                return
            self.formations(batch[:failed])
            self.formation(batch[failed])
            batch = batch[failed + 1 :]

    def _apply_together(self, batch: list[dict]) -> int | None:
        """None once applied; else the index of the skipped formation (-1: failed at the flush)."""
        marks = self._marks()
        savepoint = db.session.begin_nested()
        self._stored = StoredFormations.read(batch)
        failed = None
        with db.session.no_autoflush:
            for index, data in enumerate(batch):
                try:
                    self._formation(data, self._open_formation(data))
                except SKIPS:
                    failed = index
                    break
        if failed is None:
            try:
                self._flush()
            except SKIPS:  # a constraint, or a consistency check run by the flush
                failed = -1
        if failed is not None:
            savepoint.rollback()
            self._undo(marks, keep_skips=False)
            return failed
        savepoint.commit()
        self.done += len(batch)
        return None

    def formation(self, data: dict) -> None:
        """Apply one formation in its own savepoint; a skip undoes it and reports the reason."""
        entry = self._open_formation(data)
        marks = self._marks()
        savepoint = db.session.begin_nested()
        try:
            with db.session.no_autoflush:
                self._formation(data, entry)
            self._flush()
            savepoint.commit()
        except SKIPS as error:
            savepoint.rollback()
            self._undo(marks, keep_skips=True)
            entry.outcome, entry.detail = SKIPPED, _skip_reason(error)
        self.done += 1

    def _open_formation(self, data: dict) -> Entry:
        return self.report.open("formation", data.get("numero") or "", m.strip_tags(data.get("intitule") or ""))

    def _marks(self) -> tuple:
        self._created_codes = []
        return len(self.report.entries), len(self.report.warnings), dict(self.organisation_outcomes), self._cached()

    def _cached(self) -> tuple:
        """A copy of the caches (their records are flushed: a later rollback keeps them)."""
        return (
            dict(self.organisations),
            set(self.communes),
            dict(self.dispositifs),
            set(self.created_sites),
            set(self.updated_sites),
        )

    def _restore_caches(self, cached: tuple) -> None:
        self._reset_caches()
        self.organisations, self.communes, self.dispositifs, self.created_sites, self.updated_sites = cached

    def _undo(self, marks: tuple, keep_skips: bool) -> None:
        """Forget what was reported and cached since ``marks`` (its savepoint was rolled back).

        ``keep_skips``: a formation was skipped, the reasons of the records skipped inside are
        kept (they did happen) and the caches are emptied. Otherwise a batch is undone to be
        applied again: the caches are as the batch found them, so that the report is the one
        the formations would have given applied one by one.
        """
        for known, code in self._created_codes:
            known.discard(code)
        entries, warnings, outcomes, cached = marks
        if keep_skips:
            self._reset_caches()
        else:
            self._restore_caches(cached)
        kept = [e for e in self.report.entries[entries:] if keep_skips and e.outcome == SKIPPED]
        del self.report.entries[entries:]
        self.report.entries.extend(kept)
        del self.report.warnings[warnings:]
        self.organisation_outcomes = outcomes

    def _flush(self) -> None:
        number_new_objects(db.session)
        db.session.flush()
        self._write_new_sessions()
        self._unflushed.clear()
        self._stored = None

    def _formation(self, data: dict, entry: Entry) -> None:
        label = entry.label
        if data.get("organisme") is None:
            raise SkipRecord("pas d'organisme responsable")
        responsible = self.organisation(data["organisme"], only_filter=True)
        if not label:
            raise SkipRecord("intitulé vide")
        for contact in data.get("contacts") or []:
            self.contact(responsible, contact)
        sofi = data.get("sofi")
        key = _formation_key(data)
        formation = self._find_formation(sofi, key, responsible)
        created = formation is None
        self._unflushed.add(("formation", responsible.siren, key))
        if not created:
            self._unflushed.add(("formation", formation.id))
        if created:
            formation = Formation(organisation=responsible, numero_lheo=key)
            db.session.add(formation)
        changes = self._formation_fields(formation, data)
        # actions: LHÉO actions sharing a key (SOFI identifier or numero) form one SOFI action
        groups: dict[str, list[dict]] = {}
        for action in data["actions"]:
            action_key = (
                (action.get("sofi") or {}).get("identifiant") or action.get("numero") or f"{key}-{action['index']}"
            )
            groups.setdefault(action_key, []).append(action)
        imported_actions = 0
        for action_key, actions in groups.items():
            if self.action(formation, responsible, data, action_key, actions):
                imported_actions += 1
        if created and imported_actions == 0:
            raise SkipRecord("aucune action importable (voir les sessions ignorées)")
        entry.outcome = CREATED if created else (UPDATED if changes else UNCHANGED)
        entry.detail = ", ".join(changes) if entry.outcome == UPDATED else ""

    def _find_formation(self, sofi: dict | None, key: str, responsible: Organisation) -> Formation | None:
        """The formation a record updates; flushes first when an unflushed one of the batch may be it."""
        if ("formation", responsible.siren, key) in self._unflushed:
            self._flush()
        formation = self._stored_formation(sofi, key, responsible)
        if formation is not None and ("formation", formation.id) in self._unflushed:
            self._flush()  # its actions and sessions of the batch must be found by the queries
        return formation

    def _stored_formation(self, sofi: dict | None, key: str, responsible: Organisation) -> Formation | None:
        stored = self._stored
        if sofi and (identifiant := _int(sofi.get("identifiant"))) is not None:
            formation = stored.by_identifiant(identifiant) if stored else db.session.get(Formation, identifiant)
            if formation is not None and formation.organisation.siren == responsible.siren:
                return formation
        if stored and (found := stored.by_numero(responsible.siren, key)) is not False:
            return found
        same_organisme = sa.select(Organisation.id).where(Organisation.siren == responsible.siren)
        return db.session.scalar(
            sa.select(Formation)
            .where(Formation.numero_lheo == key, Formation.organisation_id.in_(same_organisme))
            .order_by(Formation.id)
            .limit(1)
        )

    def _formation_fields(self, formation: Formation, data: dict) -> list[str]:
        sofi = data.get("sofi") or {}
        from_action = set((sofi.get("textes-action") or "").split())
        certification, certifinfo = self._certification(data)
        certifiante = bool(data["certifiante"] and (certification or certifinfo))
        objectif_general = _code(data.get("objectif_general"), "dict-AIS") or ("6" if certifiante else "7")
        blocs_codes = {code for a in data["actions"] for s in a["sessions"] for b in s["blocs"] for code in b["codes"]}
        validation = next(
            (b["validation"] for a in data["actions"] for s in a["sessions"] for b in s["blocs"] if b["validation"]),
            None,
        )
        nsf = next((c for c in data.get("nsf") or [] if c in self.known_nsf), None)
        for code in data.get("nsf") or []:
            if code not in self.known_nsf:
                self.report.warn(f"Code NSF {code} inconnu du référentiel : ignoré.")
        if sofi.get("code-NSF"):
            nsf = sofi["code-NSF"]
        romes = []
        for code in data.get("romes") or []:
            if code in self.known_romes and code not in romes:
                romes.append(code)
            elif code not in self.known_romes:
                self.report.warn(f"Code ROME {code} inconnu du référentiel : ignoré.")
        values = {
            "intitule": m.fit(m.strip_tags(data["intitule"]), 255),
            "objectif_general": objectif_general,
            "certifiante": certifiante,
            "certification": certification if certifiante else None,
            "certifinfo_code": certifinfo.code if certifiante and certifinfo else None,
            "niveau_sortie": _code(data.get("niveau_sortie"), "dict-niveaux"),
            "nsf_code": nsf,
            "rome_codes": romes[:5],
            "objectifs": None if "objectifs" in from_action else _rich(data.get("objectifs")),
            "resultats": None if "resultats" in from_action else _rich(data.get("resultats")),
            "programme": None if "programme" in from_action else _rich(data.get("programme")),
            "validation_blocs": sofi.get("validation-blocs") or _code(validation, "dict-type-validation-blocs"),
        }
        if sofi:
            values["type_certification"] = sofi.get("type-certification") or None
            values["individualisation_blocs"] = _flag(sofi.get("individualisation-blocs"))
        elif certifiante and formation.type_certification is None:
            values["type_certification"] = (certifinfo.type_libelle if certifinfo else None) or (
                certification.type_libelle if certification else None
            )
        changes = _assign(formation, values)
        codes, principal = self._formacodes(data)
        # the order of the domains other than the principal one is not carried by LHÉO
        if set(codes) != set(formation.formacode_codes) or principal != formation.formacode_principal:
            formation.set_formacodes(codes, principal)
            changes.append("formacodes")
        blocs = [b for b in (certification.blocs if certification and certifiante else []) if b.code in blocs_codes]
        if [b.id for b in blocs] != [b.id for b in formation.blocs]:
            formation.blocs = blocs
            changes.append("blocs")
        return changes

    def _certification(self, data: dict) -> tuple[Certification | None, CertifInfo | None]:
        certification = None
        for prefix in ("RNCP", "RS"):
            raw = data.get(prefix.lower())
            digits = re.sub(r"\D", "", raw or "")
            if digits and certification is None:
                certification = self._fiche(f"{prefix}{digits}")
        certifinfo = None
        digits = re.sub(r"\D", "", data.get("certifinfo") or "")
        if digits:
            code = int(digits)
            if code not in self._certifinfos:
                self._certifinfos[code] = db.session.get(CertifInfo, code)
            certifinfo = self._certifinfos[code]
        if certification is None and certifinfo is not None and certifinfo.fiche_numero:
            certification = self._fiche(certifinfo.fiche_numero)
        if data["certifiante"] and certification is None and certifinfo is None:
            codes = ", ".join(
                f"{name} {value}"
                for name, value in (
                    ("RNCP", data.get("rncp")),
                    ("RS", data.get("rs")),
                    ("Certif Info", data.get("certifinfo")),
                )
                if value
            )
            self.report.warn(
                f"Formation « {m.strip_tags(data['intitule'] or '')[:80]} » : certification inconnue de SOFI "
                f"({codes or 'aucun code'}) : importée comme non certifiante, à compléter."
            )
        return certification, certifinfo

    def _fiche(self, numero: str) -> Certification | None:
        if numero not in self._certifications:
            self._certifications[numero] = db.session.scalar(
                sa.select(Certification).where(Certification.numero_fiche == numero)
            )
        return self._certifications[numero]

    def _formacodes(self, data: dict) -> tuple[list[str], str | None]:
        codes = []
        for code, ref in data.get("formacodes") or []:
            if not re.fullmatch(r"\d{5}", code):
                self.report.warn(f"Formacode « {code} » invalide : ignoré.")
                continue
            if code not in self.known_formacodes:
                version = ref if ref and re.fullmatch(r"V\d+", ref) else m.FORMACODE_REF_IMPORTED
                label = f"Formacode {code} (importé d'un flux LHÉO, libellé à compléter)"
                db.session.add(
                    Formacode(code=code, label=label, kind="DOM", version=version, search_text=search_key(code, label))
                )
                self.known_formacodes.add(code)
                self._created_codes.append((self.known_formacodes, code))
                self.report.warn(f"Formacode {code} ({version}) absent du référentiel : ajouté, libellé à compléter.")
            codes.append(code)
        codes = codes[:5]
        principal = data.get("principal") if data.get("principal") in codes else None
        if principal:
            codes.remove(principal)
            codes.insert(0, principal)
        return codes, principal or (codes[0] if codes else None)

    # --- organisations, communes, sites, contacts ------------------------------------------------

    def organisation(self, data: dict, only_filter: bool = False) -> Organisation:
        try:
            siret = _siret(data.get("siret"))
        except ModelValidationError as error:
            raise SkipRecord(
                f"SIRET de l'organisme responsable « {data.get('siret')} » refusé : {error.message}"
            ) from error
        if siret is None:
            raise SkipRecord("SIRET de l'organisme responsable absent")
        if only_filter and self.only_siret and siret != self.only_siret:
            raise SkipRecord(f"organisme {siret} : hors du périmètre demandé (--organisation {self.only_siret})")
        organisation = self._organisation(siret)
        raison = _fit(m.strip_tags(data.get("raison_sociale") or ""), 255)
        nom = _fit(m.strip_tags(data.get("nom") or ""), 255)
        values = {"raison_sociale": raison or nom or f"Organisme {siret}"}
        if nom and nom != values["raison_sociale"]:
            values["nom_usuel"] = nom
        nda = (data.get("nda") or "").strip()
        if nda and nda not in m.PLACEHOLDER_NDAS:
            try:
                values["nda"] = check_nda("nda", nda)
            except ModelValidationError:
                self.report.warn(f"Organisme {siret} : numéro de déclaration d'activité « {nda} » invalide, ignoré.")
        coordonnees = data.get("coordonnees") or {}
        address = self._address(coordonnees.get("adresse"))
        if address is not None:
            values.update(address)
        if coordonnees.get("telephone"):
            values["telephone"] = m.fit(coordonnees["telephone"], 30)
        if coordonnees.get("email") and "@" in coordonnees["email"]:
            values["email"] = m.fit(coordonnees["email"], 255)
        if url := m.normalise_url(coordonnees.get("web")):
            values["site_web"] = url
        if organisation is None:
            organisation = Organisation(siret=siret, **values)
            db.session.add(organisation)
            self.organisations[siret] = organisation
            outcome, changes = CREATED, []
        else:
            if not raison and not nom:
                values.pop("raison_sociale")
            changes = _assign(organisation, values)
            outcome = UPDATED if changes else UNCHANGED
        if only_filter:
            for contact in [*data.get("contacts", [])]:
                self.contact(organisation, contact)
        self._report_organisation(siret, values["raison_sociale"], outcome, changes)
        return organisation

    def _organisation(self, siret: str) -> Organisation | None:
        if siret in self.organisations:
            return self.organisations[siret]
        organisation = db.session.scalar(sa.select(Organisation).where(Organisation.siret == siret))
        if organisation is not None:
            self.organisations[siret] = organisation
        return organisation

    def _report_organisation(self, siret: str, label: str, outcome: str, changes: list[str]) -> None:
        previous = self.organisation_outcomes.get(siret)
        if previous is None:
            self.organisation_outcomes[siret] = outcome
            self.report.add("organisme", siret, label, outcome, ", ".join(changes) if outcome == UPDATED else "")
        elif previous == UNCHANGED and outcome == UPDATED:
            self.organisation_outcomes[siret] = outcome
            self.report.add("organisme", siret, label, outcome, ", ".join(changes))

    def formateur(self, data: dict | None, responsible: Organisation) -> Organisation:
        if not data or not data.get("siret") or data["siret"] == responsible.siret:
            return responsible
        try:
            siret = _siret(data["siret"])
        except ModelValidationError:
            self.report.warn(
                f"SIRET d'organisme formateur « {data['siret']} » invalide : "
                "l'action est rattachée à l'organisme responsable."
            )
            return responsible
        organisation = self._organisation(siret)
        if organisation is None:
            raison = _fit(m.strip_tags(data.get("raison_sociale") or ""), 255) or f"Organisme {siret}"
            organisation = Organisation(siret=siret, raison_sociale=raison)
            db.session.add(organisation)
            self.organisations[siret] = organisation
            self._report_organisation(siret, raison, CREATED, [])
        else:
            self._report_organisation(siret, organisation.raison_sociale, UNCHANGED, [])
        return organisation

    def commune(self, address: dict) -> str | None:
        insee = address.get("insee")
        if insee and re.fullmatch(r"[0-9][0-9AB][0-9]{3}", insee):
            if (
                insee not in self.communes
                and insee not in self.known_communes
                and db.session.get(Commune, insee) is None
            ):
                departement = address.get("departement") or (insee[:3] if insee.startswith("97") else insee[:2])
                region = address.get("region") if address.get("region") and len(address["region"]) <= 3 else None
                commune = Commune(
                    code_insee=insee, nom=m.fit(address["ville"], 255), departement=departement[:3], region=region
                )
                if re.fullmatch(r"\d{5}", address["codepostal"]):
                    commune.codes_postaux = [CommuneCodePostal(code_postal=address["codepostal"])]
                db.session.add(commune)
                self.communes.add(insee)
                self._unflushed.add(("commune",))
                self.report.warn(
                    f"Commune {insee} {address['ville']} absente du référentiel : ajoutée depuis l'adresse."
                )
            return insee
        if ("commune",) in self._unflushed:
            self._flush()  # the postcodes of the communes just added
        rows = db.session.scalars(
            sa.select(CommuneCodePostal).where(CommuneCodePostal.code_postal == address["codepostal"])
        ).all()
        if len(rows) == 1:
            return rows[0].code_insee
        wanted = search_key(address["ville"])
        for row in rows:
            if search_key(row.commune.nom) == wanted:
                return row.code_insee
        return None

    def _address(self, address: dict | None) -> dict | None:
        """``adresse1/adresse2/code_postal/commune_code`` of an LHÉO address SOFI can store."""
        if not address or not re.fullmatch(r"\d{5}", address["codepostal"]):
            return None
        commune = self.commune(address)
        if commune is None:
            return None
        lignes = address["lignes"] or [address.get("denomination") or address["ville"]]
        return {
            "adresse1": m.fit(lignes[0], 255),
            "adresse2": m.fit(", ".join(lignes[1:]), 255) if len(lignes) > 1 else None,
            "code_postal": address["codepostal"],
            "commune_code": commune,
        }

    def site(self, organisation: Organisation, lieu: dict | None, fallbacks: list[dict | None]) -> Site:
        candidates = [(lieu or {}).get("adresse"), *fallbacks]
        address = None
        used = None
        for candidate in candidates:
            address = self._address(candidate)
            if address is not None:
                used = candidate
                break
        if address is None:
            raise SkipRecord("aucune adresse de lieu de formation exploitable (code postal et commune)")
        lieu = lieu or {}
        nom = lieu.get("nom") or (used or {}).get("denomination") or address["adresse1"]
        values = {
            "nom": m.fit(nom, 255),
            **address,
            "latitude": (used or {}).get("latitude") if used is (lieu.get("adresse")) else None,
            "longitude": (used or {}).get("longitude") if used is (lieu.get("adresse")) else None,
        }
        if values["latitude"] is not None and not -90 <= values["latitude"] <= 90:
            values["latitude"] = values["longitude"] = None
        if values["longitude"] is not None and not -180 <= values["longitude"] <= 180:
            values["latitude"] = values["longitude"] = None
        if lieu.get("siret"):
            try:
                values["siret"] = _siret(lieu["siret"])
            except ModelValidationError:
                self.report.warn(f"SIRET de lieu de formation « {lieu['siret']} » invalide : ignoré.")
        uai = (lieu.get("uai") or "").strip().upper()
        if uai:
            if re.fullmatch(r"\d{7}[A-Z]", uai):
                values["uai"] = uai
            else:
                self.report.warn(f"Code UAI « {uai} » invalide : ignoré.")
        if lieu.get("sofi"):
            values["accessible_pmr"] = bool(lieu.get("accessible_pmr"))
            values["accessibilite"] = lieu.get("accessibilite")
        site = next(
            (
                s
                for s in organisation.sites
                if s.code_postal == values["code_postal"]
                and s.commune_code == values["commune_code"]
                and (s.nom == values["nom"] or search_key(s.adresse1) == search_key(values["adresse1"]))
            ),
            None,
        )
        if site is None:
            site = Site(**values)
            organisation.sites.append(site)
            self.created_sites.add(id(site))
            self.report.add("site", "", f"{values['nom']} ({values['code_postal']})", CREATED)
        elif id(site) not in self.created_sites and site.id not in self.updated_sites:
            changes = _assign(site, {k: v for k, v in values.items() if v is not None or k == "accessibilite"})
            self.updated_sites.add(site.id)
            outcome = UPDATED if changes else UNCHANGED
            self.report.add("site", "", f"{site.nom} ({site.code_postal})", outcome, ", ".join(changes))
        return site

    def contact(self, organisation: Organisation, data: dict) -> Contact | None:
        nom = m.fit(_plain_text(data.get("nom") or ""), 100)
        if not nom:
            return None
        prenom = m.fit(_plain_text(data.get("prenom") or ""), 100)
        email = data.get("email") if data.get("email") and "@" in data["email"] and len(data["email"]) <= 255 else None
        known = self._known_contacts(organisation)
        key = _contact_key(nom, prenom, email)
        contact = known.get(key)
        if contact is None:
            contact = Contact(
                nom=nom,
                prenom=prenom,
                email=email,
                civilite=CIVILITES.get((data.get("civilite") or "").strip().lower()),
                type_contact=_code(data.get("type_contact"), "dict-type-contact"),
                telephone_fixe=m.fit(data.get("telephone"), 30),
                telephone_portable=m.fit(data.get("portable"), 30),
                fax=m.fit(data.get("fax"), 30),
                fonction=m.fit(data.get("fonction"), 255),
            )
            organisation.contacts.append(contact)
            known[key] = contact
        roles = set(data.get("roles") or [])
        if data.get("type_contact") == "1" and not data.get("roles"):
            roles.add("referent-pmr")
        for attribute, role in m.CONTACT_ROLES:
            if role in roles and not getattr(contact, attribute):
                setattr(contact, attribute, True)
        return contact

    def _known_contacts(self, organisation: Organisation) -> dict[tuple, Contact]:
        """The contacts of an organisation by name and e-mail (the first one of each), read once per savepoint."""
        known = self._contacts.get(organisation)
        if known is None:
            known = {}
            for contact in organisation.contacts:
                known.setdefault(_contact_key(contact.nom, contact.prenom, contact.email or None), contact)
            self._contacts[organisation] = known
        return known

    # --- action ----------------------------------------------------------------------------------

    def action(
        self,
        formation: Formation,
        responsible: Organisation,
        fdata: dict,
        key: str,
        actions: list[dict],
    ) -> bool:
        first = actions[0]
        numero = first.get("numero") or key
        label = _plain_text(fdata.get("intitule") or "")
        entry = self.report.open("action", numero, label)
        sofi = first.get("sofi") or {}
        dispensateur = self.formateur(first.get("formateur"), responsible)
        action = None
        if formation.id is not None:
            identifiant = _int(sofi.get("identifiant"))
            if identifiant is not None:
                candidate = db.session.get(Action, identifiant)
                if candidate is not None and candidate.formation_id == formation.id:
                    action = candidate
            if action is None:
                action = db.session.scalar(
                    sa.select(Action).where(Action.formation_id == formation.id, Action.numero_lheo == key).limit(1)
                )
        if action is not None and action.status is ActionStatus.ARCHIVEE:
            entry.outcome, entry.detail = SKIPPED, "action archivée dans SOFI : elle n'est plus modifiable"
            return False
        created = action is None
        # sessions first: an action needs a site, which comes from its first importable session
        sessions = []
        for lheo_action in actions:
            for session in lheo_action["sessions"]:
                sessions.append((lheo_action, session))
        sites = {}
        for lheo_action, _session in sessions:
            if id(lheo_action) not in sites:
                try:
                    sites[id(lheo_action)] = self.site(
                        dispensateur,
                        lheo_action.get("lieu"),
                        [s.get("adresse") for s in lheo_action["sessions"]]
                        + [(fdata["organisme"].get("coordonnees") or {}).get("adresse")],
                    )
                except SkipRecord as error:
                    sites[id(lheo_action)] = error
        usable = [pair for pair in sessions if isinstance(sites[id(pair[0])], Site) and _dated(pair[1])]
        if created and not usable:
            for lheo_action, session in sessions:
                site = sites[id(lheo_action)]
                reason = str(site) if not isinstance(site, Site) else _date_problem(session)
                self.report.add("session", session.get("numero"), label, SKIPPED, reason)
            entry.outcome, entry.detail = SKIPPED, "aucune session importable"
            return False
        if created:
            first_site = sites[id(usable[0][0])]
            action = Action(formation=formation, organisation=dispensateur, site=first_site, numero_lheo=key)
            db.session.add(action)
        changes = self._action_fields(action, dispensateur, fdata, first, sites)
        imported = 0
        for lheo_action, session in sessions:
            site = sites[id(lheo_action)]
            if not isinstance(site, Site):
                self.report.add("session", session.get("numero"), label, SKIPPED, str(site))
                continue
            outcome = self.session(action, responsible, fdata, lheo_action, session, site, key)
            if outcome in (CREATED, UPDATED):
                changes.append("sessions")
            if outcome != SKIPPED:
                imported += 1
        if created and imported == 0:  # pragma: no cover - excluded by ``usable`` above
            raise SkipRecord("aucune session importable")
        if not created and changes:
            workflow.reopen_imported(action)
        entry.outcome = CREATED if created else (UPDATED if changes else UNCHANGED)
        entry.detail = ", ".join(dict.fromkeys(changes)) if entry.outcome == UPDATED else ""
        return True

    def _action_fields(
        self, action: Action, dispensateur: Organisation, fdata: dict, first: dict, sites: dict
    ) -> list[str]:
        sofi = first.get("sofi")
        site = next((s for s in sites.values() if isinstance(s, Site)), action.site)
        values: dict = {"organisation": dispensateur}
        if sofi is not None:
            if sofi.get("site-action"):
                site = next((s for s in dispensateur.sites if s.nom == sofi["site-action"]), site)
            values.update(
                complement_intitule=m.fit(sofi.get("complement-intitule"), 255)
                if sofi.get("complement-intitule")
                else None,
                complement_programme=sofi.get("complement-programme") or None,
                objectifs=sofi.get("objectifs") or None,
                resultats_attendus=sofi.get("resultats-attendus") or None,
                plus_formation=sofi.get("plus-formation") or None,
                url_video=sofi.get("url-video") or None,
                url_pdf=sofi.get("url-pdf") or None,
                equipement_cout=_decimal(sofi.get("equipement-cout")),
                equipement_commentaire=sofi.get("equipement-commentaire") or None,
                niveau_entree=_code(sofi.get("niveau-entree"), "dict-niveaux") or "1",
                prerequis=[c for c in (sofi.get("prerequis") or "").split() if c in codelist("sofi-prerequis")],
                commentaire_prerequis=sofi.get("commentaire-prerequis") or None,
            )
        else:
            equipement = first.get("equipement") or {}
            values.update(
                niveau_entree=_code(fdata.get("niveau_entree"), "dict-niveaux") or "0",
                commentaire_prerequis=_rich(first.get("conditions")),
                equipement_cout=Decimal(equipement["cout"]) if equipement.get("cout") is not None else None,
                equipement_commentaire=equipement.get("commentaire"),
            )
        values["site"] = site
        values["url_action"] = m.normalise_url(first.get("url"))
        equipement = first.get("equipement") or {}
        values["equipement_type"] = _code(equipement.get("type"), "dict-type-equipement")
        return _assign(action, values)

    # --- session ---------------------------------------------------------------------------------

    def session(
        self,
        action: Action,
        responsible: Organisation,
        fdata: dict,
        lheo_action: dict,
        data: dict,
        site: Site,
        action_key: str,
    ) -> str:
        label = _plain_text(fdata.get("intitule") or "")
        key = data.get("numero") or f"{action_key}-{data['index']}"
        entry = self.report.open("session", key, label)
        sofi = data.get("sofi")
        if not _dated(data):
            entry.outcome, entry.detail = SKIPPED, _date_problem(data)
            return SKIPPED
        session = None
        if action.id is not None:
            fas = (sofi or {}).get("code-fas") or ""
            parts = fas.split("-")
            if len(parts) == 3 and parts[1] == str(action.id) and parts[0] == str(action.formation_id):
                candidate = db.session.get(SessionFormation, _int(parts[2]) or 0)
                if candidate is not None and candidate.action_id == action.id:
                    session = candidate
            if session is None:
                session = db.session.scalar(
                    sa.select(SessionFormation)
                    .where(SessionFormation.action_id == action.id, SessionFormation.numero_lheo == key)
                    .limit(1)
                )
        created = session is None
        values = self._session_values(responsible, fdata, lheo_action, data, site)
        if created:
            self._new_session(action, key, values, lheo_action, data)
            changes = []
        else:
            changes = _assign(session, values)
            changes += self._referents(session, action.organisation, data)
            changes += self._informations(session, lheo_action, data)
            changes += self._periodes(session, data)
            changes += self._dispositifs(session, lheo_action, data)
        entry.outcome = CREATED if created else (UPDATED if changes else UNCHANGED)
        entry.detail = ", ".join(changes) if entry.outcome == UPDATED else ""
        return entry.outcome

    def _session_values(
        self, responsible: Organisation, fdata: dict, lheo_action: dict, data: dict, site: Site
    ) -> dict:
        sofi = data.get("sofi")
        modalites_codes = lheo_action.get("modalites_codes") or []
        centre, entreprise, total = (
            lheo_action.get("heures_centre"),
            lheo_action.get("heures_entreprise"),
            lheo_action.get("heures_total"),
        )
        if centre is None and total is not None:
            centre = max(total - (entreprise or 0), 0)
        cycle = next((c for c in data["cycles"] if c.get("unite")), None) or {}
        values = {
            "site": site,
            "date_debut": data["date_debut"],
            "date_fin": data["date_fin"],
            "entrees_sorties": _code(lheo_action.get("entrees_sorties"), "dict-modalites-es") or "0",
            "modalite_enseignement": _code(lheo_action.get("modalite_enseignement"), "dict-modalites-enseignement")
            or "0",
            "duree_centre": centre if centre is None or centre >= 0 else None,
            "duree_entreprise": entreprise if entreprise is None or entreprise >= 0 else None,
            "organisme_responsable": responsible,
            "etat_recrutement": _code(data.get("etat_recrutement"), "dict-etat-recrutement") or "1",
            "cycle_unite": _code(cycle.get("unite"), "dict-unite-rythme"),
            "cycle_unites_entreprise": cycle.get("unites_entreprise") if cycle.get("unite") else None,
            "cycle_unites_centre": cycle.get("unites_centre") if cycle.get("unite") else None,
        }
        if sofi is not None:
            values.update(
                rythmes=[c for c in (sofi.get("rythmes") or "").split() if c in codelist("sofi-rythmes")],
                periodes=[c for c in (sofi.get("periodes") or "").split() if c in codelist("sofi-periodes-formation")],
                type_parcours=_code(sofi.get("type-parcours"), "dict-type-parcours"),
                modalites_pedagogiques=[
                    c
                    for c in (sofi.get("modalites-pedagogiques") or "").split()
                    if c in codelist("sofi-modalites-pedagogiques")
                ],
                modalites_recrutement=[
                    c
                    for c in (sofi.get("modalites-recrutement") or "").split()
                    if c in codelist("dict-modalite-recrutement")
                ],
                duree_hebdo=_decimal(sofi.get("duree-hebdo")),
                commentaire_duree=sofi.get("commentaire-duree") or None,
            )
        else:
            rythme = search_key(lheo_action.get("rythme") or "")
            rythmes = [
                code
                for code, text in codelist("sofi-rythmes").items()
                if re.search(rf"(?<![a-z]){re.escape(search_key(text))}(?![a-z])", rythme)
            ]
            recrutements = []
            for recrutement in data["recrutements"]:
                code = _code(recrutement.get("modalite"), "dict-modalite-recrutement")
                if code and code not in recrutements:
                    recrutements.append(code)
            values.update(
                rythmes=rythmes,
                periodes=[c for c in modalites_codes if c in codelist("sofi-periodes-formation")],
                type_parcours=_code(fdata.get("parcours"), "dict-type-parcours"),
                modalites_pedagogiques=list(
                    dict.fromkeys(c for c in modalites_codes if c in codelist("sofi-modalites-pedagogiques"))
                ),
                modalites_recrutement=recrutements,
            )
        return values

    def _new_session(self, action: Action, key: str, values: dict, lheo_action: dict, data: dict) -> None:
        """Check the rows of a new session (in the order building its objects did) and keep them for the flush."""
        links = {name: values.pop(name) for name in ("site", "organisme_responsable")}
        columns = validated(SessionFormation, {"numero_lheo": key, **values})
        links.update(self._referent_roles(action.organisation, data))
        informations = [
            validated(InformationCollective, dict(zip(INFORMATION_COLUMNS, wanted, strict=True)))
            for wanted in self._wanted_informations(lheo_action, data)
        ]
        periodes = [
            validated(PeriodeInscription, dict(zip(PERIODE_COLUMNS, wanted, strict=True)))
            for wanted in self._wanted_periodes(data)
        ]
        dispositifs = [
            (validated(SessionDispositif, {"dispositif_code": code, **fields}), publics)
            for code, fields, publics in self._dispositif_rows(lheo_action, data)
        ]
        self._new_sessions.append(NewSession(action, links, columns, informations, periodes, dispositifs))

    def _write_new_sessions(self) -> None:
        """Insert the sessions created since the last flush and their rows: one statement per table.

        Run after the ORM flush, which gave their actions, sites and contacts an id; each row is
        audited as the flush listener would have (``audit.created_events``).
        """
        new, self._new_sessions = self._new_sessions, []
        if not new:
            return
        for session in new:
            session.columns["action_id"] = session.action.id
            for name, record in session.links.items():
                session.columns[foreign_key(SessionFormation, name)] = record.id
        sessions = [session.columns for session in new]
        insert_rows(SessionFormation, sessions)
        owners = [(session.action.organisation_id, session.action.id) for session in new]
        events = audit.created_events(SessionFormation, sessions, owners)
        for model, rows_of in (
            (InformationCollective, lambda session: session.informations),
            (PeriodeInscription, lambda session: session.periodes),
            (SessionDispositif, lambda session: [row for row, _publics in session.dispositifs]),
        ):
            rows, row_owners = [], []
            for session, owner in zip(new, owners, strict=True):
                for row in rows_of(session):
                    row["session_id"] = session.columns["id"]
                    rows.append(row)
                    row_owners.append(owner)
            if rows:
                insert_rows(model, rows)
                events += audit.created_events(model, rows, row_owners)
        publics = [
            {"session_dispositif_id": row["id"], "public_code": code}
            for session in new
            for row, codes in session.dispositifs
            for code in codes
        ]
        if publics:
            write_rows(session_dispositif_public, publics)
        write_values(AuditEvent.__table__, audit.CREATED_EVENT_KEYS, events)

    def _referent_roles(self, organisation: Organisation, data: dict):
        """(attribute, contact) of each referent role of the session's contacts, in file order."""
        for contact_data in data["contacts"]:
            contact = self.contact(organisation, contact_data)
            if contact is None:
                continue
            roles = set(contact_data.get("roles") or [])
            if not contact_data.get("roles") and contact_data.get("type_contact") == "1":
                roles.add("referent-pmr")
            for attribute, role in m.CONTACT_ROLES:
                if role in roles:
                    yield attribute, contact

    def _referents(self, session: SessionFormation, organisation: Organisation, data: dict) -> list[str]:
        changes = []
        for attribute, contact in self._referent_roles(organisation, data):
            if getattr(session, attribute) is not contact:
                setattr(session, attribute, contact)
                changes.append(attribute)
        return changes

    def _wanted_informations(self, lheo_action: dict, data: dict) -> list[tuple]:
        """The information meetings of a session, as ``INFORMATION_COLUMNS`` tuples."""
        wanted = []
        sofi = data.get("sofi")
        if sofi is not None:
            for info in sofi["informations_collectives"]:
                day = m.parse_lheo_date(info.get("date"))
                if day is None:
                    continue
                wanted.append(
                    (
                        day,
                        m.parse_hour(info.get("heure-debut")),
                        m.parse_hour(info.get("heure-fin")),
                        m.fit(info.get("lieu"), 255) or m.EMPTY_TEXT,
                        m.fit(info.get("commentaire"), 500),
                    )
                )
        else:
            for recrutement in data["recrutements"]:
                if recrutement.get("modalite") == "9" and recrutement.get("date"):
                    adresse = recrutement.get("adresse")
                    lieu = (
                        " ".join([*adresse["lignes"], adresse["codepostal"], adresse["ville"]])
                        if adresse
                        else recrutement.get("commentaire")
                    )
                    wanted.append(
                        (
                            recrutement["date"],
                            recrutement.get("heure_debut"),
                            recrutement.get("heure_fin"),
                            m.fit(lieu, 255) or "Non précisé",
                            m.fit(recrutement.get("commentaire"), 500),
                        )
                    )
            adresse = lheo_action.get("adresse_information")
            lieu = " ".join([*adresse["lignes"], adresse["codepostal"], adresse["ville"]]) if adresse else "Non précisé"
            for day in lheo_action.get("dates_information") or []:
                wanted.append((day, None, None, m.fit(lieu, 255), None))
        return [w for w in wanted if w[1] is None or w[2] is None or w[2] >= w[1]]

    def _informations(self, session: SessionFormation, lheo_action: dict, data: dict) -> list[str]:
        wanted = self._wanted_informations(lheo_action, data)
        current = [
            (i.date, i.heure_debut, i.heure_fin, i.lieu, i.commentaire) for i in session.informations_collectives
        ]
        if current == wanted:
            return []
        session.informations_collectives = [
            InformationCollective(date=d, heure_debut=hd, heure_fin=hf, lieu=lieu, commentaire=c)
            for d, hd, hf, lieu, c in wanted
        ]
        return ["informations_collectives"]

    def _wanted_periodes(self, data: dict) -> list[tuple]:
        """The registration periods of a session, as ``PERIODE_COLUMNS`` tuples."""
        wanted = []
        sofi = data.get("sofi")
        if sofi is not None:
            for periode in sofi["periodes_inscription"]:
                debut = m.parse_lheo_date(periode.get("debut"))
                kind = _code(periode.get("type"), "sofi-types-periode-inscription")
                if debut and kind:
                    wanted.append((kind, debut, m.parse_lheo_date(periode.get("fin"), end=True)))
        elif data.get("periode_inscription"):
            periode = data["periode_inscription"]
            if periode["debut"] is None:
                self.report.warn(
                    f"Session {data.get('numero') or ''} : période d'inscription sans date de début "
                    f"({periode.get('debut_brut')}) : ignorée."
                )
            else:
                wanted.append(("inscription", periode["debut"], periode["fin"]))
        return [w for w in wanted if w[2] is None or w[2] >= w[1]]

    def _periodes(self, session: SessionFormation, data: dict) -> list[str]:
        wanted = self._wanted_periodes(data)
        current = [(p.type, p.date_debut, p.date_fin) for p in session.periodes_inscription]
        if current == wanted:
            return []
        session.periodes_inscription = [PeriodeInscription(type=t, date_debut=d, date_fin=f) for t, d, f in wanted]
        return ["periodes_inscription"]

    # --- dispositifs -------------------------------------------------------------------------------

    def _imported_dispositif(self, financeur: str) -> Dispositif | None:
        if financeur not in codelist("dict-financeurs"):
            return None
        code = m.IMPORTED_DISPOSITIF_BASE + int(financeur)
        dispositif = self.dispositifs.get(code) or self.schemes.get(code) or db.session.get(Dispositif, code)
        if dispositif is None:
            dispositif = Dispositif(
                code=code,
                label=f"LHÉO – {code_label('dict-financeurs', financeur)} ({financeur})",
                financeur_code=financeur,
                active=False,
            )
            db.session.add(dispositif)
            self.dispositifs[code] = dispositif
            self.report.warn(
                f"Dispositif « {dispositif.label} » créé (code {code}) pour le financeur LHÉO {financeur} ; "
                "les valideurs choisiront le dispositif SOFI exact."
            )
        return dispositif

    def _wanted_dispositifs(self, lheo_action: dict, data: dict) -> dict[int, dict]:
        """``{dispositif code: fields}`` for a session."""
        wanted: dict[int, dict] = {}
        sofi = data.get("sofi") or {}
        restantes = sofi.get("places_restantes") or {}
        if lheo_action.get("dispositifs") is not None:
            for item in lheo_action["dispositifs"]:
                code = _int(item.get("code"))
                scheme = (
                    (self.schemes.get(code) or self.dispositifs.get(code) or db.session.get(Dispositif, code))
                    if code is not None
                    else None
                )
                if scheme is None:
                    scheme = self._imported_dispositif(item.get("financeur") or "")
                    if scheme is None:
                        continue
                    self.report.warn(
                        f"Dispositif {item.get('code')} « {item.get('libelle')} » inconnu : financeur conservé."
                    )
                publics = []
                for public in (item.get("publics") or "").split():
                    if public in self.public_codes:
                        publics.append(public)
                    else:
                        self.report.warn(f"Public « {public} » inconnu du référentiel : ignoré.")
                fields = {
                    "publics": publics,
                    "nb_places": max(_int(item.get("nb-places")) or 1, 1),
                    "nb_places_restantes": _int(restantes.get(item.get("code"))),
                    **{name: _decimal(item.get(name.replace("_", "-"))) for name in DECIMAL_FIELDS},
                    **{
                        name: _int(item.get(name.replace("_", "-")))
                        for name in ("effectif_minimal", "capacite_simultanee", "annee_cycle")
                    },
                    **{name: item.get(name.replace("_", "-")) or None for name in TEXT_FIELDS},
                    "frais_certification": _flag(item.get("frais-certification")),
                    "prise_en_charge_frais": _flag(item.get("prise-en-charge-frais")),
                }
                self._merge(wanted, scheme.code, fields)
            return wanted
        publics = []
        for code in lheo_action.get("publics") or []:
            if code in self.publics:
                publics.append(self.publics[code])
            else:
                self.report.warn(f"Public visé {code} inconnu du référentiel des publics : ignoré.")
        cycle = next((c for c in data["cycles"]), None) or {}
        common = {
            "publics": publics,
            "frais_ttc": _decimal(lheo_action.get("prix_total")),
            "prise_en_charge_frais": bool(lheo_action.get("prise_en_charge")),
            "effectif_minimal": cycle.get("effectif_minimal"),
            "capacite_simultanee": cycle.get("capacite_simultanee"),
            "annee_cycle": cycle.get("annee"),
        }
        for financeur in lheo_action.get("financeurs") or []:
            scheme = self._imported_dispositif(financeur.get("code") or "")
            if scheme is None:
                continue
            places = financeur.get("nb_places") or cycle.get("capacite_simultanee") or 1
            self._merge(wanted, scheme.code, {**common, "nb_places": max(places, 1)})
        if not wanted:
            flags = lheo_action.get("flags") or {}
            for flag, code in FLAG_DISPOSITIFS:
                if flags.get(flag):
                    self._merge(wanted, code, {**common, "nb_places": max(cycle.get("capacite_simultanee") or 1, 1)})
        if not wanted:
            self.report.warn(
                f"Session {data.get('numero') or ''} : aucun financeur dans le fichier, aucun dispositif créé "
                f"(publics visés : {', '.join(lheo_action.get('publics') or []) or 'aucun'})."
            )
        return wanted

    @staticmethod
    def _merge(wanted: dict[int, dict], code: int, fields: dict) -> None:
        if code in wanted:
            wanted[code]["nb_places"] += fields["nb_places"]
            wanted[code]["publics"] = list(dict.fromkeys([*wanted[code]["publics"], *fields["publics"]]))
        else:
            wanted[code] = dict(fields)

    def _dispositif_rows(self, lheo_action: dict, data: dict) -> list[tuple[int, dict, list[str]]]:
        """(dispositif code, columns to set, public codes) of each dispositif of a session."""
        rows = []
        for code, fields in self._wanted_dispositifs(lheo_action, data).items():
            publics = fields.pop("publics")
            rows.append(
                (code, {k: v for k, v in fields.items() if v is not None or k == "nb_places_restantes"}, publics)
            )
        return rows

    def _dispositifs(self, session: SessionFormation, lheo_action: dict, data: dict) -> list[str]:
        changes = []
        existing = {d.dispositif_code: d for d in session.dispositifs}
        for code, fields, publics in self._dispositif_rows(lheo_action, data):
            dispositif = existing.pop(code, None)
            if dispositif is None:
                dispositif = SessionDispositif(dispositif_code=code, **fields)
                session.dispositifs.append(dispositif)
                changed = True
            else:
                changed = bool(_assign(dispositif, fields))
            public_rows = [self.public_rows[c] for c in publics]
            if [p.code for p in dispositif.publics] != [p.code for p in public_rows] and {
                p.code for p in dispositif.publics
            } != set(publics):
                dispositif.publics = public_rows
                changed = True
            if changed:
                changes.append("dispositifs")
        for dispositif in existing.values():
            session.dispositifs.remove(dispositif)
            changes.append("dispositifs")
        return list(dict.fromkeys(changes))
