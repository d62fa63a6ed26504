"""Importing LHÉO 2.3 / 2.2 documents: organisations, sites, formations, actions, sessions, dispositifs.

One streamed pass over the file (``exporters.lheo.reader``; a large file is read ahead by another
process, ``exporters.lheo.read_ahead``), in one transaction:

1. the file is checked (size, no DOCTYPE, namespace, root, each formation against the official
   XSD before it is applied). A ``lheo-index`` (Intercarif search summaries) is reported as not
   being an offer document; any schema error rejects the file: from the first one, the rest of
   the file is only validated, and at the end the transaction is rolled back, nothing written.
2. each valid formation is applied inside a savepoint: a record that SOFI cannot
   take (invalid SIRET, session without known dates…) is skipped with its reason, the others
   are created or updated. ``--dry-run`` rolls everything back at the end. The formations,
   actions and sessions created (with the formations' domains and blocs, the sessions'
   dispositifs, publics, meetings and periods, and the audit rows of all of them) are plain
   rows, checked by the models' validators when read and inserted in bulk after each flush
   (``NewFormation``, ``NewAction``, ``NewSession``): as ORM objects, the formations and
   actions alone took a fifth of an import's time more.

The modules of the import: this one (the transaction, the batches of formations and their
savepoints, formations and actions), ``lheo_import_parties`` (organisations, communes, sites,
contacts), ``lheo_import_sessions`` (sessions, their dispositifs, meetings and periods),
``lheo_import_values`` (the file's values as SOFI stores them) and ``lheo_import_report``.

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
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from exporters.lheo import mapping as m
from exporters.lheo.read_ahead import READ_AHEAD_MIN_BYTES, FormationBatches
from exporters.lheo.reader import DEFAULT_MAX_BYTES, LheoFileError
from models import (
    Action,
    ActionStatus,
    AuditEvent,
    BlocCompetences,
    Certification,
    CertifInfo,
    Commune,
    Contact,
    Dispositif,
    Formacode,
    Formation,
    FormationFormacode,
    ModelValidationError,
    Nsf,
    Organisation,
    Public,
    Rome,
    Site,
    db,
)
from models.codelists import codelist
from models.offer import MAX_FORMACODES, formation_bloc
from models.validation import check_siret
from sofi import audit
from sofi.config import int_setting
from sofi.db_unavailable import is_database_unavailable
from sofi.plain_rows import number_new_objects, validated, write_rows, write_values
from sofi.services import workflow
from sofi.services.errors import DomainError, ImportFileError
from sofi.services.lheo_import_parties import PartiesImport
from sofi.services.lheo_import_report import CREATED, SKIPPED, UNCHANGED, UPDATED, Entry, ImportReport
from sofi.services.lheo_import_sessions import NewSession, SessionsImport, insert_created
from sofi.services.lheo_import_values import (
    SkipRecord,
    assign,
    date_problem,
    dated,
    decimal_or_none,
    flag_set,
    formation_key,
    int_or_none,
    listed_code,
    plain_text,
    rich_text,
    sofi_identifiant,
)
from sofi.text import search_key

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
def _planned_for_now():
    """On PostgreSQL, plan the statements run inside for the tables as they are now.

    The driver prepares a statement run five times, and PostgreSQL may then keep a generic plan,
    made while the import's tables were nearly empty: the look-up of a batch's formations (an
    ``IN`` list of their numbers) went from 1 ms to 70 ms as the import filled the table, 0.8 s of
    an import of 8,291 formations. Not for the whole import: the foreign-key checks would be
    planned again for each row (twice the database's time).
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    try:
        yield
    finally:
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = auto")


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


# What skips a formation (and undoes what it wrote); anything else aborts the whole import.
SKIPS = (SkipRecord, DomainError, ModelValidationError, sa.exc.IntegrityError)


def _skip_reason(error: Exception) -> str:
    if isinstance(error, sa.exc.IntegrityError):
        return "donnée incohérente ou déjà utilisée (contrainte de la base)"
    message = error.args[0] if isinstance(error, SkipRecord) else getattr(error, "message", None)
    return message or str(error)


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
        identifiants = {i for d in batch if (i := sofi_identifiant(d)) is not None}
        keys = {formation_key(d) for d in batch}
        with_organisation = sa.orm.selectinload(Formation.organisation)
        with _planned_for_now():
            by_id = {
                f.id: f
                for f in db.session.scalars(
                    sa.select(Formation).where(Formation.id.in_(identifiants)).options(with_organisation)
                )
            }
            rows = db.session.execute(
                sa.select(Formation, Organisation.siren)
                .join(Organisation, Formation.organisation_id == Organisation.id)
                .where(Formation.numero_lheo.in_(keys), Organisation.siren.in_(sirens))
                .order_by(Formation.id)
            ).all()
        by_key: dict[tuple[str, str], Formation] = {}
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


@dataclass
class NewFormation:
    """A formation the import creates, as a plain row (see ``NewAction``), with the rows of its
    Formacode domains and blocs; inserted after the next flush, before its actions."""

    organisation: Organisation
    certification: Certification | None
    columns: dict
    formacodes: list[str]
    blocs: list[BlocCompetences]

    @classmethod
    def of(
        cls, organisation: Organisation, key: str, values: dict, codes: list[str], principal: str | None, blocs: list
    ) -> "NewFormation":
        """``codes`` and ``principal``: as ``_formacodes`` gives them, checked by the model's rules."""
        Formation.check_formacodes(codes, principal)
        certification = values.pop("certification")
        columns = validated(Formation, {"numero_lheo": key, **values, "formacode_principal": principal})
        return cls(organisation, certification, columns, codes, blocs)

    @property
    def id(self) -> int | None:
        return self.columns.get("id")


@dataclass
class NewAction:
    """An action the import creates, as a plain row (like its sessions): checked when read by the
    model's validators, inserted after the next flush has given its formation, organisation and
    site an id, then its sessions. Reads as the few ``Action`` attributes its sessions use."""

    formation: Formation | NewFormation
    organisation: Organisation
    site: Site
    columns: dict

    @classmethod
    def of(cls, formation: Formation | NewFormation, key: str, values: dict) -> "NewAction":
        links = {name: values.pop(name) for name in ("organisation", "site")}
        return cls(formation, columns=validated(Action, {"numero_lheo": key, **values}), **links)

    @property
    def id(self) -> int | None:
        return self.columns.get("id")

    @property
    def organisation_id(self) -> int | None:
        return self.organisation.id

    @property
    def formation_id(self) -> int | None:
        return self.formation.id


class Importer(PartiesImport, SessionsImport):
    """Applies the formations of a file: batches, savepoints, the formations and their actions.

    Its parts in their own modules: the organisations, communes, sites and contacts
    (``lheo_import_parties``), the sessions and their rows (``lheo_import_sessions``); the values
    of the file as SOFI stores them are read by ``lheo_import_values``. This class holds the
    state they share: reference rows read once, and the records of the current savepoint.
    """

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
        self._new_formations: list[NewFormation] = []
        self._new_actions: list[NewAction] = []
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
        events = [*self._write_new_formations(), *self._write_new_actions(), *self._write_new_sessions()]
        if events:
            write_values(AuditEvent.__table__, audit.CREATED_EVENT_KEYS, events)
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
        key = formation_key(data)
        formation = self._find_formation(sofi, key, responsible)
        created = formation is None
        self._unflushed.add(("formation", responsible.siren, key))
        if not created:
            self._unflushed.add(("formation", formation.id))
        values, (codes, principal), blocs = self._formation_values(formation, data)
        if created:
            formation = NewFormation.of(responsible, key, values, codes, principal, blocs)
            self._new_formations.append(formation)
            changes = []
        else:
            changes = self._update_formation(formation, values, codes, principal, blocs)
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
        if sofi and (identifiant := int_or_none(sofi.get("identifiant"))) is not None:
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

    def _formation_values(self, formation: Formation | None, data: dict) -> tuple[dict, tuple, list]:
        """The values of a formation (``certification``: a record), its Formacodes (codes, principal)
        and its blocs, read from its LHÉO record (``formation``: the stored one it updates, if any)."""
        sofi = data.get("sofi") or {}
        from_action = set((sofi.get("textes-action") or "").split())
        certification, certifinfo = self._certification(data)
        certifiante = bool(data["certifiante"] and (certification or certifinfo))
        objectif_general = listed_code(data.get("objectif_general"), "dict-AIS") or ("6" if certifiante else "7")
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
            "niveau_sortie": listed_code(data.get("niveau_sortie"), "dict-niveaux"),
            "nsf_code": nsf,
            "rome_codes": romes[:5],
            "objectifs": None if "objectifs" in from_action else rich_text(data.get("objectifs")),
            "resultats": None if "resultats" in from_action else rich_text(data.get("resultats")),
            "programme": None if "programme" in from_action else rich_text(data.get("programme")),
            "validation_blocs": sofi.get("validation-blocs") or listed_code(validation, "dict-type-validation-blocs"),
        }
        if sofi:
            values["type_certification"] = sofi.get("type-certification") or None
            values["individualisation_blocs"] = flag_set(sofi.get("individualisation-blocs"))
        elif certifiante and (formation is None or formation.type_certification is None):
            values["type_certification"] = (certifinfo.type_libelle if certifinfo else None) or (
                certification.type_libelle if certification else None
            )
        blocs = [b for b in (certification.blocs if certification and certifiante else []) if b.code in blocs_codes]
        return values, self._formacodes(data), blocs

    @staticmethod
    def _update_formation(
        formation: Formation, values: dict, codes: list[str], principal: str | None, blocs: list
    ) -> list[str]:
        """Apply the values read to a stored formation; the names of what changed."""
        changes = assign(formation, values)
        # the order of the domains other than the principal one is not carried by LHÉO
        if set(codes) != set(formation.formacode_codes) or principal != formation.formacode_principal:
            formation.set_formacodes(codes, principal)
            changes.append("formacodes")
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
        codes = codes[:MAX_FORMACODES]
        principal = data.get("principal") if data.get("principal") in codes else None
        if principal:
            codes.remove(principal)
            codes.insert(0, principal)
        return codes, principal or (codes[0] if codes else None)

    def _write_new_formations(self) -> list[tuple]:
        """Insert the formations created since the last flush, their domains and blocs; their audit
        rows (``insert_created``). Run after the ORM flush, before their actions."""
        new, self._new_formations = self._new_formations, []
        if not new:
            return []
        for formation in new:
            formation.columns.update(
                organisation_id=formation.organisation.id,
                certification_id=formation.certification.id if formation.certification else None,
            )
        rows = [formation.columns for formation in new]
        events = insert_created(Formation, rows, lambda row: (row["organisation_id"], None))
        domains = [
            {"formation_id": f.id, "formacode_code": code, "position": position}
            for f in new
            for position, code in enumerate(f.formacodes)
        ]
        if domains:
            write_rows(FormationFormacode.__table__, domains)
        blocs = [{"formation_id": f.id, "bloc_id": bloc.id} for f in new for bloc in f.blocs]
        if blocs:
            write_rows(formation_bloc, blocs)
        return events

    # --- action ----------------------------------------------------------------------------------

    def _write_new_actions(self) -> list[tuple]:
        """Insert the actions created since the last flush (one statement); their audit rows
        (``insert_created``). Run after their formations, before their sessions."""
        new, self._new_actions = self._new_actions, []
        if not new:
            return []
        for action in new:
            action.columns.update(
                formation_id=action.formation.id, organisation_id=action.organisation.id, site_id=action.site.id
            )
        return insert_created(
            Action, [action.columns for action in new], lambda row: (row["organisation_id"], row["id"])
        )

    def action(
        self,
        formation: "Formation | NewFormation",
        responsible: Organisation,
        fdata: dict,
        key: str,
        actions: list[dict],
    ) -> bool:
        first = actions[0]
        numero = first.get("numero") or key
        label = plain_text(fdata.get("intitule") or "")
        entry = self.report.open("action", numero, label)
        sofi = first.get("sofi") or {}
        dispensateur = self.formateur(first.get("formateur"), responsible)
        action = None
        if formation.id is not None:
            identifiant = int_or_none(sofi.get("identifiant"))
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
        usable = [pair for pair in sessions if isinstance(sites[id(pair[0])], Site) and dated(pair[1])]
        if created and not usable:
            for lheo_action, session in sessions:
                site = sites[id(lheo_action)]
                reason = str(site) if not isinstance(site, Site) else date_problem(session)
                self.report.add("session", session.get("numero"), label, SKIPPED, reason)
            entry.outcome, entry.detail = SKIPPED, "aucune session importable"
            return False
        if created:
            values = self._action_values(dispensateur, fdata, first, sites, sites[id(usable[0][0])])
            action = NewAction.of(formation, key, values)
            self._new_actions.append(action)
            changes = []
        else:
            changes = assign(action, self._action_values(dispensateur, fdata, first, sites, action.site))
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

    def _action_values(
        self, dispensateur: Organisation, fdata: dict, first: dict, sites: dict, current_site: Site
    ) -> dict:
        """The values of an action (``organisation`` and ``site``: records) read from its first LHÉO action."""
        sofi = first.get("sofi")
        site = next((s for s in sites.values() if isinstance(s, Site)), current_site)
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
                equipement_cout=decimal_or_none(sofi.get("equipement-cout")),
                equipement_commentaire=sofi.get("equipement-commentaire") or None,
                niveau_entree=listed_code(sofi.get("niveau-entree"), "dict-niveaux") or "1",
                prerequis=[c for c in (sofi.get("prerequis") or "").split() if c in codelist("sofi-prerequis")],
                commentaire_prerequis=sofi.get("commentaire-prerequis") or None,
            )
        else:
            equipement = first.get("equipement") or {}
            values.update(
                niveau_entree=listed_code(fdata.get("niveau_entree"), "dict-niveaux") or "0",
                commentaire_prerequis=rich_text(first.get("conditions")),
                equipement_cout=Decimal(equipement["cout"]) if equipement.get("cout") is not None else None,
                equipement_commentaire=equipement.get("commentaire"),
            )
        values["site"] = site
        values["url_action"] = m.normalise_url(first.get("url"))
        equipement = first.get("equipement") or {}
        values["equipement_type"] = listed_code(equipement.get("type"), "dict-type-equipement")
        return values
