"""``flask sofi import-certifinfo FILE``: the Certif Info open-data CSV (``;``, UTF-8).

Expected values are read with the csv module in the tests, never taken from the importer.
Every test leaves the shared ``certifinfo`` reference table as it found it.
"""

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import CertifInfo, db
from sofi.services.referentials import DATA_DIR
from tests.conftest import SHARED, count_rows

CERTIFINFO_FILE = SHARED / "refdata" / "certifinfo" / "certif_info.csv"
NEW_CODES = (9_990_001, 9_990_002, 9_990_003)  # codes no real entry uses


def read_rows(path: Path = CERTIFINFO_FILE) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        return list(reader.fieldnames), list(reader)


def last_row_by_code(rows: list[dict]) -> dict[int, dict]:
    """The file repeats a few codes; the last row of a code is the one that counts."""
    return {int(row["Code_Diplome"]): row for row in rows}


def _value(text: str) -> str | None:
    return text.strip() or None


def snapshot() -> list[tuple]:
    db.session.expire_all()
    return sorted(
        db.session.execute(
            sa.select(
                CertifInfo.code,
                CertifInfo.intitule,
                CertifInfo.rncp_code,
                CertifInfo.rs_code,
                CertifInfo.updated_on,
            )
        ).all()
    )


def entry(code: int) -> CertifInfo | None:
    db.session.expire_all()
    return db.session.get(CertifInfo, code)


@pytest.fixture(autouse=True)
def restore_certifinfo(session):
    """Put the shared ``certifinfo`` table back as it was before the test."""
    before = snapshot()
    yield
    session.rollback()
    session.execute(sa.delete(CertifInfo).where(CertifInfo.code.not_in([row.code for row in before])))
    session.commit()
    if snapshot() != before:
        from sofi.services.referentials.certifinfo import import_certifinfo

        import_certifinfo(DATA_DIR / "certif_info.csv")


def write_csv(path: Path, rows: list[dict], fieldnames: list[str] | None = None) -> Path:
    """A Certif Info file with the real header (or ``fieldnames``) and ``rows`` (missing columns empty)."""
    fieldnames = fieldnames or read_rows()[0]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, delimiter=";", restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def new_row(code, intitule="Certification de test", date_maj="01/02/2024", **extra) -> dict:
    return {"Code_Diplome": str(code), "Libelle_Diplome": intitule, "Date_MaJ": date_maj, **extra}


def assert_refused(result, *words: str) -> None:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Erreur" in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.output


# --- the real export --------------------------------------------------------------------------


def test_import_creates_every_entry_of_the_file(cli, session):
    _, rows = read_rows()
    expected = last_row_by_code(rows)
    session.execute(sa.delete(CertifInfo))
    session.commit()
    assert count_rows(CertifInfo) == 0

    result = cli("sofi", "import-certifinfo", str(CERTIFINFO_FILE))

    assert result.exit_code == 0, result.output
    assert f"{len(rows)} entrées Certif Info importées ({len(expected)} créées" in result.stdout
    stored = {row.code: row for row in snapshot()}
    assert set(stored) == set(expected)
    for code, row in expected.items():
        assert stored[code].intitule == row["Libelle_Diplome"].strip(), code
        assert stored[code].rncp_code == _value(row["Code_RNCP"]), code
        assert stored[code].rs_code == _value(row["Code_RS"]), code
        assert stored[code].updated_on == datetime.strptime(row["Date_MaJ"], "%d/%m/%Y").date(), code
    # the two certifications of the seed procedures
    tp_rh = entry(109049)
    assert tp_rh.intitule == "Titre professionnel assistant ressources humaines"
    assert tp_rh.rncp_code == "35030"
    assert tp_rh.fiche_numero == "RNCP35030"
    assert tp_rh.updated_on == date(2024, 3, 12)
    assert tp_rh.rome_codes == ["M1501", "M1502"]
    deas = entry(111669)
    assert deas.intitule == "Diplôme d'État d'aide-soignant"
    assert deas.rncp_code == "35830"
    assert deas.rs_code is None


def test_reimport_updates_without_duplicating(cli, session):
    _, rows = read_rows()
    expected = last_row_by_code(rows)
    first = cli("sofi", "import-certifinfo", str(CERTIFINFO_FILE))
    assert first.exit_code == 0, first.output
    count, before = count_rows(CertifInfo), snapshot()

    second = cli("sofi", "import-certifinfo", str(CERTIFINFO_FILE))

    assert second.exit_code == 0, second.output
    assert "(0 créées" in second.stdout
    assert count_rows(CertifInfo) == count
    assert snapshot() == before
    assert {row.code for row in before} >= set(expected)


def test_reimport_applies_changed_values(cli, session, tmp_path):
    code = NEW_CODES[0]
    first = write_csv(tmp_path / "v1.csv", [new_row(code, "Avant")])
    assert cli("sofi", "import-certifinfo", str(first)).exit_code == 0
    path = write_csv(tmp_path / "v2.csv", [new_row(code, "Après", "15/06/2025", Code_RNCP="99999")])

    result = cli("sofi", "import-certifinfo", str(path))

    assert result.exit_code == 0, result.output
    assert "1 entrées Certif Info importées (0 créées, 1 mises à jour)" in result.stdout
    stored = entry(code)
    assert (stored.intitule, stored.updated_on, stored.rncp_code) == ("Après", date(2025, 6, 15), "99999")


# --- refused files ----------------------------------------------------------------------------


def _changed_existing() -> dict:
    return new_row(109049, "Intitulé qu'un fichier refusé ne doit pas écrire", "01/01/2030")


def _bad_line_after_valid_rows(bad: dict, valid_count: int = 2):
    """Valid new rows, a change to an existing entry, then ``bad`` on line ``valid_count + 3``."""

    def build(tmp_path: Path) -> Path:
        valid = [new_row(9_990_001 + n) for n in range(valid_count)]
        return write_csv(tmp_path / "certifinfo.csv", [*valid, _changed_existing(), bad])

    return build


def _missing_columns(tmp_path: Path) -> Path:
    fieldnames = [name for name in read_rows()[0] if name not in ("Code_RNCP", "Libelle_Diplome")]
    return write_csv(tmp_path / "colonnes.csv", [new_row(NEW_CODES[0]), _changed_existing()], fieldnames)


def _comma_separated(tmp_path: Path) -> Path:
    path = tmp_path / "virgules.csv"
    path.write_text(
        CERTIFINFO_FILE.read_text(encoding="utf-8").replace(";", ",").splitlines()[0] + "\n", encoding="utf-8"
    )
    return path


def _latin1(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.csv"
    write_csv(path, [new_row(NEW_CODES[0], "Diplôme d'État"), _changed_existing()])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    return path


def _header_only(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "entete.csv", [])


REFUSED_FILES = {
    "non-numeric-code": (_bad_line_after_valid_rows(new_row("12A45")), ["Ligne 5", "12A45", "nombre"]),
    "empty-code": (_bad_line_after_valid_rows(new_row("")), ["Ligne 5", "nombre"]),
    "code-too-large": (_bad_line_after_valid_rows(new_row("123456789012")), ["Ligne 5", "123456789012"]),
    "bad-date": (_bad_line_after_valid_rows(new_row(NEW_CODES[2], date_maj="2024-03-12")), ["Ligne 5", "2024-03-12"]),
    "impossible-date": (_bad_line_after_valid_rows(new_row(NEW_CODES[2], date_maj="30/02/2024")), ["Ligne 5", "date"]),
    "empty-title": (_bad_line_after_valid_rows(new_row(NEW_CODES[2], intitule="  ")), ["Ligne 5", "Libelle_Diplome"]),
    # more rows than a batch before the error: rows already sent to the database are undone
    "error-after-a-batch": (_bad_line_after_valid_rows(new_row("x"), 1200), ["Ligne 1203", "nombre"]),
    "missing-columns": (_missing_columns, ["colonnes manquantes", "Code_RNCP", "Libelle_Diplome"]),
    "comma-separated": (_comma_separated, ["colonnes manquantes"]),
    "not-utf-8": (_latin1, ["UTF-8"]),
    "empty": (_empty, ["colonnes manquantes"]),
    "header-only": (_header_only, ["aucune ligne"]),
    "missing": (lambda tmp_path: tmp_path / "absent.csv", ["n'existe pas"]),
}


@pytest.mark.parametrize("case", list(REFUSED_FILES))
def test_refused_file_changes_nothing_and_says_why_in_french(cli, session, tmp_path, case):
    build, words = REFUSED_FILES[case]
    path = build(tmp_path)
    before = snapshot()

    result = cli("sofi", "import-certifinfo", str(path))

    assert_refused(result, *words)
    assert snapshot() == before
    for code in NEW_CODES:
        assert entry(code) is None
    assert entry(109049).intitule == "Titre professionnel assistant ressources humaines"
