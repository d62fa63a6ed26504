"""Base Flask-Admin view of SOFI: login required, rows scoped by ``sofi.permissions``.

Flask-Admin does not scope anything by itself: every entry point that reads or changes
rows (list, count, detail, edit, delete, bulk actions, export, ajax) is routed here
through :func:`sofi.permissions.scoped`, and a record outside the user's scope answers 404.
"""

from flask import abort, flash, redirect, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user

from models import ModelValidationError, Role, db
from sofi import permissions

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SofiModelView(ModelView):
    """Scoped model view. ``roles`` lists who may open it."""

    roles: set[Role] = {Role.ORGANISATION, Role.VALIDATOR, Role.ADMINISTRATOR}
    can_view_details = True
    can_export = True
    export_types = ["csv", "xlsx"]
    page_size = 20
    can_set_page_size = True
    list_template = "admin/sofi_list.html"

    def __init__(self, model, **kwargs):
        super().__init__(model, db, **kwargs)

    def preset_label(self) -> str | None:
        """Name of the dashboard subset the list shows (see ``PresetMixin``)."""
        return None

    # Access -------------------------------------------------------------------------------
    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.active and current_user.role in self.roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    # Scoping ------------------------------------------------------------------------------
    def get_query(self):
        return permissions.scoped(super().get_query(), self.model, current_user)

    def get_count_query(self):
        return permissions.scoped(super().get_count_query(), self.model, current_user)

    def get_one(self, id):
        key = getattr(self.model, self._primary_key)  # "id", or "code" for the base Dispositif
        record = self.get_query().filter(key == int(id)).one_or_none() if str(id).isdigit() else None
        if record is None:
            abort(404)
        return record

    @action("delete", "Supprimer", "Supprimer les enregistrements sélectionnés ?")
    def action_delete(self, ids):
        """Bulk delete limited to the user's rows (ids are compared as integers)."""
        wanted = [int(i) for i in ids if str(i).isdigit()]
        deleted = sum(
            1 for record in self.get_query().filter(self.model.id.in_(wanted)).all() if self.delete_model(record)
        )
        if deleted:
            flash(f"{deleted} enregistrement(s) supprimé(s).", "success")

    def get_export_value(self, model, name):
        """Exported cells never start a formula (CSV/XLSX injection): such text gets a leading quote."""
        value = super().get_export_value(model, name)
        if isinstance(value, str) and value[:1] in FORMULA_STARTS:
            return "'" + value
        return value

    # Changes ------------------------------------------------------------------------------
    def on_model_change(self, form, model, is_created):
        if not is_created and not permissions.can_edit(current_user, model):
            abort(403)

    def on_model_delete(self, model):
        if not permissions.can_edit(current_user, model):
            abort(403)

    def handle_view_exception(self, exc) -> bool:
        if isinstance(exc, ModelValidationError):
            flash(f"Enregistrement impossible : {exc.message}", "error")
            return True
        return super().handle_view_exception(exc)
