"""Historique: the audit log, read-only (organisations see their own records' history)."""

import json

from markupsafe import Markup, escape

from admin_views.base import SofiModelView

OPERATIONS = {
    "create": "Création",
    "update": "Modification",
    "delete": "Suppression",
    "transition": "Changement d'état",
    "archive": "Archivage",
    "certifinfo": "Certif Info remplacé",
}


def _values(view, context, model, name):
    before, after = model.before or {}, model.after or {}
    keys = sorted(set(before) | set(after))
    rows = "".join(
        f"<li><code>{escape(key)}</code> : {escape(json.dumps(before.get(key), ensure_ascii=False))} → "
        f"{escape(json.dumps(after.get(key), ensure_ascii=False))}</li>"
        for key in keys
    )
    return Markup(f"<ul class='mb-0 small'>{rows}</ul>") if rows else ""


class HistoryView(SofiModelView):
    can_create = can_edit = can_delete = False
    column_list = ["at", "actor_label", "source", "operation", "table_name", "record_id", "message", "changes"]
    column_labels = {
        "at": "Date",
        "actor_label": "Auteur",
        "source": "Origine",
        "operation": "Opération",
        "table_name": "Table",
        "record_id": "Enregistrement",
        "message": "Message",
        "changes": "Valeurs",
        "action_id": "Action",
    }
    column_formatters = {
        "at": lambda v, c, m, n: m.at.strftime("%d/%m/%Y %H:%M:%S"),
        "operation": lambda v, c, m, n: OPERATIONS.get(m.operation, m.operation),
        "changes": _values,
    }
    column_formatters_export = {
        "changes": lambda v, c, m, n: json.dumps({"avant": m.before, "après": m.after}, ensure_ascii=False)
    }
    column_default_sort = ("at", True)
    column_sortable_list = ["at", "table_name", "operation"]
    column_searchable_list = ["actor_label", "record_id", "table_name"]
    column_filters = ["table_name", "operation", "source", "actor_label", "at", "action_id"]
    can_set_page_size = True
