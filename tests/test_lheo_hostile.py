"""Hostile or broken files given to ``flask sofi import-lheo``: refused quickly, in French, nothing written."""

import time

from models import AuditEvent, Commune, Formacode, Formation, Organisation, SessionFormation, db
from tests.conftest import count_rows

NS = "http://lheo.gouv.fr/2.3"
LOL = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE lheo [<!ENTITY lol0 "lol">{LOL}]>'
    f'<lheo xmlns="{NS}"><offres><formation><intitule-formation>&lol9;</intitule-formation></formation></offres></lheo>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE lheo [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    f'<lheo xmlns="{NS}"><offres><formation><intitule-formation>&secret;'
    "</intitule-formation></formation></offres></lheo>"
)
EXTERNAL_DTD = (
    f'<?xml version="1.0"?><!DOCTYPE lheo SYSTEM "http://127.0.0.1:9/lheo.dtd"><lheo xmlns="{NS}"><offres/></lheo>'
)
TABLES = (Organisation, Formation, SessionFormation, Commune, Formacode, AuditEvent)


def _counts():
    db.session.rollback()
    return [count_rows(model) for model in TABLES]


def _refused(cli, path, *fragments, limit=2.0):
    before = _counts()
    started = time.monotonic()
    result = cli("sofi", "import-lheo", str(path))
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, (path.name, result.output)
    assert result.stderr.startswith("Erreur : "), path.name
    for fragment in fragments:
        assert fragment in result.stderr, (path.name, result.stderr)
    assert elapsed < limit, elapsed
    assert _counts() == before
    return result


CASES = {
    "billion-laughs": (BILLION_LAUGHS, "DOCTYPE"),
    "external-entity": (EXTERNAL_ENTITY, "DOCTYPE"),
    "external-dtd": (EXTERNAL_DTD, "DOCTYPE"),
    "truncated": (f'<lheo xmlns="{NS}"><offres><formation>', "bien formé"),
    "not-lheo": ('<offre xmlns="urn:autre"/>', "pas un document LHÉO"),
    "empty": ("", "vide"),
}


def test_hostile_and_broken_files_are_refused(cli, session, tmp_path):
    for name, (content, fragment) in CASES.items():
        path = tmp_path / f"{name}.xml"
        path.write_text(content, encoding="utf-8")
        result = _refused(cli, path, fragment)
        assert "root:" not in result.stderr and "root:" not in result.output, name  # /etc/passwd never read


def test_huge_nesting_is_refused_quickly(cli, session, tmp_path, app):
    path = tmp_path / "nesting.xml"
    opening = f'<lheo xmlns="{NS}">'.encode()
    with path.open("wb") as handle:  # 100 MB of nested elements
        handle.write(opening)
        chunk = b"<a>" * (1 << 20)
        for _ in range(100 * (1 << 20) // len(chunk)):
            handle.write(chunk)
    assert path.stat().st_size >= 100 * 10**6
    # with the default limit (200 MB), libxml2's depth limit stops it at the 256th level
    _refused(cli, path, "limites de lecture")
    # with a smaller limit, the size alone refuses it before anything is read
    app.config["SOFI_LHEO_MAX_BYTES"] = 50 * 1024 * 1024
    try:
        _refused(cli, path, "taille maximale", limit=0.5)
    finally:
        app.config.pop("SOFI_LHEO_MAX_BYTES")
