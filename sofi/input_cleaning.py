"""Text that users send is cleaned of NUL characters before anything reads it.

A NUL (``\\x00``) cannot be typed, shown or printed, and PostgreSQL refuses it in text columns
(a save would fail with a server error while SQLite would keep it). Forms, query strings and
JSON bodies therefore lose their NULs on the way in, whatever view or API endpoint reads them.
"""

from collections.abc import Mapping

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict


def without_nul(value):
    """``value`` with the NULs of its strings removed (lists and dicts walked)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


class NulFreeMultiDict(ImmutableMultiDict):
    """The form and query-string fields, built by Werkzeug from (name, value) pairs."""

    def __init__(self, mapping=None):
        if mapping is not None and not isinstance(mapping, Mapping):
            mapping = [(without_nul(key), without_nul(value)) for key, value in mapping]
        super().__init__(mapping)


class CleanedRequest(Request):
    parameter_storage_class = NulFreeMultiDict


class CleanedJSONProvider(DefaultJSONProvider):
    ensure_ascii = False  # answers in UTF-8: « Créteil », not « Cr\\u00e9teil »

    def loads(self, s, **kwargs):
        return without_nul(super().loads(s, **kwargs))


def init_input_cleaning(app: Flask) -> None:
    app.request_class = CleanedRequest
    app.json = CleanedJSONProvider(app)
