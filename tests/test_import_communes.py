"""``flask sofi import-communes FILE``: communes.json of @etalab/decoupage-administratif.

Expected values are read with the json module in the tests, never taken from the importer.
Every test leaves the shared ``commune`` reference tables as it found them.
"""

import json
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import Commune, CommuneCodePostal, db
from sofi.services.referentials import DATA_DIR
from sofi.services.referentials.coordinates import load_commune_coordinates
from tests.conftest import SHARED, count_rows

COMMUNES_FILE = SHARED / "refdata" / "communes" / "communes-pays-de-la-loire.decoupage-administratif-6.0.0.json"
NEW_CODE = "99001"  # no commune of the region uses it


def snapshot() -> list[tuple]:
    db.session.expire_all()
    postal_codes = defaultdict(list)
    for code, postal_code in db.session.execute(sa.select(CommuneCodePostal.code_insee, CommuneCodePostal.code_postal)):
        postal_codes[code].append(postal_code)
    return sorted(
        (
            commune.code_insee,
            commune.nom,
            commune.kind,
            commune.population,
            tuple(sorted(postal_codes[commune.code_insee])),
        )
        for commune in db.session.scalars(sa.select(Commune))
    )


def commune(code: str) -> Commune | None:
    db.session.expire_all()
    return db.session.get(Commune, code)


def postal_codes(code: str) -> set[str]:
    return {cp.code_postal for cp in commune(code).codes_postaux}


@pytest.fixture(autouse=True)
def restore_communes(session):
    """Put the shared commune tables back as they were before the test."""
    before = snapshot()
    yield
    session.rollback()
    session.execute(sa.delete(Commune).where(Commune.code_insee.not_in([row[0] for row in before])))
    session.commit()
    if snapshot() != before:
        from sofi.services.referentials.communes import import_communes

        import_communes(DATA_DIR / "communes-pays-de-la-loire.json")
    # Re-imported communes lose the coordinates that load-referentials adds: put them back too.
    load_commune_coordinates()
    session.commit()


def write_json(path: Path, content) -> Path:
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def entry(code: str, nom: str, postal: list[str], kind: str = "commune-actuelle", **extra) -> dict:
    return {
        "code": code,
        "nom": nom,
        "departement": "99",
        "region": "99",
        "type": kind,
        "codesPostaux": postal,
        **extra,
    }


def assert_refused(result, *words: str) -> None:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Erreur" in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.output


# --- the real file ----------------------------------------------------------------------------


def test_import_creates_every_commune_once_with_pooled_postal_codes(cli, session):
    entries = json.loads(COMMUNES_FILE.read_text(encoding="utf-8"))
    expected_postal = defaultdict(set)
    current_name = {}
    for item in entries:
        expected_postal[item["code"]] |= set(item.get("codesPostaux", []))
        if item["type"] == "commune-actuelle":
            current_name[item["code"]] = item["nom"]
    session.execute(sa.delete(Commune))
    session.commit()
    assert count_rows(Commune) == 0

    result = cli("sofi", "import-communes", str(COMMUNES_FILE))

    assert result.exit_code == 0, result.output
    assert f"{len(expected_postal)} communes importées ({len(expected_postal)} créées, 0 mises à jour)" in result.stdout
    stored = {row[0]: row for row in snapshot()}
    assert set(stored) == set(expected_postal)
    for code, postal in expected_postal.items():
        assert set(stored[code][4]) == postal, code
    for code, nom in current_name.items():
        assert stored[code][1:3] == (nom, "commune-actuelle"), code
    assert count_rows(CommuneCodePostal) == sum(len(postal) for postal in expected_postal.values())


def test_nantes_and_a_commune_listed_twice(cli, session):
    entries = json.loads(COMMUNES_FILE.read_text(encoding="utf-8"))
    twice = [item for item in entries if item["code"] == "44005"]
    assert sorted(item["type"] for item in twice) == ["commune-actuelle", "commune-deleguee"]
    session.execute(sa.delete(Commune).where(Commune.code_insee.in_(["44109", "44005"])))
    session.commit()

    result = cli("sofi", "import-communes", str(COMMUNES_FILE))

    assert result.exit_code == 0, result.output
    nantes = commune("44109")
    assert (nantes.nom, nantes.departement, nantes.region) == ("Nantes", "44", "52")
    assert postal_codes("44109") == {"44000", "44100", "44200", "44300"}
    assert session.scalar(sa.select(sa.func.count()).select_from(Commune).where(Commune.code_insee == "44005")) == 1
    chaumes = commune("44005")
    assert (chaumes.nom, chaumes.kind) == ("Chaumes-en-Retz", "commune-actuelle")
    assert postal_codes("44005") == {cp for item in twice for cp in item.get("codesPostaux", [])}


@pytest.mark.parametrize("delegated_first", [True, False], ids=["deleguee-first", "actuelle-first"])
def test_code_listed_twice_keeps_the_current_commune_and_pools_postal_codes(cli, session, tmp_path, delegated_first):
    current = entry(NEW_CODE, "Commune nouvelle", ["99100"])
    delegated = entry(NEW_CODE, "Commune déléguée", ["99200", "99100"], kind="commune-deleguee")
    path = write_json(tmp_path / "communes.json", [delegated, current] if delegated_first else [current, delegated])

    result = cli("sofi", "import-communes", str(path))

    assert result.exit_code == 0, result.output
    assert "1 communes importées (1 créées, 0 mises à jour)" in result.stdout
    stored = commune(NEW_CODE)
    assert (stored.nom, stored.kind) == ("Commune nouvelle", "commune-actuelle")
    assert postal_codes(NEW_CODE) == {"99100", "99200"}


def test_reimport_updates_without_duplicating(cli, session, tmp_path):
    first = write_json(tmp_path / "v1.json", [entry(NEW_CODE, "Avant", ["99100", "99200"], population=10)])
    assert cli("sofi", "import-communes", str(first)).exit_code == 0
    second = write_json(tmp_path / "v2.json", [entry(NEW_CODE, "Après", ["99200", "99300"], population=20)])

    result = cli("sofi", "import-communes", str(second))

    assert result.exit_code == 0, result.output
    assert "1 communes importées (0 créées, 1 mises à jour)" in result.stdout
    stored = commune(NEW_CODE)
    assert (stored.nom, stored.population) == ("Après", 20)
    assert postal_codes(NEW_CODE) == {"99200", "99300"}


def test_reimport_of_the_real_file_changes_nothing(cli, session):
    first = cli("sofi", "import-communes", str(COMMUNES_FILE))
    assert first.exit_code == 0, first.output
    counts, before = (count_rows(Commune), count_rows(CommuneCodePostal)), snapshot()

    second = cli("sofi", "import-communes", str(COMMUNES_FILE))

    assert second.exit_code == 0, second.output
    assert "(0 créées" in second.stdout
    assert (count_rows(Commune), count_rows(CommuneCodePostal)) == counts
    assert snapshot() == before


# --- refused files ----------------------------------------------------------------------------


def _before_the_error() -> list[dict]:
    """A new commune and a change to Nantes: a refused file must apply neither."""
    nantes = entry("44109", "Nantes modifiée", ["44999"])
    return [entry(NEW_CODE, "Nouvelle", ["99100"]), nantes]


def _with(bad):
    return lambda tmp_path: write_json(tmp_path / "communes.json", [*_before_the_error(), bad])


def _truncated(tmp_path: Path) -> Path:
    text = (
        json.dumps(_before_the_error(), ensure_ascii=False)[:-1] + "," + COMMUNES_FILE.read_text(encoding="utf-8")[1:]
    )
    path = tmp_path / "tronque.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    return path


def _text_file(content: bytes):
    def build(tmp_path: Path) -> Path:
        path = tmp_path / "communes.json"
        path.write_bytes(content)
        return path

    return build


REFUSED_FILES = {
    "truncated": (_truncated, ["mal formé"]),
    "not-json": (_text_file(b"code;nom\n44109;Nantes\n"), ["mal formé"]),
    "empty": (_text_file(b""), ["mal formé"]),
    "object-not-list": (lambda tmp_path: write_json(tmp_path / "c.json", {"communes": _before_the_error()}), ["liste"]),
    "list-of-strings": (_with("44109"), ["entrée n°3"]),
    "no-name": (_with({"code": "99002", "departement": "99", "codesPostaux": []}), ["entrée n°3", "nom"]),
    "numeric-code": (_with(entry(99002, "Numérique", [])), ["entrée n°3", "code INSEE"]),
    "department-name": (_with(entry("99002", "Nom", [], departement="Loire-Atlantique")), ["entrée n°3"]),
    "bad-postal-code": (_with(entry("99002", "Code postal court", ["4400"])), ["99002", "code postal"]),
    "postal-codes-text": (_with(entry("99002", "Codes en texte", "44000")), ["99002", "code postal"]),
    "postal-codes-number": (_with(entry("99002", "Codes en nombre", 44000)), ["99002", "code postal"]),
    "population-text": (_with(entry("99002", "Population", [], population="beaucoup")), ["99002", "population"]),
    "region-number": (_with(entry("99002", "Région", [], region=52)), ["99002", "région"]),
    "not-utf-8": (_text_file('[{"code": "99002", "nom": "Bouguenais-lès-Été"}]'.encode("latin-1")), ["UTF-8"]),
    "missing": (lambda tmp_path: tmp_path / "absent.json", ["n'existe pas"]),
}


@pytest.mark.parametrize("case", list(REFUSED_FILES))
def test_refused_file_changes_nothing_and_says_why_in_french(cli, session, tmp_path, case):
    build, words = REFUSED_FILES[case]
    path = build(tmp_path)
    before = snapshot()

    result = cli("sofi", "import-communes", str(path))

    assert_refused(result, *words)
    assert snapshot() == before
    assert commune(NEW_CODE) is None
    assert commune("44109").nom == "Nantes"
