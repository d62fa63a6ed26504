"""``/favicon.ico``: the SOFI icon, asked for by browsers on every page of the catalogue and the back-office.

The pages link the same SVG (``<link rel="icon">`` in ``layout.html`` and ``admin/base.html``); this
route answers browsers and tools that still ask for the conventional address, instead of a 404.
"""

from flask import Blueprint, current_app, send_from_directory

ICON = "sofi-icon.svg"
# The icon hardly ever changes: browsers may keep it for 30 days without asking again.
MAX_AGE = 30 * 24 * 3600

favicon = Blueprint("favicon", __name__)


@favicon.get("/favicon.ico")
def favicon_ico():
    return send_from_directory(current_app.static_folder, ICON, mimetype="image/svg+xml", max_age=MAX_AGE)
