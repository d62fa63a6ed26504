"""Blocks of LHÉO 2.3 elements shared by the formation envelope and the actions: extras, addresses, contacts.

Each function adds to a ``xmlstring`` element what the mapping (``mapping.MAPPING``) says, from
the plain data of a published snapshot.
"""

from collections.abc import Iterable

from exporters.lheo import mapping as m
from exporters.lheo.xmlstring import add, escape_text
from models.codelists import label as code_label


def _extra_value(value) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return m.bool01(value)
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def extra_items(values: Iterable[tuple[str, object]]) -> list[str]:
    """``<extra info="key">value</extra>`` of each non-empty value (keys are constants: not escaped)."""
    return [
        f'<extra info="{key}">{escape_text(text)}</extra>'
        for key, value in values
        if (text := _extra_value(value)) is not None
    ]


def add_extras(parent, group: str, values: Iterable[tuple[str, object]], numero: str | None = None):
    """``<extras info="group"><extra info="key">value</extra>…`` (empty values left out)."""
    items = extra_items(values)
    if not items:
        return None
    extras = add(parent, "extras", info=group, numero=numero)
    extras.children.extend(items)
    return extras


def address_ok(data: dict | None) -> bool:
    return bool(data and data.get("adresse1") and data.get("code_postal") and data.get("commune"))


def add_adresse(parent, data: dict, denomination: str | None = None, geo: bool = False):
    """ADRESSE block from an organisation or site snapshot (which has a valid address)."""
    commune = data.get("commune") or {}
    adresse = add(parent, "adresse")
    if denomination:
        add(adresse, "denomination", m.fit(denomination, m.LIMITS["denomination"]))
    for line in m.split_lines(data.get("adresse1"), data.get("adresse2")) or [m.EMPTY_TEXT]:
        add(adresse, "ligne", line)
    add(adresse, "codepostal", data["code_postal"])
    add(adresse, "ville", m.required(commune.get("nom"), m.LIMITS["ville"]))
    departement = commune.get("departement")
    if departement and 2 <= len(departement) <= 3:
        add(adresse, "departement", departement)
    if commune.get("code_insee"):
        add(adresse, "code-INSEE-commune", commune["code_insee"])
    region = commune.get("region")
    if region and len(region) == 2:
        add(adresse, "region", region)
    add(adresse, "pays", m.PAYS)
    if geo and data.get("latitude") is not None and data.get("longitude") is not None:
        geoloc = add(adresse, "geolocalisation")
        add(geoloc, "latitude", repr(float(data["latitude"])))
        add(geoloc, "longitude", repr(float(data["longitude"])))
    return adresse


def _phone(parent, name: str, number: str | None):
    number = m.fit(number, m.LIMITS["numtel"])
    if number:
        add(add(parent, name), "numtel", number)


def _email(parent, email: str | None):
    email = m.fit(email, m.LIMITS["courriel"])
    if email and len(email) >= 3:
        add(parent, "courriel", email)


def add_organisation_coordonnees(parent, organisation: dict, with_address: bool):
    coordonnees = add(parent, "coordonnees")
    if with_address and address_ok(organisation):
        add_adresse(coordonnees, organisation)
    _phone(coordonnees, "telfixe", organisation.get("telephone"))
    _email(coordonnees, organisation.get("email"))
    url = m.fit(organisation.get("site_web"), m.LIMITS["urlweb"])
    if url and len(url) >= 3:
        add(add(coordonnees, "web"), "urlweb", url)
    return coordonnees


def add_contact(parent, name: str, contact: dict, roles: list[str]):
    element = add(parent, name)
    if contact.get("type_contact"):
        add(element, "type-contact", contact["type_contact"])
    coordonnees = add(element, "coordonnees")
    if contact.get("civilite"):
        add(coordonnees, "civilite", code_label("sofi-civilites", contact["civilite"]))
    for key in ("nom", "prenom"):
        value = m.fit(contact.get(key), m.LIMITS["coordonnees-nom"])
        if value:
            add(coordonnees, key, value)
    _phone(coordonnees, "telfixe", contact.get("telephone_fixe"))
    _phone(coordonnees, "portable", contact.get("telephone_portable"))
    _email(coordonnees, contact.get("email"))
    add_extras(
        element,
        m.X_CONTACT,
        [
            ("roles", roles),
            ("nom", contact.get("nom")),
            ("prenom", contact.get("prenom")),
            ("fonction", contact.get("fonction")),
        ],
    )
    return element
