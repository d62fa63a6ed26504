"""Reading LHÉO 2.2 / 2.3 documents safely, as a stream, and inverting the mapping.

Safety: the file size is checked before anything is read (``max_bytes``); the parser never
expands entities, never loads a DTD, never touches the network and keeps libxml2's limits
(depth 256, 10 MB text nodes); any ``<!DOCTYPE`` is refused (an LHÉO document has none, and
it is where billion-laughs and external entities live). Every problem raises
:class:`LheoFileError` with a French message.

Streaming: ``iterparse`` delivers one finished ``<formation>`` at a time (libxml2 filters the
elements, no Python step per element); 2.2 elements are renamed into the 2.3 namespace (a 2.2
document is a 2.3 one once renamed); it is cleared from the parse tree once read, so memory
does not grow with the file.

``read_formation`` turns one formation element into plain data (dicts, strings, dates): the
inverse of ``mapping.MAPPING``, with the SOFI ``extras`` taking precedence when present (a
document written by SOFI). It does not touch the database.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from exporters import xml_syntax
from exporters.lheo import NS22, NS23, schema
from exporters.lheo import mapping as m

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
NAMESPACES = {NS23: "2.3", NS22: "2.2"}
MAX_ERRORS = 200


class LheoFileError(Exception):
    """The file cannot be read as an LHÉO document; ``message`` is in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class SchemaError:
    line: int | None
    record: str
    message: str

    def __str__(self) -> str:
        where = f"ligne {self.line}" if self.line else "document"
        record = f" ({self.record})" if self.record else ""
        return f"{where}{record} : {self.message}"


@dataclass
class DocumentInfo:
    root: str = ""
    version: str = ""
    formations: int = 0
    actions: int = 0
    sessions: int = 0
    resumes: int = 0
    errors: list[SchemaError] = field(default_factory=list)
    error_count: int = 0

    @property
    def is_offer(self) -> bool:
        return self.root == "lheo"


def q(name: str) -> str:
    return f"{{{NS23}}}{name}"


@cache
def qpath(path: str) -> str:
    return "/".join(q(part) for part in path.split("/"))


def local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _rename(element, old: str) -> None:
    prefix = f"{{{old}}}"
    for node in element.iter():
        if isinstance(node.tag, str) and node.tag.startswith(prefix):
            node.tag = f"{{{NS23}}}{node.tag[len(prefix) :]}"


def _short(message: str) -> str:
    return message.replace(f"{{{NS23}}}", "").replace(f"{{{NS22}}}", "")


class LheoStream:
    """One pass over an LHÉO file: root checks, structure checks, formations one by one."""

    def __init__(self, path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = Path(path)
        self.info = DocumentInfo()
        try:
            size = os.path.getsize(self.path)
        except OSError as error:
            raise LheoFileError(f"Le fichier « {self.path} » est illisible ({error.strerror}).") from error
        if size > max_bytes:
            raise LheoFileError(
                f"Le fichier fait {size / 1048576:.1f} Mo : la taille maximale acceptée est de "
                f"{max_bytes / 1048576:.0f} Mo. Rien n'a été importé."
            )
        if size == 0:
            raise LheoFileError("Le fichier est vide : ce n'est pas un document LHÉO.")

    def _context(self, **options):
        return etree.iterparse(
            str(self.path),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            **options,
        )

    def _check_root(self, element) -> None:
        docinfo = element.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise LheoFileError(
                "Le document contient une déclaration DOCTYPE (entités, DTD externe) : refusé par sécurité, "
                "un document LHÉO n'en a pas."
            )
        qname = etree.QName(element)
        version = NAMESPACES.get(qname.namespace)
        if version is None:
            raise LheoFileError(
                f"Ce n'est pas un document LHÉO 2.2 ou 2.3 : élément racine « {qname.localname} » dans "
                f"l'espace de noms « {qname.namespace or 'aucun'} » (attendu {NS23} ou {NS22})."
            )
        if qname.localname not in ("lheo", "lheo-index", "lheo-plus"):
            raise LheoFileError(f"Élément racine « {qname.localname} » inattendu pour un document LHÉO.")
        self.info.root, self.info.version = qname.localname, version
        self.namespace = qname.namespace

    def _structure_error(self, element, message: str) -> None:
        self.info.error_count += 1
        if len(self.info.errors) < MAX_ERRORS:
            self.info.errors.append(SchemaError(element.sourceline if element is not None else None, "", message))

    def formations(self) -> Iterator[etree._Element]:
        """The ``<formation>`` elements of ``offres`` (2.3 namespace, original line numbers), one at a time.

        libxml2 hands over the finished ``<formation>`` elements only (``tag=``): no Python step per
        element of the file. Each formation is yielded in place (valid until the next one), then
        cleared with the siblings before it, which are checked on the way out.
        """
        try:
            for _event, root in self._context(events=("start",)):
                self._check_root(root)
                break
            if self.info.root == "lheo":
                yield from self._offer_formations()
            else:
                self._count_resumes()
        except etree.XMLSyntaxError as error:
            raise LheoFileError(
                f"Le fichier n'est pas un document XML bien formé ou dépasse les limites de lecture : "
                f"{xml_syntax.describe(error)}."
            ) from error

    def _offer_formations(self) -> Iterator[etree._Element]:
        context = self._context(events=("end",), tag=f"{{{self.namespace}}}formation")
        for _event, element in context:
            offres = element.getparent()
            parent = offres.getparent() if offres is not None else None
            if parent is None or parent.getparent() is not None or local(offres.tag) != "offres":
                continue  # a formation nested elsewhere: checked by the schema, not an offer record
            while (previous := element.getprevious()) is not None:
                self._check_offres_child(previous)
                del offres[0]
            self.info.formations += 1
            if self.namespace != NS23:
                _rename(element, self.namespace)
            self.info.actions += len(element.findall(q("action")))
            self.info.sessions += len(element.findall(qpath("action/session")))
            yield element
            element.clear()
        self._check_structure(context.root)

    def _check_offres_child(self, element) -> None:
        """A formation (read ones are renamed into 2.3) or ``extras``; anything else is an error."""
        name = local(element.tag)
        if name != "extras" and element.tag not in (q("formation"), f"{{{self.namespace}}}formation"):
            self._structure_error(element, f"Élément « {name} » inattendu sous « offres ».")

    def _check_structure(self, root) -> None:
        """Children of ``lheo``: one ``offres`` (whose remaining children are checked), ``extras``."""
        seen_offres = False
        for child in root:
            name = local(child.tag)
            if name == "offres":
                if seen_offres:
                    self._structure_error(child, "Élément « offres » en double.")
                seen_offres = True
                for grandchild in child:
                    self._check_offres_child(grandchild)
            elif name != "extras":
                self._structure_error(child, f"Élément « {name} » inattendu sous « lheo ».")
        if not seen_offres:
            self._structure_error(None, "Élément « offres » manquant.")
        elif self.info.formations == 0:
            self._structure_error(None, "Le document ne contient aucune formation.")

    def _count_resumes(self) -> None:
        for _event, element in self._context(events=("end",), tag=f"{{{self.namespace}}}resume-offre"):
            self.info.resumes += 1
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]


def _records(formation) -> list[tuple[int, int, str]]:
    """(first line, last line, label) of the formation, its actions and sessions."""
    records = []
    for element in formation.iter(q("formation"), q("action"), q("session")):
        last = max((node.sourceline or 0) for node in element.iter())
        records.append((element.sourceline or 0, last, _label(element)))
    return records


def _label(element) -> str:
    numero = element.get("numero")
    label = local(element.tag)
    if label == "formation":
        title = element.findtext(q("intitule-formation")) or ""
        return f"{label} {numero or ''} « {' '.join(title.split())[:60]} »".replace("  ", " ").strip()
    return f"{label} {numero}" if numero else label


def _record_of(tree, path: str | None) -> str:
    """Label of the formation, action or session holding the node at ``path`` (libxml2's XPath)."""
    if not path:
        return ""
    try:
        nodes = tree.xpath(path)
    except etree.XPathError:
        return ""
    node = nodes[0] if nodes and isinstance(nodes[0], etree._Element) else None
    while node is not None:
        if local(node.tag) in ("formation", "action", "session"):
            return _label(node)
        node = node.getparent()
    return ""


def record_at(records: list[tuple[int, int, str]], line: int | None) -> str:
    """Label of the innermost record whose lines contain ``line``."""
    found = ""
    for first, last, label in records:
        if line is not None and first <= line <= last:
            found = label
    return found


def validate_formation(formation) -> list[SchemaError]:
    """Schema errors of one formation, validated inside a minimal 2.3 document.

    The formation is moved there (a copy cost a quarter of the validation): it leaves the
    stream's tree, whose reading it does not need again (``LheoStream.formations`` clears it).
    """
    root = etree.Element(q("lheo"), nsmap={None: NS23})
    offres = etree.SubElement(root, q("offres"))
    offres.append(formation)
    validator = schema()
    if validator.validate(root):
        return []
    records = _records(formation)
    tree = root.getroottree()
    errors = []
    for entry in validator.error_log:
        record = _record_of(tree, entry.path) or record_at(records, entry.line)
        errors.append(SchemaError(entry.line, record, _short(entry.message)))
    return errors


def checked_formations(stream: LheoStream) -> Iterator[etree._Element]:
    """The formations of ``stream``, each validated against the schema before it is yielded.

    Its errors are counted in ``stream.info`` (the first ``MAX_ERRORS`` kept): a reader may apply
    the formations of a file that it refuses at the end if any error was found, parsing it once.
    """
    for formation in stream.formations():
        errors = validate_formation(formation)
        stream.info.error_count += len(errors)
        room = MAX_ERRORS - len(stream.info.errors)
        stream.info.errors.extend(errors[: max(room, 0)])
        yield formation


def inspect(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> DocumentInfo:
    """Read the whole file once: root, version, counts and every schema error (streamed)."""
    stream = LheoStream(path, max_bytes)
    for _formation in checked_formations(stream):
        pass
    return stream.info


# --- inverse mapping -----------------------------------------------------------------------------


class Children:
    """The children of a record element by tag, found in one walk.

    A record reads some twenty fields and lists: ``findtext`` and ``findall`` walked its children
    again for each one (``findall`` alone cost a sixth of reading a session).
    """

    __slots__ = ("groups",)

    def __init__(self, element):
        self.groups: dict[str, list] = {}
        for child in element:
            tag = child.tag
            group = self.groups.get(tag)
            if group is None:
                self.groups[tag] = [child]
            else:
                group.append(child)

    def find(self, path: str):
        """The first element at ``path`` (its first step a child's tag), or None."""
        name, rest = _steps(path)
        group = self.groups.get(name)
        if group is None:
            return None
        return group[0].find(rest) if rest is not None else group[0]

    def all(self, name: str) -> list:
        """The children named ``name``, in document order."""
        return self.groups.get(_steps(name)[0], [])


@cache
def _steps(path: str) -> tuple[str, str | None]:
    """(qualified first step, qualified rest or None) of a path read through :class:`Children`."""
    name, _, rest = path.partition("/")
    return q(name), (qpath(rest) if rest else None)


def text(element, path: str | None = None) -> str | None:
    """Stripped text of ``element`` (or of its first descendant at ``path``); "" → None.

    ``element`` is an element or the :class:`Children` of one.
    """
    if type(element) is Children:  # the usual case first: a field of a record
        element = element.find(path)
    elif element is not None and path is not None:
        element = element.find(qpath(path))
    if element is None:
        return None
    value = element.text
    return (value.strip() or None) if value else None


def texts(element, path: str) -> list[str]:
    """The non-empty texts of the elements at ``path`` (``element``: an element or its :class:`Children`)."""
    if type(element) is Children:
        name, _, rest = path.partition("/")
        nodes = element.all(name)
        if rest:
            nodes = [node for parent in nodes for node in parent.findall(qpath(rest))]
    else:
        nodes = element.findall(qpath(path))
    return [value for node in nodes if (value := text(node))]


def content(element, path: str) -> str | None:
    """A free text; the placeholders real flows use for "nothing" ("-", "aucune") → None."""
    value = text(element, path)
    if value is None or value.strip(" .-_") == "":
        return None
    return value


def extras(element, group: str) -> list:
    """The ``extras`` children of ``element`` (or of its :class:`Children`) whose ``info`` is ``group``."""
    nodes = element.all("extras") if type(element) is Children else element.findall(EXTRAS)
    return [node for node in nodes if node.get("info") == group]


def extra_values(node) -> dict[str, str]:
    """``{key: text}`` of the direct ``extra`` children of an ``extras`` node (first wins)."""
    values: dict[str, str] = {}
    if node is None:
        return values
    for child in node.iterchildren(EXTRA):
        key = child.get("info")
        if key and key not in values:
            values[key] = child.text or ""
    return values


def sofi_extras(element, group: str) -> dict[str, str] | None:
    nodes = extras(element, group)
    return extra_values(nodes[0]) if nodes else None


def carif_flags(element) -> dict[str, bool]:
    """Carif-Oref extras: formation initiale, contrats (``type-action``, ``type-formation``, ``dispositif``)."""
    flags = {}
    for group in ("type-action", "type-formation", "dispositif"):
        for node in extras(element, group):
            for key, value in extra_values(node).items():
                flags[key] = value.strip() == "1"
    return flags


LIGNE = q("ligne")
EXTRA = q("extra")
EXTRAS = q("extras")
ADRESSE_FIELDS = {
    "codepostal": q("codepostal"),
    "ville": q("ville"),
    "insee": q("code-INSEE-commune"),
    "geolocalisation": q("geolocalisation"),
    "denomination": q("denomination"),
    "departement": q("departement"),
    "region": q("region"),
}


def read_adresse(node) -> dict | None:
    """An ADRESSE block, or None when absent or a placeholder (``-`` / ``00000``)."""
    if node is None:
        return None
    # one walk over the children (an address is read for each session, recruitment, contact…)
    values, lignes = {}, []
    for child in reversed(node):  # backwards: the first child of a tag is the one kept
        if child.tag == LIGNE:
            lignes.append(child)
        else:
            values[child.tag] = child
    lignes = [line for node in reversed(lignes) if (line := text(node)) and line.strip(" -")]
    codepostal = text(values.get(ADRESSE_FIELDS["codepostal"]))
    ville = text(values.get(ADRESSE_FIELDS["ville"]))
    if not codepostal or codepostal.strip("0") == "" or not ville or ville.strip(" -") == "":
        return None
    insee = text(values.get(ADRESSE_FIELDS["insee"]))
    geoloc = values.get(ADRESSE_FIELDS["geolocalisation"])
    return {
        "denomination": text(values.get(ADRESSE_FIELDS["denomination"])),
        "lignes": [" ".join(line.split()) for line in lignes],
        "codepostal": codepostal,
        "ville": " ".join(ville.split()),
        "departement": text(values.get(ADRESSE_FIELDS["departement"])),
        "insee": insee if insee and insee.strip("0") else None,
        "region": text(values.get(ADRESSE_FIELDS["region"])),
        "latitude": _float(text(geoloc, "latitude")) if geoloc is not None else None,
        "longitude": _float(text(geoloc, "longitude")) if geoloc is not None else None,
    }


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value else None
    except ValueError:
        return None


def read_coordonnees(node) -> dict:
    if node is None:
        return {}
    fields = Children(node)
    web = fields.find("web")
    return {
        "civilite": text(fields, "civilite"),
        "nom": content(fields, "nom"),
        "prenom": content(fields, "prenom"),
        "adresse": read_adresse(fields.find("adresse")),
        "telephone": text(fields, "telfixe/numtel"),
        "portable": text(fields, "portable/numtel"),
        "fax": text(fields, "fax/numtel"),
        "email": text(fields, "courriel"),
        "web": text(web, "urlweb") if web is not None else None,
    }


def read_contact(node) -> dict:
    fields = Children(node)
    contact = read_coordonnees(fields.find("coordonnees"))
    contact["type_contact"] = text(fields, "type-contact")
    sofi = sofi_extras(fields, m.X_CONTACT)
    if sofi is not None:
        contact["roles"] = (sofi.get("roles") or "").split()
        contact["fonction"] = sofi.get("fonction") or None
        contact["nom"] = sofi.get("nom") or contact["nom"]
        contact["prenom"] = sofi.get("prenom") or contact["prenom"]
    else:
        contact["roles"] = []
        contact["fonction"] = None
    return contact


def read_organisme(node) -> dict:
    fields = Children(node)
    coordonnees = read_coordonnees(fields.find("coordonnees-organisme/coordonnees"))
    return {
        "numero": node.get("numero"),
        "siret": "".join((text(fields, "SIRET-organisme-formation/SIRET") or "").split()),
        "nda": text(fields, "numero-activite"),
        "nom": content(fields, "nom-organisme"),
        "raison_sociale": content(fields, "raison-sociale"),
        "coordonnees": coordonnees,
        "contacts": [read_contact(c) for c in fields.all("contact-organisme")],
    }


def _blocs(node) -> dict:
    fields = Children(node)
    reference = fields.find("reference-certification")
    return {
        "validation": text(fields, "validation-blocs"),
        "rncp": text(reference, "reference-code-RNCP") if reference is not None else None,
        "rs": text(reference, "reference-code-RS") if reference is not None else None,
        "codes": [code for b in fields.all("bloc-competences") if (code := text(b, "code-bloc"))],
    }


def _cycle(node) -> dict:
    fields = Children(node)
    rythme = fields.find("alternance/rythme-alternance")
    return {
        "type": text(fields, "type-cycle"),
        "annee": _int(text(fields, "annee-cycle")),
        "effectif_minimal": _int(text(fields, "effectif-minimal")),
        "capacite_simultanee": _int(text(fields, "capacite-simultanee")),
        "unite": text(rythme, "unite-rythme-alternance") if rythme is not None else None,
        "unites_entreprise": _int(text(rythme, "unites-entreprise")) if rythme is not None else None,
        "unites_centre": _int(text(rythme, "unites-centre")) if rythme is not None else None,
    }


REPEATED_SIZE = 1024
_repeated_reads: dict[tuple, dict] = {}


def _repeated(read: Callable, node):
    """``read(node)``, shared with the identical elements read before (same XML text).

    The sessions of an action usually repeat their contacts, address, recruitment and blocs, the
    actions of a formation their site, the formations of a file their organisation: serialising one
    (C) costs a fifth to a quarter of reading it. The data read is never modified, so the same dict
    can serve them all; the memo is emptied when it holds ``REPEATED_SIZE`` of them.
    """
    if node is None:
        return read(node)
    key = (read, etree.tostring(node, with_tail=False))
    data = _repeated_reads.get(key)
    if data is None:
        if len(_repeated_reads) >= REPEATED_SIZE:
            _repeated_reads.clear()
        data = _repeated_reads[key] = read(node)
    return data


def _recrutement(node) -> dict:
    fields = Children(node)
    return {
        "modalite": text(fields, "modalite-recrutement"),
        "date": m.parse_lheo_date(text(fields, "periode/debut")),
        "heure_debut": m.parse_hour(text(fields, "heure-debut")),
        "heure_fin": m.parse_hour(text(fields, "heure-fin")),
        "commentaire": text(fields, "commentaire"),
        "adresse": read_adresse(fields.find("adresse")),
    }


def _session_extras(node) -> dict:
    """The SOFI extras of a session: its values, places left per dispositif, meetings, periods (one walk)."""
    values, places, informations, periodes = {}, {}, [], []
    for child in node:
        if child.tag == EXTRA:
            key = child.get("info")
            if key and key not in values:
                values[key] = child.text or ""
            if key == "places-restantes":
                places[child.get("numero")] = _int(child.text)
        elif child.tag == EXTRAS:
            group = child.get("info")
            if group == m.X_INFO_COLL:
                informations.append(extra_values(child))
            elif group == m.X_PERIODE_INSCRIPTION:
                periodes.append(extra_values(child))
    return {
        **values,
        "places_restantes": places,
        "informations_collectives": informations,
        "periodes_inscription": periodes,
    }


def read_session(node, index: int) -> dict:
    fields = Children(node)
    periode = fields.find("periode")
    debut, fin = text(periode, "debut"), text(periode, "fin")
    inscription = fields.find("periode-inscription/periode")
    inscription_debut = text(inscription, "debut")
    session = {
        "numero": node.get("numero"),
        "index": index,
        "debut": debut,
        "fin": fin,
        "date_debut": m.parse_lheo_date(debut),
        "date_fin": m.parse_lheo_date(fin, end=True),
        "adresse": _repeated(read_adresse, fields.find("adresse-inscription/adresse")),
        "periode_inscription": (
            {
                "debut": m.parse_lheo_date(inscription_debut),
                "fin": m.parse_lheo_date(text(inscription, "fin"), end=True),
                "debut_brut": inscription_debut,
            }
            if inscription is not None
            else None
        ),
        "etat_recrutement": text(fields, "etat-recrutement"),
        "recrutements": [_repeated(_recrutement, r) for r in fields.all("recrutement")],
        "contacts": [_repeated(read_contact, c) for c in fields.all("contact-session")],
        "blocs": [_repeated(_blocs, b) for b in fields.all("blocs-competences")],
        "cycles": [_cycle(c) for c in fields.all("cycle")],
        "sofi": None,
    }
    sofi_nodes = extras(fields, m.X_SESSION)
    if sofi_nodes:
        session["sofi"] = _session_extras(sofi_nodes[0])
    return session


def _lieu(node) -> dict | None:
    """A ``lieu-de-formation``: the site of an action."""
    if node is None:
        return None
    fields = Children(node)
    coordonnees = read_coordonnees(fields.find("coordonnees"))
    site_extras = sofi_extras(fields, m.X_SITE) or {}
    return {
        "nom": site_extras.get("nom") or coordonnees.get("nom"),
        "adresse": coordonnees.get("adresse"),
        "siret": "".join((text(fields, "SIRET-lieu-formation/SIRET") or "").split()) or None,
        "uai": text(fields, "code-UAI-lieu-formation/code-UAI"),
        "accessible_pmr": site_extras.get("accessible-pmr") == "1" if site_extras else None,
        "accessibilite": site_extras.get("accessibilite") or None,
        "sofi": bool(site_extras),
    }


def read_action(node, index: int) -> dict:
    fields = Children(node)
    formateur = fields.find("organisme-formateur")
    equipement = fields.find("equipement")
    action = {
        "numero": node.get("numero"),
        "index": index,
        "rythme": content(fields, "rythme-formation"),
        "publics": texts(fields, "code-public-vise"),
        "conditions": content(fields, "conditions-specifiques"),
        "prise_en_charge": text(fields, "prise-en-charge-frais-possible") == "1",
        "modalite_enseignement": text(fields, "modalites-enseignement"),
        "entrees_sorties": text(fields, "modalites-entrees-sorties"),
        "lieu": _repeated(_lieu, fields.find("lieu-de-formation")),
        "lieux": len(fields.all("lieu-de-formation")),
        "url": text(fields, "url-action/urlweb"),
        "sessions": [read_session(s, i) for i, s in enumerate(fields.all("session"))],
        "dates_information": [d for value in texts(fields, "date-information/date") if (d := m.parse_lheo_date(value))],
        "adresse_information": read_adresse(fields.find("adresse-information/adresse")),
        "acces_handicapes": content(fields, "acces-handicapes"),
        "modalites_codes": texts(fields, "code-modalite-pedagogique"),
        "equipement": (
            {
                "type": text(equipement, "type-equipement"),
                "cout": _int(text(equipement, "cout-indicatif-equipement")),
                "commentaire": text(equipement, "commentaire"),
            }
            if equipement is not None
            else None
        ),
        "prix_total": text(fields, "prix-total-TTC"),
        "heures_centre": _int(text(fields, "nombre-heures-centre")),
        "heures_entreprise": _int(text(fields, "nombre-heures-entreprise")),
        "heures_total": _int(text(fields, "nombre-heures-total")),
        "formateur": (
            {
                "siret": "".join((text(formateur, "SIRET-formateur/SIRET") or "").split()),
                "raison_sociale": content(formateur, "raison-sociale-formateur"),
                "contacts": [read_contact(c) for c in formateur.findall(q("contact-formateur"))],
            }
            if formateur is not None
            else None
        ),
        "financeurs": [
            {
                "code": text(f, "code-financeur"),
                "nb_places": _int(text(f, "nb-places-financees")),
                "programme": next(
                    (
                        v
                        for n in extras(f, "specificites")
                        for k, v in extra_values(n).items()
                        if k == "programme-financeur"
                    ),
                    None,
                ),
            }
            for f in fields.all("organisme-financeur")
        ],
        "flags": carif_flags(fields),
        "sofi": sofi_extras(fields, m.X_ACTION),
        "dispositifs": None,
    }
    dispositif_nodes = extras(fields, m.X_DISPOSITIF)
    if dispositif_nodes:
        action["dispositifs"] = [{"code": n.get("numero"), **extra_values(n)} for n in dispositif_nodes]
    return action


def read_formation(node) -> dict:
    """One ``<formation>`` (2.3 namespace) as plain data; see the module docstring."""
    fields = Children(node)
    domaine = fields.find("domaine-formation")
    formacodes = []
    principal = None
    if domaine is not None:
        for code_node in domaine.findall(q("code-FORMACODE")):
            code = text(code_node)
            if code and code not in [c for c, _ref in formacodes]:
                formacodes.append((code, code_node.get("ref")))
                if (code_node.get("tag") or "").strip().lower() == "principal" and principal is None:
                    principal = code
    certification = fields.find("certification")
    organisme = fields.find("organisme-formation-responsable")
    return {
        "numero": node.get("numero"),
        "line": node.sourceline,
        "intitule": text(fields, "intitule-formation"),
        "objectifs": content(fields, "objectif-formation"),
        "resultats": content(fields, "resultats-attendus"),
        "programme": content(fields, "contenu-formation"),
        "certifiante": text(fields, "certifiante") == "1",
        "rncp": text(certification, "code-RNCP") if certification is not None else None,
        "rs": text(certification, "code-RS") if certification is not None else None,
        "certifinfo": text(certification, "code-CERTIFINFO") if certification is not None else None,
        "objectif_general": text(fields, "objectif-general-formation"),
        "niveau_entree": text(fields, "code-niveau-entree"),
        "niveau_sortie": text(fields, "code-niveau-sortie"),
        "parcours": text(fields, "parcours-de-formation"),
        "formacodes": formacodes,
        "principal": principal,
        "nsf": texts(domaine, "code-NSF") if domaine is not None else [],
        "romes": texts(domaine, "code-ROME") if domaine is not None else [],
        "contacts": [_repeated(read_contact, c) for c in fields.all("contact-formation")],
        "organisme": _repeated(read_organisme, organisme) if organisme is not None else None,
        "actions": [read_action(a, i) for i, a in enumerate(fields.all("action"))],
        "flags": carif_flags(fields),
        "sofi": sofi_extras(fields, m.X_FORMATION),
    }
