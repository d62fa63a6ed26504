"""Helpers of the LHÉO tests: reading LHÉO with plain lxml, official XSD, clean-up of reference rows.

Expected values are always read from the files (or the ORM) with plain lxml here, never
taken from the exporter or the importer under test.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from models import Commune, Dispositif, Formacode, db
from tests.conftest import REFERENCE_TABLES, SHARED

NS = "http://lheo.gouv.fr/2.3"
XSD = SHARED / "lheo" / "schemas" / "lheo-2.3.xsd"
SAMPLES = SHARED / "lheo" / "real-samples"
INVALID_SAMPLE = SAMPLES / "invalid" / "anotea-intercarif-data-test-2.2.xml"
IDENTITY_ATTRIBUTES = ("numero", "datemaj", "datecrea", "horodatage-export")
IDENTITY_EXTRAS = ("identifiant", "code-fas", "date-publication")


def parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def official_schema() -> etree.XMLSchema:
    """The XSD of ../shared, parsed without network (independent of the shipped copy)."""
    return etree.XMLSchema(etree.parse(str(XSD), parser()))


def parse(path_or_bytes) -> etree._Element:
    if isinstance(path_or_bytes, bytes):
        return etree.fromstring(path_or_bytes, parser())
    return etree.parse(str(path_or_bytes), parser()).getroot()


def as_23(root: etree._Element) -> etree._Element:
    """A 2.2 document renamed into the 2.3 namespace (LHEO-GUIDE §7)."""
    old = etree.QName(root).namespace
    if old != NS:
        for element in root.iter():
            if isinstance(element.tag, str) and element.tag.startswith(f"{{{old}}}"):
                element.tag = f"{{{NS}}}{etree.QName(element).localname}"
        etree.cleanup_namespaces(root, top_nsmap={None: NS})
    return root


def counts(root: etree._Element) -> dict[str, int]:
    return {name: len(root.findall(f".//{{*}}{name}")) for name in ("formation", "action", "session")}


def assert_valid(root: etree._Element) -> None:
    schema = official_schema()
    assert schema.validate(etree.ElementTree(root)), [f"{e.line}: {e.message}" for e in schema.error_log][:10]


def child_text(element, name: str) -> str | None:
    found = element.find(f"{{{NS}}}{name}")
    return found.text if found is not None else None


def normalised(root: etree._Element) -> list[str]:
    """The document without what identifies records of one database (ids, dates of export)."""
    root = etree.fromstring(etree.tostring(root))
    for element in root.iter():
        for name in IDENTITY_ATTRIBUTES:
            element.attrib.pop(name, None)
    for extra in list(root.iter(f"{{{NS}}}extra")):
        if extra.get("info") in IDENTITY_EXTRAS:
            extra.getparent().remove(extra)
    return etree.tostring(root, pretty_print=True, encoding="unicode").splitlines()


def empty_offer_tables() -> None:
    """Delete every non-reference row (the audit log is append-only and kept): an empty offer."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in REFERENCE_TABLES | {"audit_event"}:
            db.session.execute(table.delete())
    db.session.commit()


REFERENCE_MODELS = ((Formacode, Formacode.code), (Commune, Commune.code_insee), (Dispositif, Dispositif.code))


def reference_keys() -> dict:
    """The keys of the reference rows an import may add (Formacodes, communes, dispositifs)."""
    return {model: set(db.session.scalars(sa.select(key))) for model, key in REFERENCE_MODELS}


def remove_reference_rows_added_since(before: dict) -> None:
    db.session.rollback()
    for model, key in REFERENCE_MODELS:
        added = set(db.session.scalars(sa.select(key))) - before[model]
        if added:
            db.session.execute(sa.delete(model).where(key.in_(added)))
    db.session.commit()


@pytest.fixture
def restore_reference_data(app):
    """Imports add Formacodes, communes and dispositifs: remove them after the test.

    Request it before ``session``/``cli`` (or autouse it): it is torn down after the offer rows
    are deleted by the ``app_context`` fixture.
    """
    with app.app_context():
        before = reference_keys()
        db.session.remove()
    yield
    with app.app_context():
        remove_reference_rows_added_since(before)
        db.session.remove()


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.xml"))


def child_processes(module: str) -> list[int]:
    """The processes running ``python -m module`` that this process started and has not waited for (Linux's /proc)."""
    children = []
    for task in Path("/proc/self/task").iterdir():
        children += (task / "children").read_text().split()
    return [int(pid) for pid in children if module.encode() in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
