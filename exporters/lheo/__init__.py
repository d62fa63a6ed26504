"""LHÉO 2.3: the F-A-S-D → LHÉO mapping table, the streaming writer and the safe reader.

* ``mapping``: the explicit table (``MAPPING``) and the value rules shared by both directions;
* ``writer``: published versions → LHÉO 2.3 document, streamed with ``etree.xmlfile``;
* ``reader``: safe, streaming reading of LHÉO 2.2/2.3 documents, per-record schema validation,
  and the inverse mapping (LHÉO formation → plain F-A-S-D data, no database access).

The official XSD ships in ``schemas/`` (the application never reads ``../shared``).
"""

from functools import cache
from pathlib import Path

from lxml import etree

NS23 = "http://lheo.gouv.fr/2.3"
NS22 = "http://www.lheo.org/2.2"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "lheo-2.3.xsd"


def safe_parser(**options) -> etree.XMLParser:
    """An lxml parser that never expands entities, loads a DTD nor touches the network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False, **options
    )


@cache
def schema() -> etree.XMLSchema:
    """The official LHÉO 2.3 XML schema (parsed once, without network)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), safe_parser()))
