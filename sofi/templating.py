"""Jinja filters shared by every page: French dates and labels of coded values."""

from datetime import date, datetime

from flask_login import current_user
from markupsafe import Markup

from models.codelists import label
from sofi import permissions
from sofi.sanitize import clean_html


def format_date(value: date | datetime | None) -> str:
    """``dd/mm/yyyy``, the date format of every screen."""
    return value.strftime("%d/%m/%Y") if value else ""


def format_datetime(value: datetime | None) -> str:
    return value.strftime("%d/%m/%Y %H:%M") if value else ""


# Rule problems name model attributes; the forms name some fields after their column.
FORM_FIELD_NAMES = {
    "site": "site_id",
    "organisme_responsable": "organisme_responsable_id",
    "referent_pmr": "referent_pmr_id",
    "referent_prf": "referent_prf_id",
    "mail_liaison": "mail_liaison_id",
    "referent_mobilite": "referent_mobilite_id",
    "dispositif": "dispositif_code",
    "domaines": "formacodes",
}


def rich_html(value: str | None) -> Markup:
    """Rich text shown as HTML, sanitised again at display time (whatever path stored it)."""
    return Markup(clean_html(value) or "")


def field_anchor(field: str | None) -> str:
    return FORM_FIELD_NAMES.get(field or "", field or "")


def register_template_helpers(app) -> None:
    app.jinja_env.filters["rich_html"] = rich_html
    app.jinja_env.filters["date_fr"] = format_date
    app.jinja_env.filters["datetime_fr"] = format_datetime
    app.jinja_env.filters["code_label"] = lambda code, list_name: label(list_name, code)
    app.jinja_env.globals["field_anchor"] = field_anchor
    app.jinja_env.globals["current_organisation"] = lambda: permissions.current_organisation(current_user)
