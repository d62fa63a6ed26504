"""``flask sofi load-referentials``: loads the reference files shipped under ``sofi/data``.

The expected counts are read from the shipped files in the tests, never taken from the loader.
"""

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from lxml import etree

from models import BlocCompetences, Certification, db
from sofi import MIGRATIONS_DIR, create_app
from sofi.services.referentials import DATA_DIR
from sofi.services.referentials.shipped import FICHE_FILES
from tests.conftest import REFERENCE_TABLES, make_database_url

TABLES = sorted(REFERENCE_TABLES - {"alembic_version"})


def _csv(name: str, delimiter: str = ",") -> list[dict]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _fiches() -> list:
    return [fiche for name in FICHE_FILES for fiche in etree.parse(str(DATA_DIR / name)).getroot().findall("FICHE")]


def _distinct_bloc_codes(fiche) -> set[str]:
    return {code.text.strip() for code in fiche.findall("BLOCS_COMPETENCES/BLOC_COMPETENCES/CODE") if code.text}


def shipped_keys() -> dict[str, set]:
    """The keys each reference table must hold after loading the shipped files."""
    communes = json.loads((DATA_DIR / "communes-pays-de-la-loire.json").read_text(encoding="utf-8"))
    postal = defaultdict(set)
    for commune in communes:
        postal[commune["code"]] |= set(commune.get("codesPostaux") or [])
    fiches = _fiches()
    return {
        "dispositif": {int(row["code"]) for row in _csv("dispositifs.csv")},
        "dispositif_default_public": {
            (int(row["code"]), public)
            for row in _csv("dispositifs.csv")
            for public in row["default_publics"].split(";")
            if public
        },
        "public": {row["code"] for row in _csv("publics.csv")},
        "nsf": {row["code"] for row in _csv("nsf.csv")},
        "rome": {row["code_rome"] for row in _csv("rome.csv", ";")},
        "commune": set(postal),
        "commune_code_postal": {(code, cp) for code, codes in postal.items() for cp in codes},
        "certifinfo": {int(row["Code_Diplome"]) for row in _csv("certif_info.csv", ";")},
        "certification": {fiche.findtext("NUMERO_FICHE").strip() for fiche in fiches},
        "bloc_competences": {code for fiche in fiches for code in _distinct_bloc_codes(fiche)},
        "formacode": {row["code"] for row in _csv("formacode.csv")}
        | {r["code"] for r in _csv("formacode-supplement.csv")},
    }


KEY_QUERIES = {
    "dispositif": "SELECT code FROM dispositif",
    "dispositif_default_public": "SELECT dispositif_code, public_code FROM dispositif_default_public",
    "public": "SELECT code FROM public",
    "nsf": "SELECT code FROM nsf",
    "rome": "SELECT code FROM rome",
    "commune": "SELECT code_insee FROM commune",
    "commune_code_postal": "SELECT code_insee, code_postal FROM commune_code_postal",
    "certifinfo": "SELECT code FROM certifinfo",
    "certification": "SELECT numero_fiche FROM certification",
    "bloc_competences": "SELECT code FROM bloc_competences",
    "formacode": "SELECT code FROM formacode",
}


def stored_keys(table: str) -> set:
    rows = db.session.execute(sa.text(KEY_QUERIES[table])).all()
    return {row[0] if len(row) == 1 else tuple(row) for row in rows}


def table_counts() -> dict[str, int]:
    return {table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) for table in TABLES}


def ids_snapshot() -> tuple[list, list]:
    db.session.expire_all()
    return (
        sorted(db.session.execute(sa.select(Certification.numero_fiche, Certification.id)).all()),
        sorted(db.session.execute(sa.select(BlocCompetences.code, BlocCompetences.id)).all()),
    )


def output_counts(output: str) -> dict[str, int]:
    counts = {}
    for line in output.splitlines():
        name, separator, value = line.partition(" : ")
        if separator and value.isdigit():
            counts[name] = int(value)
    return counts


@pytest.fixture
def empty_database(backend, tmp_path_factory):
    """An app on a database built by the migrations, with no reference data yet."""
    url = make_database_url(backend, tmp_path_factory, "loadref")
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SERVER_NAME": "sofi.test"})
    with application.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        yield application
        db.session.remove()
        db.engine.dispose()


def test_load_on_an_empty_database_loads_the_shipped_files_and_twice_changes_nothing(empty_database):
    runner = empty_database.test_cli_runner()
    expected = shipped_keys()
    assert all(count == 0 for count in table_counts().values())

    first = runner.invoke(args=["sofi", "load-referentials"])

    assert first.exit_code == 0, first.output
    assert "Données de référence chargées." in first.stdout
    for table, keys in expected.items():
        if table == "formacode":  # the fiches and Certif Info add the Formacodes the 8th edition lacks
            assert stored_keys(table) > keys
        else:
            assert stored_keys(table) == keys, table
    printed = output_counts(first.stdout)
    assert printed["dispositifs"] == len(_csv("dispositifs.csv"))
    assert printed["publics"] == len(_csv("publics.csv"))
    assert printed["certifinfo"] == len(_csv("certif_info.csv", ";"))  # data rows, some codes repeated
    assert printed["communes"] == len(expected["commune"])
    assert printed["certifications"] == len(_fiches())
    counts, ids = table_counts(), ids_snapshot()

    second = runner.invoke(args=["sofi", "load-referentials"])

    assert second.exit_code == 0, second.output
    assert output_counts(second.stdout) == printed
    assert table_counts() == counts
    assert ids_snapshot() == ids  # certifications and blocs updated in place


def test_load_again_on_a_loaded_database_changes_no_count(cli, session):
    counts, ids = table_counts(), ids_snapshot()
    expected = shipped_keys()

    result = cli("sofi", "load-referentials")

    assert result.exit_code == 0, result.output
    assert "Données de référence chargées." in result.stdout
    assert table_counts() == counts
    assert ids_snapshot() == ids
    for table in ("dispositif", "dispositif_default_public", "public", "nsf", "rome"):
        assert stored_keys(table) == expected[table], table
    for table in ("commune", "certifinfo", "certification", "bloc_competences", "formacode"):
        assert stored_keys(table) >= expected[table], table


def test_shipped_files_are_the_ones_described():
    """Guards the tests above against an empty or truncated data directory."""
    expected = shipped_keys()
    assert len(expected["dispositif"]) == len(_csv("dispositifs.csv")) > 0
    assert {"RNCP35030", "RNCP35830", "RNCP36612", "RS5719"} <= expected["certification"]
    assert {109049, 111669} <= expected["certifinfo"]
    assert "44109" in expected["commune"]
    assert all(Path(DATA_DIR / name).is_file() for name in FICHE_FILES)
