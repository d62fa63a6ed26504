"""Validator workspace: the queue, the review page, questions, approval (one or in bulk)."""

import io
from datetime import date

import sqlalchemy as sa
from flask import abort, flash, has_app_context, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action as bulk_action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from sqlalchemy.orm import joinedload

from admin_views.base import SofiModelView
from admin_views.keyset import KeysetListMixin
from models import (
    Action,
    ActionMessage,
    ActionStatus,
    Dispositif,
    Formation,
    PublishedAction,
    Role,
    SessionDispositif,
    SessionFormation,
    SupportingDocument,
    db,
)
from models.codelists import label
from sofi.diff import changes
from sofi.rules import check_action
from sofi.services import publication, workflow
from sofi.services.errors import DomainError


def _with_dispositif(condition):
    return Action.id.in_(
        sa.select(SessionFormation.action_id)
        .join(SessionDispositif, SessionDispositif.session_id == SessionFormation.id)
        .join(Dispositif)
        .where(condition)
    )


class DispositifFilter(BaseSQLAFilter):
    def apply(self, query, value, alias=None):
        return query.filter(_with_dispositif(Dispositif.code == int(value)))

    def operation(self):
        return "est"

    def get_options(self, view):
        """The dispositifs of the base, read when the list is shown (none when the app starts)."""
        if not has_app_context():
            return [("0", "")]
        return [(str(d.code), d.label) for d in db.session.scalars(sa.select(Dispositif).order_by(Dispositif.label))]


class ProgrammeFilter(BaseSQLAFilter):
    def apply(self, query, value, alias=None):
        clause = _with_dispositif(Dispositif.programme_regional)
        return query.filter(clause if value == "1" else sa.not_(clause))

    def operation(self):
        return "programme régional"

    def get_options(self, view):
        return [("1", "oui"), ("0", "non")]


class CertifyingFilter(BaseSQLAFilter):
    def apply(self, query, value, alias=None):
        certifying = Action.formation_id.in_(sa.select(Formation.id).where(Formation.certifiante))
        return query.filter(certifying if value == "1" else sa.not_(certifying))

    def operation(self):
        return "certifiante"

    def get_options(self, view):
        return [("1", "oui"), ("0", "non")]


class ValidationView(KeysetListMixin, SofiModelView):
    """The queue of actions waiting for validation, oldest first."""

    roles = {Role.VALIDATOR, Role.ADMINISTRATOR}
    can_create = can_edit = can_delete = False
    list_template = "admin/validation/queue.html"
    column_list = ["id", "formation", "organisation", "submitted_at", "status"]
    column_labels = {
        "id": "Action",
        "formation": "Formation",
        "organisation": "Organisme",
        "submitted_at": "Envoyée le",
        "status": "État",
    }
    column_formatters = {
        "id": lambda v, c, m, n: m.id,
        "formation": lambda v, c, m, n: m.intitule,
        "organisation": lambda v, c, m, n: f"{m.organisation.raison_sociale} ({m.organisation.siret})",
        "submitted_at": lambda v, c, m, n: m.submitted_at.strftime("%d/%m/%Y %H:%M") if m.submitted_at else "",
        "status": lambda v, c, m, n: m.status.label,
    }
    column_sortable_list = ["id", "submitted_at"]
    column_default_sort = ("submitted_at", False)
    column_searchable_list = ["formation.intitule", "organisation.raison_sociale", "organisation.siret"]
    column_filters = [
        "organisation.raison_sociale",
        "submitted_at",
        DispositifFilter(Action.id, "Dispositif"),
        ProgrammeFilter(Action.id, "Programme"),
        CertifyingFilter(Action.id, "Formation"),
    ]

    def _get_filter_groups(self):
        self._refresh_filters_cache()  # the dispositif options come from the database
        return super()._get_filter_groups()

    def _state(self) -> ActionStatus:
        try:
            return ActionStatus(request.args.get("etat", ActionStatus.EN_ATTENTE_VALIDATION.value))
        except ValueError:
            abort(404)

    def get_query(self):
        return (
            super()
            .get_query()
            .filter(Action.status == self._state())
            .options(joinedload(Action.formation), joinedload(Action.organisation))
        )

    def get_count_query(self):
        return super().get_count_query().filter(Action.status == self._state())

    def get_one(self, id):
        record = db.session.get(Action, int(id)) if str(id).isdigit() else None
        if record is None:
            abort(404)
        return record

    def render(self, template, **kwargs):
        counts = dict(db.session.execute(sa.select(Action.status, sa.func.count()).group_by(Action.status)).all())
        kwargs.setdefault("state_counts", [(state, counts.get(state, 0)) for state in ActionStatus])
        kwargs.setdefault("current_state", self._state() if request.endpoint.endswith("index_view") else None)
        return super().render(template, **kwargs)

    # Review --------------------------------------------------------------------------------
    @expose("/review/")
    def review_view(self):
        action = self.get_one(request.args.get("id", ""))
        problems = check_action(action, date.today())
        published = db.session.get(PublishedAction, action.id)
        current = publication.snapshot(action)
        thread = db.session.scalars(
            sa.select(ActionMessage).where(ActionMessage.action_id == action.id).order_by(ActionMessage.at)
        ).all()
        questions = [m for m in thread if m.kind.value == "question"]
        decisions = workflow.funder_decisions(action)
        return self.render(
            "admin/validation/review.html",
            action=action,
            problems=problems,
            blocking=[p for p in problems if p.blocking],
            warnings=[p for p in problems if not p.blocking],
            revision_changes=changes(published.data, current) if published else None,
            since_question=changes(questions[-1].tree, current) if questions else None,
            thread=thread,
            can_review=action.status is ActionStatus.EN_ATTENTE_VALIDATION,
            documents=db.session.scalars(
                sa.select(SupportingDocument).where(SupportingDocument.action_id == action.id)
            ).all(),
            funders=[
                (code, label("dict-financeurs", code), decisions.get(code))
                for code in sorted(workflow.required_funders(action))
            ],
        )

    def _decide(self, operation, success: str):
        action = self.get_one(request.form.get("id", ""))
        try:
            operation(action)
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".review_view", id=action.id))
        flash(success, "success")
        return redirect(url_for(".index_view"))

    @expose("/approve/", methods=("POST",))
    def approve_view(self):
        return self._decide(lambda action: workflow.approve(current_user, action), "Action validée et publiée.")

    @expose("/reject/", methods=("POST",))
    def reject_view(self):
        reason = request.form.get("reason", "")
        return self._decide(lambda action: workflow.reject(current_user, action, reason), "Action refusée.")

    @expose("/question/", methods=("POST",))
    def question_view(self):
        body, field = request.form.get("body", ""), request.form.get("field") or None
        return self._decide(
            lambda action: workflow.ask_question(current_user, action, body, field),
            "Question envoyée : l'action est en attente de réponses.",
        )

    @expose("/certifinfo/", methods=("POST",))
    def certifinfo_view(self):
        code = request.form.get("certifinfo_code", "")
        if not code.isdigit():
            flash("Indiquez un code Certif Info (nombre).", "error")
            return redirect(url_for(".review_view", id=request.form.get("id", "")))
        action = self.get_one(request.form.get("id", ""))
        try:
            workflow.replace_certifinfo(current_user, action, int(code))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Code Certif Info remplacé par {code}.", "success")
        return redirect(url_for(".review_view", id=action.id))

    @expose("/document/")
    def document_view(self):
        """Download a supporting document (validators only: this view is closed to others)."""
        document = db.session.get(SupportingDocument, int(request.args.get("id", "0") or 0))
        if document is None:
            abort(404)
        return send_file(
            io.BytesIO(document.content),
            mimetype=document.content_type,
            as_attachment=True,
            download_name=document.filename,
        )

    # Bulk ----------------------------------------------------------------------------------
    def _selected(self, ids) -> list[Action]:
        wanted = [int(i) for i in ids if str(i).isdigit()]
        return db.session.scalars(sa.select(Action).where(Action.id.in_(wanted)).order_by(Action.submitted_at)).all()

    @bulk_action("valider", "Valider", "Valider les actions sélectionnées ?")
    def action_approve(self, ids):
        result = workflow.bulk_approve(current_user, self._selected(ids))
        if result.done:
            flash(f"{len(result.done)} action(s) validée(s) et publiée(s).", "success")
        for action, reason in result.skipped:
            flash(f"Action {action.id} non validée : {reason}", "error")

    @bulk_action("refuser", "Refuser…", None)
    def action_reject(self, ids):
        return redirect(url_for(".bulk_reject_view", ids=",".join(str(int(i)) for i in ids if str(i).isdigit())))

    @expose("/bulk-reject/", methods=("GET", "POST"))
    def bulk_reject_view(self):
        actions = self._selected(request.args.get("ids", "").split(","))
        if not actions:
            abort(404)
        if request.method == "POST":
            try:
                result = workflow.bulk_reject(current_user, actions, request.form.get("reason", ""))
            except DomainError as error:
                flash(error.message, "error")
            else:
                flash(f"{len(result.done)} action(s) refusée(s).", "success")
                for action, reason in result.skipped:
                    flash(f"Action {action.id} non refusée : {reason}", "error")
                return redirect(url_for(".index_view"))
        return self.render("admin/validation/bulk_reject.html", actions=actions)
