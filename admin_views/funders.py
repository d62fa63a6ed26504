"""Funder workspace (seeds/004): a funder approves the sessions of its schemes before publication."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from admin_views.base import SofiModelView
from models import Action, ActionStatus, Role, db
from models.codelists import label
from sofi import permissions
from sofi.services import workflow
from sofi.services.errors import DomainError


class FunderView(SofiModelView):
    roles = {Role.FUNDER}
    can_create = can_edit = can_delete = False
    can_export = True
    column_list = ["id", "formation", "organisation", "submitted_at"]
    column_labels = {
        "id": "Action",
        "formation": "Formation",
        "organisation": "Organisme",
        "submitted_at": "Envoyée le",
    }
    column_formatters = {
        "id": lambda v, c, m, n: Markup(
            f'<a href="{url_for(".decision_view", id=m.id)}" aria-label="Examiner l\'action {m.id}">{m.id}</a>'
        ),
        "formation": lambda v, c, m, n: m.intitule,
        "organisation": lambda v, c, m, n: m.organisation.raison_sociale,
        "submitted_at": lambda v, c, m, n: m.submitted_at.strftime("%d/%m/%Y") if m.submitted_at else "",
    }
    column_default_sort = ("submitted_at", False)
    column_sortable_list = ["submitted_at"]

    def _scope(self, query):
        return query.filter(
            permissions.funder_actions_clause(current_user), Action.status == ActionStatus.EN_ATTENTE_VALIDATION
        )

    def get_query(self):
        return self._scope(db.session.query(Action)).options(
            joinedload(Action.formation), joinedload(Action.organisation)
        )

    def get_count_query(self):
        return self._scope(super(SofiModelView, self).get_count_query())

    def get_one(self, id):
        record = self.get_query().filter(Action.id == int(id)).one_or_none() if str(id).isdigit() else None
        if record is None:
            abort(404)
        return record

    @expose("/decision/", methods=("GET", "POST"))
    def decision_view(self):
        action = self.get_one(request.values.get("id", ""))
        if request.method == "POST":
            try:
                workflow.funder_decision(
                    current_user, action, request.form.get("decision") == "accord", request.form.get("comment", "")
                )
            except DomainError as error:
                flash(error.message, "error")
            else:
                flash("Votre décision a été transmise au Cariforef.", "success")
                return redirect(url_for(".index_view"))
        sessions = [
            s
            for s in action.sessions
            if any(d.dispositif.financeur_code == current_user.financeur_code for d in s.dispositifs)
        ]
        return self.render(
            "admin/validation/funder_decision.html",
            action=action,
            sessions=sessions,
            funder=label("dict-financeurs", current_user.financeur_code),
        )
