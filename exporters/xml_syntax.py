"""French wording of the XML syntax errors libxml2 reports (its own messages are in English).

The importers show the user where the file breaks and what kind of break it is; the English
detail of libxml2 is left to the logs.
"""

from lxml import etree

# libxml2 error names (``lxml.etree.ErrorTypes``) → what the user is told.
DESCRIPTIONS = {
    "ERR_DOCUMENT_EMPTY": "le document ne commence pas par une balise XML",
    "ERR_DOCUMENT_START": "le document ne commence pas par une balise XML",
    "ERR_DOCUMENT_END": "du contenu suit la fin de l'élément racine",
    "ERR_TAG_NOT_FINISHED": "le document s'arrête avant la fermeture d'un élément (fichier tronqué ?)",
    "ERR_TAG_NAME_MISMATCH": "une balise fermante ne correspond pas à la balise ouverte",
    "ERR_INVALID_CHAR": "caractère interdit dans un document XML",
    "ERR_INVALID_CHARREF": "référence de caractère interdite dans un document XML",
    "ERR_INVALID_ENCODING": "octets invalides pour l'encodage du document (UTF-8 attendu)",
    "ERR_UNSUPPORTED_ENCODING": "encodage de caractères non pris en charge",
    "ERR_UNKNOWN_ENCODING": "encodage de caractères inconnu",
    "ERR_RESOURCE_LIMIT": "limite de lecture dépassée (imbrication trop profonde ou texte trop long)",
    "ERR_UNDECLARED_ENTITY": "entité non déclarée",
    "ERR_ENTITY_LOOP": "entités récursives",
}
GENERIC = "syntaxe XML incorrecte"
EMPTY = "le document ne contient aucun élément XML"


def describe(error: etree.XMLSyntaxError) -> str:
    """French description of ``error`` with its position, e.g. "… (ligne 3, colonne 12)"."""
    name = etree.ErrorTypes._getName(error.code, "")
    line, column = error.position if error.position else (error.lineno, 0)
    if not line:
        return EMPTY
    description = DESCRIPTIONS.get(name, GENERIC)
    return f"{description} (ligne {line}, colonne {column})" if column else f"{description} (ligne {line})"
