"""Fuzzing of every importer through its real command: malformed and hostile files.

For each command (``import-lheo``, ``import-rncp``, ``import-certifinfo``, ``import-programme``
with a CSV and with an XLSX file) a seeded generator builds random bytes, truncations and byte
flips of a valid sample, other encodings, huge lines, wrong roots or columns, DTDs, entities,
XInclude and schema locations pointing at a local HTTP server, spreadsheet formulas, zip bombs,
directories and missing paths. A hostile input must be refused: exit status 1, a French message,
no Python exception, the database unchanged (row counts of every table and a checksum of the
offer tables). A mutated valid sample may still be a valid file: then it must be imported
cleanly (exit status 0) — never crash. No input may make the server fetch anything.
"""

import csv
import functools
import hashlib
import io
import random
import re
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from models import Certification, CertifInfo, Formation, db
from sofi.services.programmes import COLUMNS, EXAMPLE_CSV, EXAMPLE_XLSX
from tests.factories import full_tree, organisation
from tests.lheo_support import SAMPLES, restore_reference_data  # noqa: F401  (fixture)
from tests.test_import_certifinfo import new_row, read_rows
from tests.test_import_rncp import fiche_xml

SEED = 2026
RANDOM_BLOBS = 8
TRUNCATIONS = 16
FLIPS = 16
# English words a French message has no reason to contain (libxml2, csv, codecs, Python).
ENGLISH = re.compile(
    r"\b(error|the|not|invalid|expected|unexpected|line|field|codec|can't|cannot|failed|file|Premature|Errno|None|"
    r"Traceback|Exception)\b"
)
CRASH = "erreur inattendue"
TRIED: Counter = Counter()
OFFER_TABLES = (
    "organisation",
    "site",
    "contact",
    "organisation_habilitation",
    "formation",
    "formation_formacode",
    "action",
    "session_formation",
    "session_dispositif",
    "published_action",
    "published_session",
    "programme",
    "programme_lot",
    "programme_lot_organisation",
)


# --- a local server that counts the fetches an importer should never make ----------------------


class _Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):
        type(self).hits += 1
        body = b'<!ENTITY % leak "x">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def bait_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


# --- the database before and after ---------------------------------------------------------------


def database_state() -> tuple[dict, str]:
    """Row counts of every table, and a checksum of every row of the offer tables."""
    db.session.rollback()
    tables = db.metadata.sorted_tables
    union = sa.union_all(*(sa.select(sa.literal(t.name), sa.func.count()).select_from(t) for t in tables))
    counts = dict(db.session.execute(union).all())
    digest = hashlib.sha256()
    for name in OFFER_TABLES:
        rows = sorted(repr(tuple(row)) for row in db.session.execute(sa.select(db.metadata.tables[name])).all())
        digest.update(f"{name}:{len(rows)}:{''.join(rows)}".encode())
    return counts, digest.hexdigest()


def _french_error(stderr: str) -> str:
    """The line of the error message; fails if there is none or if it is English or technical."""
    lines = [line for line in stderr.splitlines() if line.startswith("Erreur : ")]
    assert len(lines) == 1, stderr[-2000:]
    message = lines[0]
    assert CRASH not in message, message
    assert not ENGLISH.search(message), message
    return message


@dataclass
class Outcome:
    refused: int = 0
    imported: int = 0


def check(cli, command: str, path: Path, label: str, must_refuse: bool, outcome: Outcome) -> bool:
    """Run the command on ``path``: a clean refusal (nothing written) or, if allowed, a clean import (True)."""
    before = database_state()
    result = cli("sofi", command, str(path))
    TRIED[command] += 1
    assert "Traceback" not in result.output, (label, result.output[-3000:])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{command} {label} : {type(result.exception).__name__}") from result.exception
    if result.exit_code == 0 and not must_refuse:
        outcome.imported += 1
        return True
    assert result.exit_code == 1, (label, result.exit_code, result.output[-2000:])
    _french_error(result.stderr)
    assert database_state() == before, label
    outcome.refused += 1
    return False


# --- inputs --------------------------------------------------------------------------------------


def _truncations(sample: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    offsets = sorted(
        {1, len(sample) // 2, len(sample) - 1} | {rng.randrange(1, len(sample)) for _ in range(TRUNCATIONS)}
    )
    return [(f"tronqué à {offset}", sample[:offset]) for offset in offsets]


def _flips(sample: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    inputs = []
    for number in range(FLIPS):
        data = bytearray(sample)
        for _ in range(1 + number % 4):
            position = rng.randrange(len(data))
            data[position] ^= rng.randrange(1, 256)
        inputs.append((f"octets modifiés n°{number}", bytes(data)))
    return inputs


def _encodings(sample: bytes) -> list[tuple[str, bytes]]:
    text = sample.decode("utf-8-sig")
    return [
        ("latin-1", text.encode("latin-1", errors="replace")),
        ("UTF-16 avec BOM", text.encode("utf-16")),
        ("UTF-16LE sans BOM", text.encode("utf-16-le")),
        ("UTF-32", text.encode("utf-32")),
        ("BOM UTF-8", b"\xef\xbb\xbf" + sample.removeprefix(b"\xef\xbb\xbf")),
    ]


def mutations(sample: bytes, rng: random.Random, text: bool) -> list[tuple[str, bytes]]:
    """Damaged versions of a valid sample (re-encoded if it is text): they may still be valid, never crash."""
    return _truncations(sample, rng) + _flips(sample, rng) + (_encodings(sample) if text else [])


def garbage(rng: random.Random) -> list[tuple[str, bytes]]:
    """Inputs no importer can take."""
    blobs = [(f"octets aléatoires n°{n}", rng.randbytes(rng.randrange(1, 4096))) for n in range(RANDOM_BLOBS)]
    return blobs + [
        ("vide", b""),
        ("blancs", b"  \n\t\n"),
        ("octet nul", b"\x00"),
        ("ligne de 5 Mo", b"A" * (5 << 20)),
        ("texte sans rapport", b"Bonjour, ceci n'est pas un export.\n"),
    ]


def xml_hostile(root: str, namespace: str, inner: str, bait: str) -> list[tuple[str, bytes]]:
    """DTDs, entities, XInclude, wrong roots and huge nodes, around an element ``root``."""
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))

    def document(doctype: str, text: str) -> str:
        return f"{doctype}<{root}{xmlns}>{inner.replace('@', text)}</{root}>"

    documents = {
        "billion laughs": document(f'<!DOCTYPE {root} [<!ENTITY l0 "lol">{lol}]>', "&l9;"),
        "entité externe fichier": document(f'<!DOCTYPE {root} [<!ENTITY s SYSTEM "file:///etc/passwd">]>', "&s;"),
        "entité externe réseau": document(f'<!DOCTYPE {root} [<!ENTITY s SYSTEM "{bait}/entite">]>', "&s;"),
        "entité paramètre": f'<!DOCTYPE {root} [<!ENTITY % p SYSTEM "{bait}/p.dtd"> %p;]><{root}{xmlns}/>',
        "DTD externe": document(f'<!DOCTYPE {root} SYSTEM "{bait}/lheo.dtd">', "x"),
        "XInclude": (
            f'<{root}{xmlns} xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="{bait}/inclus.xml"/></{root}>'
        ),
        "mauvaise racine": f"<autre>{inner.replace('@', 'x')}</autre>",
        "imbrication profonde": f"<{root}{xmlns}>" + "<a>" * 5000 + "</a>" * 5000 + f"</{root}>",
        "nœud texte de 20 Mo": document("", "x" * (20 << 20)),
        "instruction et commentaire seuls": "<?xml-stylesheet href='x'?><!-- rien -->",
    }
    return [(label, content.encode()) for label, content in documents.items()]


def with_schema_location(sample: bytes, root: bytes, bait: str) -> bytes:
    """The sample whose root points its schema at the local server (to be ignored, never fetched)."""
    attributes = (
        f' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x {bait}/schema.xsd"'
    ).encode()
    return sample.replace(b"<" + root, b"<" + root + attributes, 1)


def _csv(header: list[str], rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=";", restval="", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


FORMULAS = (
    '=HYPERLINK("http://127.0.0.1/";"x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
)


# --- the importers -------------------------------------------------------------------------------


@dataclass
class Target:
    command: str
    suffix: str
    sample: bytes
    hostile: list[tuple[str, bytes]]


def lheo_target(bait: str) -> Target:
    sample = (SAMPLES / "trefle-poec-paie-2.2.xml").read_bytes()
    ns = "http://lheo.gouv.fr/2.3"
    inner = "<offres><formation><intitule-formation>@</intitule-formation></formation></offres>"
    hostile = xml_hostile("lheo", ns, inner, bait) + [
        ("racine LHÉO d'un autre espace de noms", b"<lheo xmlns='urn:x'/>")
    ]
    return Target("import-lheo", ".xml", sample, hostile)


RNCP_NUMEROS = ("RNCP99990001", "RNCP99990002", "RS99990003")


def rncp_target(bait: str) -> Target:
    fiches = "".join(
        fiche_xml(
            numero,
            blocs=(("BC01", "Bloc « un » & <deux>".replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")),),
        )
        for numero in RNCP_NUMEROS
    )
    sample = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>{fiches}</FICHES>'.encode()
    )
    inner = fiche_xml("RNCP99990009", intitule="@")
    return Target("import-rncp", ".xml", sample, xml_hostile("FICHES", "", inner, bait))


CERTIFINFO_CODES = (9_990_001, 9_990_002, 9_990_003)


def certifinfo_target() -> Target:
    header = read_rows()[0]
    rows = [new_row(code, intitule=f"Certificat d'essai n°{code} « é »") for code in CERTIFINFO_CODES]
    sample = _csv(header, rows)
    formulas = [
        (f"formule {formula[:8]}", _csv(header, [new_row(CERTIFINFO_CODES[0], intitule=formula)]))
        for formula in FORMULAS
    ]
    hostile = formulas + [
        ("colonnes d'un autre fichier", _csv(COLUMNS, [])),
        ("en-tête seul", _csv(header, [])),
        ("champ de 200 000 caractères", _csv(header, [new_row(CERTIFINFO_CODES[0], intitule="é" * 200_000)])),
        ("code trop grand", _csv(header, [new_row("9" * 40)])),
        ("date impossible", _csv(header, [new_row(CERTIFINFO_CODES[0], date_maj="31/02/2024")])),
    ]
    return Target("import-certifinfo", ".csv", sample, hostile)


def _programme_rows() -> list[dict]:
    return list(csv.DictReader(io.StringIO(EXAMPLE_CSV.read_text(encoding="utf-8")), delimiter=";"))


def programme_csv_target() -> Target:
    rows = _programme_rows()
    formulas = [
        (f"formule {formula[:8]}", _csv(COLUMNS, [rows[0] | {"raison_sociale": formula}])) for formula in FORMULAS
    ]
    hostile = formulas + [
        ("colonnes d'un autre fichier", _csv(read_rows()[0], [])),
        ("en-tête seul", _csv(COLUMNS, [])),
        ("champ de 200 000 caractères", _csv(COLUMNS, [rows[0] | {"intitule_lot": "é" * 200_000}])),
        ("guillemet jamais fermé", EXAMPLE_CSV.read_bytes().replace(b";2025;", b';"2025;', 1)),
    ]
    return Target("import-programme", ".csv", EXAMPLE_CSV.read_bytes(), hostile)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@functools.cache
def _zip_bomb() -> bytes:
    """A real workbook whose first sheet inflates to about 256 MB of rows (a few MB compressed)."""
    with zipfile.ZipFile(io.BytesIO(EXAMPLE_XLSX.read_bytes())) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    sheet = next(name for name in entries if name.startswith("xl/worksheets/"))
    row = b'<row><c t="inlineStr"><is><t>PAS</t></is></c></row>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if name != sheet:
                archive.writestr(name, data)
        with archive.open(sheet, "w", force_zip64=True) as handle:
            handle.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            block = row * 20_000
            for _ in range((256 << 20) // len(block)):
                handle.write(block)
            handle.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def programme_xlsx_target() -> Target:
    rows = _programme_rows()
    header = list(COLUMNS)
    formulas = [
        (f"formule {formula[:8]}", _xlsx([header, [rows[0][c] for c in COLUMNS[:-2]] + [formula, ""]]))
        for formula in FORMULAS
    ]
    hostile = formulas + [
        ("CSV nommé .xlsx", EXAMPLE_CSV.read_bytes()),
        ("zip sans classeur", _zip({"bonjour.txt": b"bonjour"})),
        ("bombe zip", _zip_bomb()),
        ("colonnes d'un autre fichier", _xlsx([read_rows()[0]])),
        ("feuille vide", _xlsx([])),
        ("cellule de 200 000 caractères", _xlsx([header, ["é" * 200_000] * len(header)])),
    ]
    return Target("import-programme", ".xlsx", EXAMPLE_XLSX.read_bytes(), hostile)


TARGETS = {
    "lheo": lheo_target,
    "rncp": rncp_target,
    "certifinfo": lambda bait: certifinfo_target(),
    "programme-csv": lambda bait: programme_csv_target(),
    "programme-xlsx": lambda bait: programme_xlsx_target(),
}


# --- clean-up of what a still-valid mutation imported ---------------------------------------------


def _forget_imported_references() -> None:
    """Drop the certifications and Certif Info entries a still-valid mutation created (new codes only)."""
    db.session.rollback()
    created = sa.select(Certification.id).where(Certification.numero_fiche.not_in(_KNOWN["numeros"]))
    db.session.execute(sa.delete(Formation).where(Formation.certification_id.in_(created)))
    db.session.execute(sa.delete(Certification).where(Certification.id.in_(created)))
    db.session.execute(sa.delete(CertifInfo).where(CertifInfo.code.not_in(_KNOWN["codes"])))
    db.session.commit()


_KNOWN: dict[str, set] = {}


@pytest.fixture
def known_references(session):
    _KNOWN["numeros"] = set(session.scalars(sa.select(Certification.numero_fiche)))
    _KNOWN["codes"] = set(session.scalars(sa.select(CertifInfo.code)))
    yield
    _forget_imported_references()


@pytest.fixture
def existing_offer(session):
    """A small published-looking offer the imports must leave alone."""
    org = organisation()
    built, _, _ = full_tree(org)
    session.add_all([org, built])
    session.commit()


@pytest.mark.parametrize("name", list(TARGETS))
def test_importer_survives_malformed_and_hostile_files(
    name,
    restore_reference_data,  # noqa: F811
    known_references,
    existing_offer,
    cli,
    tmp_path,
    bait_url,
):
    target = TARGETS[name](bait_url)
    rng = random.Random(f"{SEED}-{name}")
    outcome = Outcome()
    hits_before = _Counting.hits
    suffix = target.suffix

    def run(label: str, content: bytes, must_refuse: bool) -> None:
        path = tmp_path / f"entree{suffix}"
        path.write_bytes(content)
        if check(cli, target.command, path, label, must_refuse, outcome):
            _forget_imported_references()

    for label, content in garbage(rng) + target.hostile:
        run(label, content, must_refuse=True)
    for label, content in mutations(target.sample, rng, text=suffix != ".xlsx"):
        run(label, content, must_refuse=False)
    if suffix == ".xml":
        root = b"lheo" if name == "lheo" else b"FICHES"
        run("xsi:schemaLocation vers une URL", with_schema_location(target.sample, root, bait_url), must_refuse=False)
    for label, path in (("répertoire", tmp_path), ("chemin inexistant", tmp_path / "absent" / f"x{suffix}")):
        check(cli, target.command, path, label, True, outcome)

    assert _Counting.hits == hits_before, "an importer fetched a URL of the document"
    total = outcome.refused + outcome.imported
    print(f"\n{target.command} {suffix} : {total} entrées ({outcome.refused} refusées, {outcome.imported} importées)")
    assert total >= 50
    assert outcome.refused >= 30
