"""A minimal XML builder for the LHÉO writer: elements as Python lists, serialised as strings.

Building lxml elements costs a C proxy object and a namespace lookup per element; an export of
a million sessions writes about fifty million of them. Here a leaf element (one with text) is
written straight away as a string in its parent's children, and only containers are objects.
The serialisation is byte for byte what lxml writes (``etree.tostring``, UTF-8, no pretty
print): the same escaping of text (``& < >`` and carriage returns) and attributes (plus ``"``,
tabs and line feeds), ``<name/>`` for an empty element and ``<name></name>`` for an empty text;
characters XML 1.0 forbids are dropped, as the lxml writer did when lxml refused them.
"""

import re

from exporters.lheo import mapping as m

# What text may not hold as is: markup characters, carriage returns, characters XML 1.0 forbids.
_TEXT_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')


def escape_text(value) -> str:
    text = value if value.__class__ is str else str(value)
    if _TEXT_SPECIAL.search(text) is None:  # the usual case: one regex search
        return text
    text = m.xml_text(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attribute(value) -> str:
    text = value if value.__class__ is str else str(value)
    if _ATTRIBUTE_SPECIAL.search(text) is None:
        return text
    text = escape_text(text)
    return text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def attributes(attrs: dict) -> str:
    """`` key="value"`` for each attribute that has a value (``_`` in names written ``-``)."""
    return "".join(
        f' {key.replace("_", "-")}="{escape_attribute(value)}"' for key, value in attrs.items() if value is not None
    )


class Element:
    """A container element: its name, its serialised attributes and its children (elements or strings)."""

    __slots__ = ("name", "attrs", "children")

    def __init__(self, name: str, attrs: str = ""):
        self.name = name
        self.attrs = attrs
        self.children: list = []

    def __len__(self) -> int:
        return len(self.children)

    def append(self, child) -> None:
        """Add an element or an already serialised string."""
        self.children.append(child)

    def serialise(self, out: list[str]) -> None:
        if not self.children:
            out.append(f"<{self.name}{self.attrs}/>")
            return
        out.append(f"<{self.name}{self.attrs}>")
        self.serialise_children(out)
        out.append(f"</{self.name}>")

    def serialise_children(self, out: list[str]) -> None:
        for child in self.children:
            if child.__class__ is str:
                out.append(child)
            else:
                child.serialise(out)

    def inner(self) -> str:
        """The serialised children (the element's content without its own tags)."""
        out: list[str] = []
        self.serialise_children(out)
        return "".join(out)

    def tostring(self) -> str:
        out: list[str] = []
        self.serialise(out)
        return "".join(out)


def add(parent: Element, name: str, text=None, **attrs) -> Element | None:
    """A child of ``parent``: written at once when it has a text (then None is returned), else an Element."""
    attrs_text = attributes(attrs) if attrs else ""
    if text is not None:
        parent.children.append(f"<{name}{attrs_text}>{escape_text(text)}</{name}>")
        return None
    element = Element(name, attrs_text)
    parent.children.append(element)
    return element
