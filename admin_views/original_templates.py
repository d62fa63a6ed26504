"""Flask-Admin's own Bootstrap 4 templates, also reachable as ``flask_admin/admin/…``.

SOFI overrides a few of them in ``sofi/templates/admin/`` to drop inline event handlers and
``javascript:`` links, which the Content-Security-Policy refuses (sofi/security_headers.py).
Each override extends or imports the original under this prefix and replaces only what
changes, so the rest follows Flask-Admin's upgrades.
"""

from pathlib import Path

import flask_admin
from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

PREFIX = "flask_admin"
BOOTSTRAP4 = Path(flask_admin.__file__).resolve().parent / "templates" / "bootstrap4"


def add_original_templates(app: Flask) -> None:
    originals = PrefixLoader({PREFIX: FileSystemLoader(BOOTSTRAP4)})
    app.jinja_loader = ChoiceLoader([app.jinja_loader, originals])
