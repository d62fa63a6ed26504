"""A realistic synthetic data set, written with bulk inserts: ``flask sofi generate``.

Organisations (valid SIRETs) with their sites, contacts, agreements and habilitations;
formations on real Formacodes and certifications of the reference data; actions in every
workflow state; sessions on real communes with dispositifs and their publics; and, for the
published actions, the published version that ``sofi.services.publication.publish`` would
have stored (the snapshot JSON in the very same shape, its LHÉO rendering, the search rows and
association tables), so that the catalogue, the API and the LHÉO export see them.

Rows are written with PostgreSQL's ``COPY`` (psycopg ``cursor.copy``) or SQLite's
``executemany``, chunk by chunk (memory does not grow with the volume), in one transaction.
Ids are allocated from the sequences (PostgreSQL ``setval`` ranges, SQLite max + 1), so
that FAS codes stay unique and the app keeps creating records normally afterwards. The
audit log is bypassed on purpose: this is synthetic data, not user writes.
"""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from stdnum import luhn

from exporters.lheo import fragment
from models import (
    Action,
    ActionStatus,
    BlocCompetences,
    Certification,
    CertifInfo,
    Commune,
    CommuneCodePostal,
    Contact,
    Conventionnement,
    Dispositif,
    Formacode,
    Formation,
    FormationFormacode,
    Organisation,
    Public,
    PublishedAction,
    PublishedFormacode,
    PublishedSession,
    SessionDispositif,
    SessionFormation,
    Site,
    db,
    published_session_dispositif,
    published_session_public,
)
from models.base import utcnow
from models.codelists import codelist, label
from models.offer import formation_bloc, session_dispositif_public
from models.organisations import organisation_habilitation
from models.publication import formacode_domains
from models.referentials import dispositif_public
from sofi.plain_rows import first_free_id, write_values
from sofi.search_public import cache as search_cache
from sofi.search_public import kept_counts
from sofi.services.certifications import excerpt, niveau_code
from sofi.services.errors import DomainError
from sofi.text import search_key

VACUUMED = (
    "organisation", "site", "contact", "formation", "formation_formacode", "action", "session_formation",
    "session_dispositif", "session_dispositif_public", "published_action", "published_formacode", "published_session",
    "published_session_dispositif", "published_session_public",
)  # fmt: skip
# Sessions written per chunk (one COPY / executemany per table and chunk).
CHUNK_SESSIONS = 20_000
SITES_PER_ORGANISATION = 3
CERTIFYING_SHARE = 0.4
# Dispositifs whose sessions can be approved without a funder's decision or a supporting document.
PLAIN_DISPOSITIFS = (1, 6, 7, 8, 9, 12, 14, 15, 16)
# Share of each non-published state among the actions that are not published.
OTHER_STATES = (
    (ActionStatus.EN_COURS_DE_SAISIE, 0.35),
    (ActionStatus.EN_ATTENTE_VALIDATION, 0.25),
    (ActionStatus.EN_ATTENTE_REPONSES, 0.10),
    (ActionStatus.REFUSEE, 0.10),
    (ActionStatus.ARCHIVEE, 0.20),
)
PREFIXES = ("Formation", "Initiation", "Perfectionnement", "Préparation", "Remise à niveau", "Parcours")
NAMES = ("Atlantique", "Loire", "Vendée", "Maine", "Anjou", "Mayenne", "Sarthe", "Estuaire", "Bocage", "Océan")
KINDS = ("FORMATION", "COMPETENCES", "INSTITUT", "ACADEMIE", "CENTRE DE FORMATION", "ECOLE")
FIRST_NAMES = ("Camille", "Dominique", "Claude", "Morgane", "Yann", "Gwenaëlle", "Loïc", "Nathalie", "Erwan", "Sophie")
LAST_NAMES = ("Le Goff", "Martin", "Bernard", "Guérin", "Morel", "Durand", "Lefèvre", "Roux", "Fournier", "Girard")


@dataclass
class GenerateSummary:
    counts: dict[str, int] = field(default_factory=dict)

    def message(self) -> str:
        parts = ", ".join(f"{count} {name}" for name, count in self.counts.items())
        return f"Jeu de données généré : {parts}."


def _value(value):
    """What ``sofi.services.publication`` stores in a snapshot for a column value."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Writing ----------------------------------------------------------------------------------------
class _BulkWriter:
    """Writes tuples of column values (``plain_rows.write_values``: COPY on PostgreSQL, executemany on
    SQLite) and counts them.

    Its own conversions, not SQLAlchemy's bind processors: a JSON column given None stays NULL, and
    psycopg adapts dates and enums' values itself.
    """

    def __init__(self):
        self.dialect = db.session.connection().dialect
        self.postgresql = self.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def _converters(self, table: sa.Table, columns: list[str]) -> list[Callable | None]:
        converters = []
        for name in columns:
            column_type = table.c[name].type
            if isinstance(column_type, sa.JSON) and self.postgresql:
                converters.append(json.dumps)
            elif self.postgresql or isinstance(column_type, sa.Enum):
                converters.append(None)
            else:  # SQLite: the dialect's own conversions (its date and time text formats, JSON)
                converters.append(column_type.dialect_impl(self.dialect).bind_processor(self.dialect))
        return converters

    def write(self, table: sa.Table, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        converters = self._converters(table, columns)
        if any(converters):
            rows = [
                tuple(
                    value if value is None or convert is None else convert(value)
                    for convert, value in zip(converters, row, strict=True)
                )
                for row in rows
            ]
        write_values(table, columns, rows)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


def allocate_ids(table: sa.Table, count: int) -> int:
    """Reserve ``count`` consecutive ids of ``table``; returns the first.

    PostgreSQL: the range is taken from the id sequence (``setval``), past any id already used.
    SQLite: the next free id (``plain_rows.first_free_id``).
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return first_free_id(connection, table)
    highest = connection.scalar(sa.select(sa.func.max(table.c.id))) or 0
    sequence = connection.scalar(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
    first = max(connection.scalar(sa.text(f"SELECT nextval('{sequence}')")), highest + 1)
    if count > 0:
        connection.execute(sa.text(f"SELECT setval('{sequence}', {first + count - 1})"))
    return first


# Reference data ---------------------------------------------------------------------------------
@dataclass
class _Certification:
    id: int
    certifinfo_code: int
    intitule: str
    fields: dict
    snapshot: dict
    certifinfo_intitule: str
    formacodes: list[str]
    blocs: list[tuple[int, str, str]]
    last_start: date | None


class _Reference:
    def __init__(self, today: date):
        session = db.session
        self.formacodes = dict(session.execute(sa.select(Formacode.code, Formacode.label)).tuples().all())
        if not self.formacodes:
            raise DomainError(
                "Les données de référence manquent : lancer d'abord « flask --app app sofi load-referentials »."
            )
        self.formacode_list = sorted(self.formacodes)
        postal = {}
        for code, postal_code in session.execute(
            sa.select(CommuneCodePostal.code_insee, CommuneCodePostal.code_postal).order_by(
                CommuneCodePostal.code_postal
            )
        ):
            postal.setdefault(code, postal_code)
        self.communes = [
            {
                "snapshot": {
                    "code_insee": c.code_insee,
                    "nom": c.nom,
                    "departement": c.departement,
                    "region": c.region,
                },
                "code_postal": postal[c.code_insee],
                "latitude": c.latitude,
                "longitude": c.longitude,
            }
            for c in session.scalars(
                sa.select(Commune)
                .where(Commune.kind == "commune-actuelle", Commune.latitude.is_not(None))
                .order_by(Commune.code_insee)
            )
            if c.code_insee in postal
        ]
        if not self.communes:
            raise DomainError(
                "Aucune commune avec coordonnées : lancer d'abord « flask --app app sofi load-referentials »."
            )
        publics = {p.code: p for p in session.scalars(sa.select(Public))}
        defaults: dict[int, list[str]] = {}
        for code, public in session.execute(
            sa.select(dispositif_public.c.dispositif_code, dispositif_public.c.public_code)
        ):
            defaults.setdefault(code, []).append(public)
        self.dispositifs = []
        for scheme in session.scalars(
            sa.select(Dispositif)
            .where(Dispositif.code.in_(PLAIN_DISPOSITIFS), Dispositif.active)
            .order_by(Dispositif.code)
        ):
            scheme_publics = sorted((publics[c] for c in defaults.get(scheme.code, [])), key=lambda p: p.label)
            if not scheme_publics:
                continue
            self.dispositifs.append(
                {
                    "code": scheme.code,
                    "apprentissage": scheme.contrat_apprentissage,
                    "alternance": scheme.contrat_apprentissage or scheme.contrat_professionnalisation,
                    "prise_en_charge_frais": scheme.prise_en_charge_frais,
                    "publics": [p.code for p in scheme_publics],
                    "snapshot": {
                        "code": scheme.code,
                        "libelle": scheme.label,
                        "financeur_code": scheme.financeur_code,
                        "financeur": label("dict-financeurs", scheme.financeur_code),
                        "conventionnement_financeur": scheme.conventionnement_financeur,
                        "programme_regional": scheme.programme_regional,
                        "contrat_apprentissage": scheme.contrat_apprentissage,
                        "contrat_professionnalisation": scheme.contrat_professionnalisation,
                        "publics": [
                            {"code": p.code, "libelle": p.label, "formacode": p.formacode_code} for p in scheme_publics
                        ],
                    },
                }
            )
        if not self.dispositifs:
            raise DomainError(
                "La base Dispositif est vide : lancer d'abord « flask --app app sofi load-referentials »."
            )
        self.certifications = self._certifications(today)

    def _certifications(self, today: date) -> list[_Certification]:
        usable = []
        certifications = db.session.scalars(
            sa.select(Certification).where(Certification.actif).order_by(Certification.numero_fiche)
        )
        for certification in certifications:
            end = certification.date_fin_enregistrement
            if end is not None and end < today + timedelta(days=90):
                continue
            numero = certification.numero_fiche
            criterion = (
                CertifInfo.rs_code == numero[2:] if numero.startswith("RS") else CertifInfo.rncp_code == numero[4:]
            )
            certifinfo = db.session.scalar(sa.select(CertifInfo).where(criterion).order_by(CertifInfo.code).limit(1))
            if certifinfo is None:
                continue
            formacodes = [c for c in (certification.formacode_codes or []) if c in self.formacodes][:5]
            if not formacodes and certifinfo.formacode_code in self.formacodes:
                formacodes = [certifinfo.formacode_code]
            blocs = sorted(
                db.session.execute(
                    sa.select(BlocCompetences.id, BlocCompetences.code, BlocCompetences.libelle).where(
                        BlocCompetences.certification_id == certification.id
                    )
                ).tuples(),
                key=lambda bloc: bloc[1],
            )
            fields = {
                "type_certification": certifinfo.type_libelle or certification.type_libelle,
                "niveau_sortie": niveau_code(certification.niveau_europeen or certifinfo.niveau_europeen),
                "objectifs": excerpt(certification.objectifs or certification.capacites_attestees),
                "programme": excerpt(certification.activites_visees),
                "nsf_code": (certification.nsf_codes or [certifinfo.nsf_code])[0],
                "rome_codes": list((certification.rome_codes or certifinfo.rome_codes or [])[:5]),
            }
            usable.append(
                _Certification(
                    id=certification.id,
                    certifinfo_code=certifinfo.code,
                    intitule=(certifinfo.intitule or certification.intitule)[:255],
                    fields=fields,
                    snapshot={
                        "numero_fiche": certification.numero_fiche,
                        "intitule": certification.intitule,
                        "date_fin_enregistrement": _value(end),
                        "niveau_europeen": certification.niveau_europeen,
                        "type_libelle": certification.type_libelle,
                    },
                    certifinfo_intitule=certifinfo.intitule,
                    formacodes=formacodes,
                    blocs=blocs,
                    last_start=end - timedelta(days=1) if end else None,
                )
            )
        return usable


# Snapshot pieces (the shapes of sofi.services.publication) --------------------------------------
def _organisation_snapshot(row: dict, commune: dict) -> dict:
    return {
        "id": row["id"],
        "siret": row["siret"],
        "siren": row["siren"],
        "nda": row["nda"],
        "raison_sociale": row["raison_sociale"],
        "nom_usuel": row["nom_usuel"],
        "code_sofi": row["code_sofi"],
        "adresse1": row["adresse1"],
        "adresse2": None,
        "code_postal": row["code_postal"],
        "commune": commune,
        "telephone": row["telephone"],
        "email": row["email"],
        "site_web": None,
    }


def _site_snapshot(row: dict, commune: dict) -> dict:
    return {
        "id": row["id"],
        "nom": row["nom"],
        "adresse1": row["adresse1"],
        "adresse2": None,
        "code_postal": row["code_postal"],
        "commune": commune,
        "siret": row["siret"],
        "uai": None,
        "accessible_pmr": row["accessible_pmr"],
        "accessibilite": None,
        "latitude": row["latitude"],
        "longitude": row["longitude"],
    }


def _contact_snapshot(row: dict) -> dict:
    return {
        "id": row["id"],
        "civilite": row["civilite"],
        "nom": row["nom"],
        "prenom": row["prenom"],
        "fonction": row["fonction"],
        "type_contact": row["type_contact"],
        "email": row["email"],
        "telephone_fixe": row["telephone_fixe"],
        "telephone_portable": None,
    }


# The generator ----------------------------------------------------------------------------------
class _Generator:
    def __init__(self, rng: random.Random, today: date, published_ratio: float, progress):
        self.rng = rng
        self.today = today
        self.now = utcnow()
        self.published_ratio = published_ratio
        self.progress = progress or (lambda n: None)
        self.ref = _Reference(today)
        self.writer = _BulkWriter()
        niveaux = list(codelist("dict-niveaux"))
        self.niveaux = [n for n in niveaux if n not in ("0",)]
        self.objectifs_generaux = [c for c in codelist("dict-AIS") if c not in ("1", "6")]
        self.rythmes = list(codelist("sofi-rythmes"))
        self.modalites = list(codelist("sofi-modalites-pedagogiques"))
        self.prerequis = list(codelist("sofi-prerequis"))
        self.action_number = 0

    # Directory ------------------------------------------------------------------------------
    def organisations(self, count: int) -> list[dict]:
        rng, now = self.rng, self.now
        connection = db.session.connection()
        existing = set(connection.scalars(sa.select(Organisation.siret)))
        code_sofi = (connection.scalar(sa.select(sa.func.max(Organisation.code_sofi))) or 90000) + 1
        first = allocate_ids(Organisation.__table__, count)
        first_site = allocate_ids(Site.__table__, count * SITES_PER_ORGANISATION)
        first_contact = allocate_ids(Contact.__table__, count * 2)
        organisations, sites, contacts = [], [], []
        number = rng.randrange(1_000_000, 8_000_000)
        for index in range(count):
            while True:
                number += 1
                siren = f"9{number:07d}"
                siren += luhn.calc_check_digit(siren)
                siret = siren + "0001"
                siret += luhn.calc_check_digit(siret)
                if siret not in existing:
                    break
            commune = rng.choice(self.ref.communes)
            name = f"{rng.choice(KINDS)} {rng.choice(NAMES).upper()} {index + 1}"
            row = {
                "id": first + index,
                "code_sofi": code_sofi + index,
                "raison_sociale": name,
                "nom_usuel": name.title(),
                "siret": siret,
                "siren": siren,
                "nda": f"52{rng.randrange(10**8, 10**9)}",
                "adresse1": f"{rng.randrange(1, 120)} rue de la Formation",
                "code_postal": commune["code_postal"],
                "commune_code": commune["snapshot"]["code_insee"],
                "telephone": f"02 40 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                "email": f"contact@of{first + index}.example",
            }
            row["snapshot"] = _organisation_snapshot(row, commune["snapshot"])
            row["sites"] = []
            for position in range(SITES_PER_ORGANISATION):
                place = commune if position == 0 else rng.choice(self.ref.communes)
                site = {
                    "id": first_site + index * SITES_PER_ORGANISATION + position,
                    "organisation_id": row["id"],
                    "nom": "Principal" if position == 0 else f"Antenne {place['snapshot']['nom']}"[:255],
                    "adresse1": f"{rng.randrange(1, 200)} avenue des Métiers",
                    "code_postal": place["code_postal"],
                    "commune_code": place["snapshot"]["code_insee"],
                    "siret": siret if position == 0 else None,
                    "accessible_pmr": rng.random() < 0.8,
                    "latitude": round(place["latitude"] + rng.uniform(-0.01, 0.01), 5),
                    "longitude": round(place["longitude"] + rng.uniform(-0.01, 0.01), 5),
                }
                site["snapshot"] = _site_snapshot(site, place["snapshot"])
                site["commune"] = place["snapshot"]
                row["sites"].append(site)
                sites.append(site)
            row["contacts"] = []
            for position in range(2):
                contact = {
                    "id": first_contact + index * 2 + position,
                    "organisation_id": row["id"],
                    "civilite": rng.choice(("M", "MME")),
                    "nom": rng.choice(LAST_NAMES),
                    "prenom": rng.choice(FIRST_NAMES),
                    "fonction": "Responsable pédagogique" if position == 0 else "Assistante de formation",
                    "type_contact": "3" if position == 0 else "4",
                    "email": f"contact{position}@of{row['id']}.example",
                    "telephone_fixe": row["telephone"],
                    "referent": position == 0,
                }
                contact["snapshot"] = _contact_snapshot(contact)
                row["contacts"].append(contact)
                contacts.append(contact)
            organisations.append(row)
        stamps = (now, now, 1)
        w = self.writer
        w.write(
            Organisation.__table__,
            [
                "id", "code_sofi", "raison_sociale", "nom_usuel", "siret", "siren", "nda", "adresse1", "code_postal",
                "commune_code", "telephone", "email", "active", "created_at", "updated_at", "version",
            ],
            [
                (
                    o["id"], o["code_sofi"], o["raison_sociale"], o["nom_usuel"], o["siret"], o["siren"], o["nda"],
                    o["adresse1"], o["code_postal"], o["commune_code"], o["telephone"], o["email"], True, *stamps,
                )
                for o in organisations
            ],
        )  # fmt: skip
        w.write(
            Site.__table__,
            [
                "id", "organisation_id", "nom", "adresse1", "code_postal", "commune_code", "siret", "accessible_pmr",
                "latitude", "longitude", "active", "created_at", "updated_at", "version",
            ],
            [
                (
                    s["id"], s["organisation_id"], s["nom"], s["adresse1"], s["code_postal"], s["commune_code"],
                    s["siret"], s["accessible_pmr"], s["latitude"], s["longitude"], True, *stamps,
                )
                for s in sites
            ],
        )  # fmt: skip
        w.write(
            Contact.__table__,
            [
                "id", "organisation_id", "civilite", "nom", "prenom", "fonction", "type_contact", "email",
                "telephone_fixe", "referent_pmr", "referent_mobilite", "referent_prf", "mail_liaison", "active",
                "created_at", "updated_at", "version",
            ],
            [
                (
                    c["id"], c["organisation_id"], c["civilite"], c["nom"], c["prenom"], c["fonction"],
                    c["type_contact"], c["email"], c["telephone_fixe"], c["referent"], c["referent"], c["referent"],
                    c["referent"], True, *stamps,
                )
                for c in contacts
            ],
        )  # fmt: skip
        w.write(
            Conventionnement.__table__,
            ["organisation_id", "financeur_code"],
            [(o["id"], code) for o in organisations for code in ("2", "7")],
        )
        w.write(
            organisation_habilitation,
            ["organisation_id", "certification_id"],
            [(o["id"], c.id) for o in organisations for c in self.ref.certifications],
        )
        return organisations

    # Offer ------------------------------------------------------------------------------------
    def _states(self, count: int) -> list[ActionStatus]:
        """Every state at least once (when there are enough actions), then by the ratios."""
        rng = self.rng
        states = [ActionStatus.PUBLIEE, *(state for state, _share in OTHER_STATES)][:count]
        others, weights = zip(*OTHER_STATES, strict=True)
        for _ in range(count - len(states)):
            states.append(
                ActionStatus.PUBLIEE if rng.random() < self.published_ratio else rng.choices(others, weights)[0]
            )
        return states

    def offer(self, organisations, formations: int, actions_per_formation: int, sessions_per_action: int):
        actions_total = formations * actions_per_formation
        states = self._states(actions_total)
        first_formation = allocate_ids(Formation.__table__, formations)
        first_action = allocate_ids(Action.__table__, actions_total)
        first_session = allocate_ids(SessionFormation.__table__, actions_total * sessions_per_action)
        # Up to two dispositifs per session.
        first_dispositif = allocate_ids(SessionDispositif.__table__, actions_total * sessions_per_action * 2)
        self.next_dispositif = first_dispositif
        per_chunk = max(1, CHUNK_SESSIONS // max(1, actions_per_formation * sessions_per_action))
        for start in range(0, formations, per_chunk):
            chunk = _Chunk()
            for index in range(start, min(formations, start + per_chunk)):
                organisation = organisations[index % len(organisations)]
                formation = self.formation(chunk, first_formation + index, organisation)
                for position in range(actions_per_formation):
                    number = index * actions_per_formation + position
                    self.action(
                        chunk,
                        formation,
                        organisation,
                        first_action + number,
                        states[number],
                        first_session + number * sessions_per_action,
                        sessions_per_action,
                    )
            chunk.write(self.writer)
            self.progress(chunk.sessions_count)
        # Give back the dispositif ids that were not used (PostgreSQL: the sequence continues from the last one).
        if db.session.connection().dialect.name == "postgresql" and self.next_dispositif > first_dispositif:
            sequence = db.session.scalar(sa.text("SELECT pg_get_serial_sequence('session_dispositif', 'id')"))
            db.session.execute(sa.text(f"SELECT setval('{sequence}', {self.next_dispositif - 1})"))

    def formation(self, chunk: "_Chunk", formation_id: int, organisation: dict) -> dict:
        rng, ref = self.rng, self.ref
        certification = (
            rng.choice(ref.certifications) if ref.certifications and rng.random() < CERTIFYING_SHARE else None
        )
        if certification is not None:
            fields = dict(certification.fields)
            formation = {
                "id": formation_id,
                "certification": certification,
                "intitule": certification.intitule,
                "objectif_general": "6",
                "certifiante": True,
                "certifinfo_code": certification.certifinfo_code,
                "certification_id": certification.id,
                "individualisation_blocs": False,
                "validation_blocs": "1" if certification.blocs else None,
                "formacodes": certification.formacodes,
                "blocs": certification.blocs,
                "resultats": None,
                **fields,
            }
        else:
            formacodes = rng.sample(ref.formacode_list, rng.randint(1, 3))
            subject = ref.formacodes[formacodes[0]]
            formation = {
                "id": formation_id,
                "certification": None,
                "intitule": f"{rng.choice(PREFIXES)} {subject}"[:255],
                "objectif_general": rng.choice(self.objectifs_generaux),
                "certifiante": False,
                "certifinfo_code": None,
                "certification_id": None,
                "individualisation_blocs": False,
                "validation_blocs": None,
                "formacodes": formacodes,
                "blocs": [],
                "type_certification": None,
                "niveau_sortie": rng.choice(self.niveaux),
                "objectifs": f"Acquérir les compétences du domaine « {subject} » et les mettre en œuvre en situation.",
                "programme": f"Module 1 : fondamentaux ({subject}). Module 2 : mise en pratique. Module 3 : bilan.",
                "resultats": "Attestation de fin de formation.",
                "nsf_code": None,
                "rome_codes": [],
            }
        formation["formacode_principal"] = formation["formacodes"][0] if formation["formacodes"] else None
        formation["snapshot"] = {
            "id": formation_id,
            "intitule": formation["intitule"],
            "objectif_general": formation["objectif_general"],
            "certifiante": formation["certifiante"],
            "certifinfo_code": formation["certifinfo_code"],
            "certifinfo_intitule": certification.certifinfo_intitule if certification else None,
            "certification": certification.snapshot if certification else None,
            "type_certification": formation["type_certification"],
            "niveau_sortie": formation["niveau_sortie"],
            "formacodes": [{"code": c, "libelle": ref.formacodes[c]} for c in formation["formacodes"]],
            "formacode_principal": formation["formacode_principal"],
            "nsf_code": formation["nsf_code"],
            "rome_codes": list(formation["rome_codes"]),
            "individualisation_blocs": False,
            "validation_blocs": formation["validation_blocs"],
            "blocs": [{"code": code, "libelle": libelle} for _id, code, libelle in formation["blocs"]],
            "objectifs": formation["objectifs"],
            "programme": formation["programme"],
            "resultats": formation["resultats"],
        }
        now = self.now
        chunk.formations.append(
            (
                formation_id, organisation["id"], formation["certifiante"], formation["certifinfo_code"],
                formation["certification_id"], formation["intitule"], formation["objectif_general"],
                formation["type_certification"], formation["niveau_sortie"], formation["formacode_principal"],
                formation["nsf_code"], formation["rome_codes"], False, formation["validation_blocs"],
                formation["objectifs"], formation["programme"], formation["resultats"], now, now, 1,
            )
        )  # fmt: skip
        chunk.formation_formacodes.extend((formation_id, code, i) for i, code in enumerate(formation["formacodes"]))
        chunk.formation_blocs.extend((formation_id, bloc_id) for bloc_id, _code, _libelle in formation["blocs"])
        return formation

    def _dates(self, state: ActionStatus, formation: dict, first: bool) -> tuple[date, date]:
        rng, today = self.rng, self.today
        if state is ActionStatus.ARCHIVEE:
            start = today - timedelta(days=rng.randint(200, 900))
        elif first and state is not ActionStatus.PUBLIEE:
            start = today + timedelta(days=rng.randint(10, 300))  # an approvable action has a session to come
        else:
            start = today + timedelta(days=rng.randint(-240, 365))
        certification = formation["certification"]
        if certification is not None and certification.last_start is not None and start > certification.last_start:
            start = certification.last_start - timedelta(days=rng.randint(0, 30))
        end = start + timedelta(days=rng.randint(20, 320))
        if state is ActionStatus.ARCHIVEE and end >= today:
            end = today - timedelta(days=rng.randint(1, 60))
            end = max(end, start)
        return start, end

    def action(self, chunk, formation, organisation, action_id, state, first_session, sessions_per_action):
        rng, now = self.rng, self.now
        site = rng.choice(organisation["sites"])
        complement = f"Parcours {rng.choice(NAMES)}" if rng.random() < 0.3 else None
        intitule = f"{formation['intitule']} - {complement}" if complement else formation["intitule"]
        action = {
            "complement_intitule": complement,
            "complement_programme": None,
            "objectifs": "Être opérationnel(le) dans le métier visé à l'issue du parcours.",
            "resultats_attendus": "Attestation de compétences.",
            "plus_formation": "Petits groupes et plateau technique." if rng.random() < 0.5 else None,
            "url_video": None,
            "url_pdf": None,
            "url_action": None,
            "equipement_type": None,
            "equipement_cout": None,
            "equipement_commentaire": None,
            "niveau_entree": rng.choice(self.niveaux),
            "prerequis": rng.sample(self.prerequis, rng.randint(0, 2)),
            "commentaire_prerequis": None,
        }
        submitted = None if state is ActionStatus.EN_COURS_DE_SAISIE else now - timedelta(hours=rng.randint(1, 2000))
        archived = now if state is ActionStatus.ARCHIVEE else None
        chunk.actions.append(
            (
                action_id, formation["id"], organisation["id"], site["id"], complement, None, action["objectifs"],
                action["resultats_attendus"], action["plus_formation"], action["niveau_entree"], action["prerequis"],
                state.value, now, submitted, archived, False, now, now, 1,
            )
        )  # fmt: skip
        referent = organisation["contacts"][0]
        session_snapshots = []
        published = state is ActionStatus.PUBLIEE
        # Sessions of one action are copies with other dates (as "Copier les sessions" makes them):
        # what LHÉO holds at action level is shared; dates, recruitment and places left differ.
        schemes = sorted(rng.sample(self.ref.dispositifs, 2 if rng.random() < 0.15 else 1), key=lambda s: s["code"])
        alternance = any(s["alternance"] for s in schemes)
        shared = {
            "entrees_sorties": "1" if rng.random() < 0.2 else "0",
            "rythmes": [rng.choice(self.rythmes)],
            "periodes": ["96414"],
            "type_parcours": "1",
            "modalites_pedagogiques": [rng.choice(self.modalites)],
            "modalite_enseignement": rng.choices(("0", "1", "2"), (0.7, 0.15, 0.15))[0],
            "duree_centre": rng.randrange(35, 1200, 7),
            "duree_entreprise": rng.choice((None, 70, 140, 280)),
            "duree_hebdo": Decimal("35.00"),
            "commentaire_duree": None,
            "cycle_unite": "3" if alternance else None,
            "cycle_unites_entreprise": 3 if alternance else None,
            "cycle_unites_centre": 1 if alternance else None,
            "modalites_recrutement": ["3", "8"],
        }
        terms = []
        for scheme in schemes:
            frais_ht = Decimal(rng.randrange(800, 9000, 50)).quantize(Decimal("0.01"))
            terms.append((scheme, rng.randint(8, 30), frais_ht))
        for position in range(sessions_per_action):
            session_id = first_session + position
            place = site if rng.random() < 0.8 else rng.choice(organisation["sites"])
            start, end = self._dates(state, formation, position == 0)
            values = {
                "date_debut": start,
                "date_fin": end,
                **shared,
                "etat_recrutement": rng.choices(("1", "2", "3"), (0.7, 0.2, 0.1))[0],
            }
            chunk.sessions.append(
                (
                    session_id, action_id, place["id"], start, end, values["entrees_sorties"], values["rythmes"],
                    values["periodes"], "1", values["modalites_pedagogiques"], values["modalite_enseignement"],
                    values["duree_centre"], values["duree_entreprise"], values["duree_hebdo"], values["cycle_unite"],
                    values["cycle_unites_entreprise"], values["cycle_unites_centre"], organisation["id"],
                    values["etat_recrutement"], values["modalites_recrutement"], referent["id"], referent["id"],
                    referent["id"], referent["id"], now, now, 1,
                )
            )  # fmt: skip
            dispositif_snapshots = []
            for scheme, places, frais_ht in terms:
                dispositif_id = self.next_dispositif
                self.next_dispositif += 1
                row = {
                    "numero_lot_cr": None,
                    "id_action_cr": None,
                    "of_mandataire_cr": None,
                    "reference_marche": None,
                    "nb_places": places,
                    "nb_places_restantes": rng.randint(0, places) if rng.random() < 0.5 else None,
                    "effectif_minimal": 5 if scheme["apprentissage"] else None,
                    "capacite_simultanee": 15 if scheme["apprentissage"] else None,
                    "annee_cycle": None,
                    "frais_ht": frais_ht,
                    "taux_tva": Decimal("20.00"),
                    "frais_ttc": (frais_ht * Decimal("1.2")).quantize(Decimal("0.01")),
                    "frais_additionnels_montant": None,
                    "frais_additionnels_details": None,
                    "frais_certification": False,
                    "prise_en_charge_frais": scheme["prise_en_charge_frais"],
                }
                chunk.dispositifs.append(
                    (
                        dispositif_id, session_id, scheme["code"], places, row["nb_places_restantes"],
                        row["effectif_minimal"], row["capacite_simultanee"], frais_ht, row["taux_tva"],
                        row["frais_ttc"], False, row["prise_en_charge_frais"], now, now, 1,
                    )
                )  # fmt: skip
                chunk.dispositif_publics.extend((dispositif_id, public) for public in scheme["publics"])
                if published:
                    dispositif_snapshots.append(
                        {
                            "id": dispositif_id,
                            **scheme["snapshot"],
                            **{name: _value(row[name]) for name in SessionDispositif.TERM_FIELDS},
                        }
                    )
            chunk.sessions_count += 1
            if not published:
                continue
            fas_code = f"{formation['id']}-{action_id}-{session_id}"
            session_snapshots.append(
                {
                    "id": session_id,
                    "fas_code": fas_code,
                    **{name: _value(values[name]) for name in SessionFormation.DESCRIPTION_FIELDS},
                    "site": place["snapshot"],
                    "organisme_responsable": organisation["snapshot"],
                    "referent_pmr": referent["snapshot"],
                    "referent_prf": referent["snapshot"],
                    "mail_liaison": referent["snapshot"],
                    "referent_mobilite": referent["snapshot"],
                    "informations_collectives": [],
                    "periodes_inscription": [],
                    "dispositifs": dispositif_snapshots,
                }
            )
            restantes = [d["nb_places_restantes"] for d in dispositif_snapshots if d["nb_places_restantes"] is not None]
            publics = sorted({p["code"] for d in dispositif_snapshots for p in d["publics"]})
            chunk.published_sessions.append(
                (
                    session_id, action_id, fas_code, start, end, place["commune"]["code_insee"],
                    place["commune"]["departement"], place["latitude"], place["longitude"], values["etat_recrutement"],
                    values["modalite_enseignement"], values["entrees_sorties"], sum(restantes) if restantes else None,
                    now, formation["certifiante"], formation["niveau_sortie"],
                    formacode_domains(formation["formacodes"]),
                )
            )  # fmt: skip
            chunk.published_session_dispositifs.extend((session_id, d["code"]) for d in dispositif_snapshots)
            chunk.published_session_publics.extend((session_id, code) for code in publics)
        if not published:
            return
        snapshot = {
            "formation": formation["snapshot"],
            "action": {
                "id": action_id,
                "intitule": intitule,
                **{name: _value(action[name]) for name in Action.DESCRIPTION_FIELDS},
                "organisation": organisation["snapshot"],
                "site": site["snapshot"],
            },
            "sessions": session_snapshots,
        }
        search_text = search_key(
            intitule,
            formation["objectifs"],
            formation["programme"],
            action["objectifs"],
            action["complement_programme"],
            organisation["raison_sociale"],
            organisation["nom_usuel"],
            *(self.ref.formacodes[c] for c in formation["formacodes"]),
        )
        chunk.published_actions.append(
            (
                action_id, formation["id"], organisation["id"], organisation["siret"], 1, now, intitule[:600],
                search_text, formation["certifiante"], formation["niveau_sortie"], formation["formacode_principal"],
                snapshot, fragment.dumps(snapshot), fragment.VERSION,
            )
        )  # fmt: skip
        chunk.published_formacodes.extend((action_id, code) for code in formation["formacodes"])


@dataclass
class _Chunk:
    """The rows of a few formations, written table by table (parents first)."""

    formations: list = field(default_factory=list)
    formation_formacodes: list = field(default_factory=list)
    formation_blocs: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    dispositifs: list = field(default_factory=list)
    dispositif_publics: list = field(default_factory=list)
    published_actions: list = field(default_factory=list)
    published_formacodes: list = field(default_factory=list)
    published_sessions: list = field(default_factory=list)
    published_session_dispositifs: list = field(default_factory=list)
    published_session_publics: list = field(default_factory=list)
    sessions_count: int = 0

    def write(self, w: _BulkWriter) -> None:
        w.write(
            Formation.__table__,
            [
                "id", "organisation_id", "certifiante", "certifinfo_code", "certification_id", "intitule",
                "objectif_general", "type_certification", "niveau_sortie", "formacode_principal", "nsf_code",
                "rome_codes", "individualisation_blocs", "validation_blocs", "objectifs", "programme", "resultats",
                "created_at", "updated_at", "version",
            ],
            self.formations,
        )  # fmt: skip
        w.write(FormationFormacode.__table__, ["formation_id", "formacode_code", "position"], self.formation_formacodes)
        w.write(formation_bloc, ["formation_id", "bloc_id"], self.formation_blocs)
        w.write(
            Action.__table__,
            [
                "id", "formation_id", "organisation_id", "site_id", "complement_intitule", "complement_programme",
                "objectifs", "resultats_attendus", "plus_formation", "niveau_entree", "prerequis", "status",
                "status_changed_at", "submitted_at", "archived_at", "certifinfo_replaced", "created_at", "updated_at",
                "version",
            ],
            self.actions,
        )  # fmt: skip
        w.write(
            SessionFormation.__table__,
            [
                "id", "action_id", "site_id", "date_debut", "date_fin", "entrees_sorties", "rythmes", "periodes",
                "type_parcours", "modalites_pedagogiques", "modalite_enseignement", "duree_centre", "duree_entreprise",
                "duree_hebdo", "cycle_unite", "cycle_unites_entreprise", "cycle_unites_centre",
                "organisme_responsable_id", "etat_recrutement", "modalites_recrutement", "referent_pmr_id",
                "referent_prf_id", "mail_liaison_id", "referent_mobilite_id", "created_at", "updated_at", "version",
            ],
            self.sessions,
        )  # fmt: skip
        w.write(
            SessionDispositif.__table__,
            [
                "id", "session_id", "dispositif_code", "nb_places", "nb_places_restantes", "effectif_minimal",
                "capacite_simultanee", "frais_ht", "taux_tva", "frais_ttc", "frais_certification",
                "prise_en_charge_frais", "created_at", "updated_at", "version",
            ],
            self.dispositifs,
        )  # fmt: skip
        w.write(session_dispositif_public, ["session_dispositif_id", "public_code"], self.dispositif_publics)
        w.write(
            PublishedAction.__table__,
            [
                "action_id", "formation_id", "organisation_id", "organisation_siret", "version", "published_at",
                "intitule", "search_text", "certifiante", "niveau_sortie", "formacode_principal", "data", "lheo",
                "lheo_version",
            ],
            self.published_actions,
        )  # fmt: skip
        w.write(PublishedFormacode.__table__, ["action_id", "formacode_code"], self.published_formacodes)
        w.write(
            PublishedSession.__table__,
            [
                "session_id", "action_id", "fas_code", "date_debut", "date_fin", "commune_code", "departement",
                "latitude", "longitude", "etat_recrutement", "modalite_enseignement", "entrees_sorties",
                "places_restantes", "updated_at", "certifiante", "niveau_sortie", "domaines",
            ],
            self.published_sessions,
        )  # fmt: skip
        w.write(published_session_dispositif, ["session_id", "dispositif_code"], self.published_session_dispositifs)
        w.write(published_session_public, ["session_id", "public_code"], self.published_session_publics)


def generate(
    organisations: int,
    formations: int,
    actions_per_formation: int,
    sessions_per_action: int,
    published_ratio: float = 0.6,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
) -> GenerateSummary:
    """Write ``formations`` formations spread over ``organisations`` new organisations (one transaction).

    Each formation has ``actions_per_formation`` actions of ``sessions_per_action`` sessions;
    about ``published_ratio`` of the actions are published, the others are spread over the
    other workflow states (every state appears once there are at least six actions).
    ``progress`` is called with the number of sessions written after each chunk.
    """
    if organisations < 1 or formations < 0 or actions_per_formation < 1 or sessions_per_action < 1:
        raise DomainError("Il faut au moins un organisme, une action par formation et une session par action.")
    if not 0 <= published_ratio <= 1:
        raise DomainError("La part d'actions publiées est un nombre entre 0 et 1.")
    try:
        generator = _Generator(random.Random(seed), today or date.today(), published_ratio, progress)
        rows = generator.organisations(organisations)
        generator.offer(rows, formations, actions_per_formation, sessions_per_action)
        search_cache.changed()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if db.engine.dialect.name == "postgresql":
        # Fresh statistics for the planner and the visibility map for index-only scans, as
        # autovacuum would do some time later.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(VACUUMED)}")
    kept_counts.rebuild()  # once the planner knows the tables
    db.session.commit()
    counts = generator.writer.counts
    return GenerateSummary(
        {
            "organismes": counts.get("organisation", 0),
            "formations": counts.get("formation", 0),
            "actions": counts.get("action", 0),
            "sessions": counts.get("session_formation", 0),
            "actions publiées": counts.get("published_action", 0),
            "sessions publiées": counts.get("published_session", 0),
        }
    )
