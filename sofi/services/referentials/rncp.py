"""Import of the France compétences RNCP / RS XML flux (V4.1).

The official file is about 570 MB: it is parsed as a stream (``iterparse`` on ``FICHE``,
each element cleared once read), written in batches, and committed once at the end, so a
file that turns out to be malformed half-way leaves the database as it was.
Entities and network access are disabled in the parser.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import selectinload

from exporters import xml_syntax
from models import (
    BlocCompetences,
    Certificateur,
    Certification,
    Formacode,
    Organisation,
    db,
)
from sofi.services.errors import ImportFileError
from sofi.services.referentials.limits import check_lengths
from sofi.services.referentials.progress import CountingReader, Progress, no_progress
from sofi.text import search_key

BATCH_SIZE = 500
NUMERO_FICHE = re.compile(r"(RNCP|RS)[0-9]{1,8}")  # stored in 12 characters
ACTIVE_HABILITATIONS = {"Actif"}


@dataclass
class FicheRecord:
    numero: str
    intitule: str
    type_code: str | None = None
    type_libelle: str | None = None
    niveau: str | None = None
    date_fin: date | None = None
    actif: bool = True
    etat: str | None = None
    objectifs: str | None = None
    activites_visees: str | None = None
    capacites_attestees: str | None = None
    prerequis: str | None = None
    formacodes: list[tuple[str, str]] = field(default_factory=list)
    nsf: list[str] = field(default_factory=list)
    rome: list[str] = field(default_factory=list)
    blocs: list[dict] = field(default_factory=list)
    certificateurs: list[tuple[str | None, str]] = field(default_factory=list)
    habilitated_sirets: set[str] = field(default_factory=set)


@dataclass
class RncpImportSummary:
    created: int = 0
    updated: int = 0
    blocs: int = 0
    habilitations: int = 0

    @property
    def fiches(self) -> int:
        return self.created + self.updated


def _text(element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def _date(value: str | None, numero: str, name: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError as error:
        raise ImportFileError(f"Fiche {numero} : la date {name} « {value} » n'est pas au format JJ/MM/AAAA.") from error


def parse_fiche(element, position: int) -> FicheRecord:
    """Read one ``FICHE`` element (only its direct children name the fiche itself)."""
    numero = _text(element, "NUMERO_FICHE")
    if numero is None:
        raise ImportFileError(f"La fiche n°{position} du fichier n'a pas de NUMERO_FICHE.")
    if not NUMERO_FICHE.fullmatch(numero):
        raise ImportFileError(f"La fiche n°{position} a un NUMERO_FICHE invalide : « {numero} ».")
    intitule = _text(element, "INTITULE")
    if intitule is None:
        raise ImportFileError(f"La fiche {numero} n'a pas d'INTITULE.")
    niveau = _text(element, "NOMENCLATURE_EUROPE/NIVEAU")
    record = FicheRecord(
        numero=numero,
        intitule=intitule,
        type_code=_text(element, "ABREGE/CODE"),
        type_libelle=_text(element, "ABREGE/LIBELLE"),
        niveau=niveau.removeprefix("NIV") if niveau else None,
        date_fin=_date(_text(element, "DATE_FIN_ENREGISTREMENT"), numero, "de fin d'enregistrement"),
        actif=(_text(element, "ACTIF") or "Oui") == "Oui",
        etat=_text(element, "ETAT_FICHE"),
        objectifs=_text(element, "OBJECTIFS_CONTEXTE"),
        activites_visees=_text(element, "ACTIVITES_VISEES"),
        capacites_attestees=_text(element, "CAPACITES_ATTESTEES"),
        prerequis=_text(element, "PREREQUIS_ENTREE_FORMATION"),
    )
    check_lengths(
        Certification,
        {
            "intitule": intitule,
            "type_code": record.type_code,
            "type_libelle": record.type_libelle,
            "niveau_europeen": record.niveau,
            "etat_fiche": record.etat,
        },
        f"Fiche {numero}",
    )
    for formacode in element.iterfind("FORMACODES/FORMACODE"):
        code = _text(formacode, "CODE")
        if code:
            record.formacodes.append((code, _text(formacode, "LIBELLE") or code))
    record.nsf = [code for nsf in element.iterfind("CODES_NSF/NSF") if (code := _text(nsf, "CODE"))]
    record.rome = [code for rome in element.iterfind("CODES_ROME/ROME") if (code := _text(rome, "CODE"))]
    seen_blocs = set()
    for bloc in element.iterfind("BLOCS_COMPETENCES/BLOC_COMPETENCES"):
        code = _text(bloc, "CODE")
        if code is None or code in seen_blocs:  # the real export repeats some bloc codes
            continue
        seen_blocs.add(code)
        check_lengths(BlocCompetences, {"code": code}, f"Fiche {numero}, bloc")
        record.blocs.append(
            {
                "code": code,
                "libelle": _text(bloc, "LIBELLE") or code,
                "competences": _text(bloc, "LISTE_COMPETENCES"),
                "modalites_evaluation": _text(bloc, "MODALITES_EVALUATION"),
            }
        )
    for certificateur in element.iterfind("CERTIFICATEURS/CERTIFICATEUR"):
        nom = _text(certificateur, "NOM_CERTIFICATEUR")
        siret = _text(certificateur, "SIRET_CERTIFICATEUR")
        if nom:
            check_lengths(Certificateur, {"siret": siret, "nom": nom}, f"Fiche {numero}, certificateur")
            record.certificateurs.append((siret, nom))
            if siret and _text(certificateur, "ETAT_CERTIFICATEUR") in ACTIVE_HABILITATIONS:
                record.habilitated_sirets.add(siret)
    for partenaire in element.iterfind("PARTENAIRES/PARTENAIRE"):
        siret = _text(partenaire, "SIRET_PARTENAIRE")
        if siret and _text(partenaire, "ETAT_HABILITATION") in ACTIVE_HABILITATIONS:
            record.habilitated_sirets.add(siret)
    return record


def iter_fiches(path: Path, progress: Progress = no_progress):
    """Yield the fiches of an RNCP/RS export one by one, in constant memory."""
    try:
        with path.open("rb") as handle:
            context = etree.iterparse(
                CountingReader(handle, progress),
                events=("start", "end"),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=True,
            )
            depth = 0
            position = 0
            root_checked = False
            for event, element in context:
                if event == "start":
                    if not root_checked:
                        if element.getroottree().docinfo.doctype:
                            raise ImportFileError(
                                "Le document contient une déclaration DOCTYPE (entités, DTD externe) : refusé par "
                                "sécurité, un export de France compétences n'en a pas."
                            )
                        if element.tag != "FICHES":
                            raise ImportFileError(
                                f"Ce fichier n'est pas un export RNCP/RS de France compétences "
                                f"(élément racine « {element.tag} » au lieu de « FICHES »)."
                            )
                        root_checked = True
                    depth += 1
                    continue
                depth -= 1
                if element.tag == "FICHE" and depth == 1:
                    position += 1
                    yield parse_fiche(element, position)
                    element.clear()
                    parent = element.getparent()
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]
            if not root_checked:
                raise ImportFileError("Le fichier est vide.")
    except etree.XMLSyntaxError as error:
        raise ImportFileError(f"Le fichier XML est mal formé : {xml_syntax.describe(error)}.") from error
    except OSError as error:
        raise ImportFileError(f"Impossible de lire le fichier « {path} » : {error.strerror}.") from error


class _Writer:
    """Upserts fiches batch by batch (one query per batch to find the existing ones)."""

    def __init__(self, summary: RncpImportSummary):
        self.summary = summary
        self.organisation_ids = dict(db.session.execute(sa.select(Organisation.siret, Organisation.id)).all())
        self.known_formacodes = set(db.session.scalars(sa.select(Formacode.code)))
        self.habilitations = set(
            db.session.execute(sa.text("SELECT organisation_id, certification_id FROM organisation_habilitation")).all()
        )

    def write(self, batch: list[FicheRecord]) -> None:
        existing = {
            c.numero_fiche: c
            for c in db.session.scalars(
                sa.select(Certification)
                .where(Certification.numero_fiche.in_([r.numero for r in batch]))
                .options(selectinload(Certification.blocs), selectinload(Certification.certificateurs))
            )
        }
        for record in batch:
            certification = existing.get(record.numero)
            if certification is None:
                certification = Certification(numero_fiche=record.numero)
                db.session.add(certification)
                existing[record.numero] = certification
                self.summary.created += 1
            else:
                self.summary.updated += 1
            self._apply(certification, record)
        db.session.flush()
        self._habilitate(batch, existing)

    def _apply(self, certification: Certification, record: FicheRecord) -> None:
        certification.intitule = record.intitule
        certification.type_code = record.type_code
        certification.type_libelle = record.type_libelle
        certification.niveau_europeen = record.niveau
        certification.date_fin_enregistrement = record.date_fin
        certification.actif = record.actif
        certification.etat_fiche = record.etat
        certification.objectifs = record.objectifs
        certification.activites_visees = record.activites_visees
        certification.capacites_attestees = record.capacites_attestees
        certification.prerequis = record.prerequis
        certification.formacode_codes = [code for code, _ in record.formacodes]
        certification.nsf_codes = record.nsf
        certification.rome_codes = record.rome
        for code, label in record.formacodes:
            if code not in self.known_formacodes and len(code) == 5:
                db.session.add(
                    Formacode(code=code, label=label[:255], version="RNCP", search_text=search_key(code, label))
                )
                self.known_formacodes.add(code)
        # Blocs are matched on their code so that formations keep the blocs they selected.
        blocs = {bloc.code: bloc for bloc in certification.blocs}
        for data in record.blocs:
            bloc = blocs.get(data["code"])
            if bloc is None:
                bloc = BlocCompetences(code=data["code"])
                certification.blocs.append(bloc)
            bloc.libelle = data["libelle"]
            bloc.competences = data["competences"]
            bloc.modalites_evaluation = data["modalites_evaluation"]
        self.summary.blocs += len(record.blocs)
        certification.certificateurs = [Certificateur(siret=siret, nom=nom) for siret, nom in record.certificateurs]

    def _habilitate(self, batch: list[FicheRecord], certifications: dict[str, Certification]) -> None:
        rows = []
        for record in batch:
            certification_id = certifications[record.numero].id
            for siret in record.habilitated_sirets:
                organisation_id = self.organisation_ids.get(siret)
                if organisation_id and (organisation_id, certification_id) not in self.habilitations:
                    self.habilitations.add((organisation_id, certification_id))
                    rows.append({"organisation_id": organisation_id, "certification_id": certification_id})
        if rows:
            db.session.execute(
                sa.text(
                    "INSERT INTO organisation_habilitation (organisation_id, certification_id) "
                    "VALUES (:organisation_id, :certification_id)"
                ),
                rows,
            )
            self.summary.habilitations += len(rows)


def import_rncp(path: Path, progress: Progress = no_progress, commit: bool = True) -> RncpImportSummary:
    """Create or update the certifications of an RNCP or RS export; all or nothing."""
    summary = RncpImportSummary()
    try:
        writer = _Writer(summary)
        batch: list[FicheRecord] = []
        for record in iter_fiches(Path(path), progress):
            batch.append(record)
            if len(batch) >= BATCH_SIZE:
                writer.write(batch)
                batch = []
        if batch:
            writer.write(batch)
        if summary.fiches == 0:
            raise ImportFileError("Le fichier ne contient aucune fiche (élément FICHE).")
        if commit:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return summary
