"""Fiche Action: list with workflow state and dashboard presets, guided create/edit, recap, submit."""

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action as bulk_action
from flask_login import current_user
from sqlalchemy.orm import joinedload

from admin_views.base import SofiModelView
from admin_views.choices import site_choices
from admin_views.guided import GuidedFormMixin
from admin_views.offer_forms import ActionForm
from admin_views.presets import PresetMixin
from models import Action, ActionMessage, ActionStatus, Formation, Role, SupportingDocument, db
from sofi import permissions
from sofi.offer_queries import ACTION_PRESETS_BY_KEY
from sofi.rules import check_action
from sofi.services import documents, offer, workflow
from sofi.services.errors import DomainError


class ActionView(GuidedFormMixin, PresetMixin, SofiModelView):
    presets = ACTION_PRESETS_BY_KEY
    can_create = False  # an action is created from its formation (bandeau FASD)
    can_edit = True
    can_delete = False
    column_list = ["id", "formation", "organisation", "site", "status", "updated_at"]
    column_labels = {
        "id": "Action",
        "formation": "Formation",
        "organisation": "Organisme dispensateur",
        "site": "Site",
        "status": "État",
        "updated_at": "Modifiée le",
    }
    column_formatters = {
        "formation": lambda v, c, m, n: m.intitule,
        "organisation": lambda v, c, m, n: m.organisation.raison_sociale,
        "site": lambda v, c, m, n: m.site.nom,
        "status": lambda v, c, m, n: m.status.label,
        "updated_at": lambda v, c, m, n: m.updated_at.strftime("%d/%m/%Y %H:%M"),
    }
    column_sortable_list = ["id", "status", "updated_at"]
    column_default_sort = ("updated_at", True)
    column_searchable_list = ["formation.intitule", "complement_intitule"]
    column_filters = ["status", "certifinfo_replaced"]

    def get_query(self):
        return (
            super()
            .get_query()
            .options(joinedload(Action.formation), joinedload(Action.organisation), joinedload(Action.site))
        )

    def _organisation(self):
        organisation = permissions.current_organisation(current_user)
        if current_user.role is not Role.ORGANISATION or organisation is None:
            abort(403)
        return organisation

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        organisation = self._organisation()
        formation_id = request.args.get("formation_id", "")
        formation = None
        if formation_id.isdigit():
            formation = (
                permissions.scoped(db.session.query(Formation), Formation, current_user)
                .filter(Formation.id == int(formation_id))
                .one_or_none()
            )
        if formation is None:
            abort(404)
        return self._form(Action(niveau_entree="1"), f"action:new:{formation.id}", formation, organisation)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        action = self.get_one(request.args.get("id", ""))
        if request.method == "POST" and not permissions.can_edit(current_user, action):
            abort(403)
        return self._form(action, f"action:{action.id}", action.formation, action.organisation)

    def _form(self, action: Action, form_key: str, formation: Formation, organisation):
        """The Action form; a new action joins its formation only once it is saved."""
        if discarded := self.discard_requested(form_key):
            return discarded
        form, restored = self.build_form(ActionForm, form_key, obj=action, site_id=site_choices(organisation))
        if request.method == "POST":
            if form.validate() and self.is_current(form, action):
                for name in Action.DESCRIPTION_FIELDS:
                    value = form[name].data
                    setattr(action, name, None if value == "" else value)
                action.prerequis = list(form.prerequis.data or [])
                action.site_id = form.site_id.data
                action.formation = formation
                action.organisation = organisation
                if self.save_with(form, form_key, lambda: offer.save(current_user, action)):
                    flash("Fiche Action enregistrée.", "success")
                    if not action.sessions:
                        return redirect(url_for("sessions.create_view", action_id=action.id))
                    return redirect(url_for(".edit_view", id=action.id))
            else:
                self.keep_draft(form_key, form)
        attached = (
            db.session.scalars(sa.select(SupportingDocument).where(SupportingDocument.action_id == action.id)).all()
            if action.id
            else []
        )
        return self.render(
            "admin/offer/action_form.html",
            form=form,
            action=action,
            formation=formation,
            restored=restored,
            documents=attached,
            field_problems=self.field_problems(action, action),
        )

    # Voir l'état de la saisie --------------------------------------------------------------
    @expose("/recap/")
    def recap_view(self):
        action = self.get_one(request.args.get("id", ""))
        problems = check_action(action, date.today())
        thread = db.session.scalars(
            sa.select(ActionMessage).where(ActionMessage.action_id == action.id).order_by(ActionMessage.at)
        ).all()
        return self.render(
            "admin/offer/recap.html",
            action=action,
            problems=problems,
            thread=thread,
            can_answer=action.status is ActionStatus.EN_ATTENTE_REPONSES and permissions.can_edit(current_user, action),
            blocking=[p for p in problems if p.blocking],
            warnings=[p for p in problems if not p.blocking],
            can_submit=permissions.can_edit(current_user, action) and action.status in workflow.SUBMITTABLE,
        )

    @expose("/submit/", methods=("POST",))
    def submit_view(self):
        action = self.get_one(request.form.get("id", ""))
        try:
            workflow.submit_action(current_user, action)
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".recap_view", id=action.id))
        flash("Votre saisie a été envoyée au Cariforef pour validation.", "success")
        return redirect(url_for(".recap_view", id=action.id))

    @expose("/documents/", methods=("POST",))
    def document_upload_view(self):
        action = self.get_one(request.form.get("id", ""))
        upload = request.files.get("document")
        try:
            documents.add_document(
                current_user,
                action,
                upload.filename if upload else "",
                upload.read(documents.MAX_SIZE + 1) if upload else b"",
            )
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Justificatif joint à l'action.", "success")
        return redirect(url_for(".edit_view", id=action.id))

    @expose("/documents/delete/", methods=("POST",))
    def document_delete_view(self):
        action = self.get_one(request.form.get("id", ""))
        document = db.session.get(SupportingDocument, int(request.form.get("document_id", "0") or 0))
        if document is None or document.action_id != action.id:
            abort(404)
        try:
            documents.delete_document(current_user, document)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Justificatif retiré.", "success")
        return redirect(url_for(".edit_view", id=action.id))

    @expose("/answer/", methods=("POST",))
    def answer_view(self):
        action = self.get_one(request.form.get("id", ""))
        try:
            workflow.answer(current_user, action, request.form.get("body", ""))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash("Réponse envoyée. Corrigez votre saisie si besoin puis renvoyez l'action en validation.", "success")
        return redirect(url_for(".recap_view", id=action.id))

    @expose("/duplicate/", methods=("POST",))
    def duplicate_view(self):
        source = self.get_one(request.form.get("id", ""))
        try:
            copy = offer.duplicate_action(current_user, source)
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".edit_view", id=source.id))
        flash(f"Action dupliquée : nouvelle action {copy.id} en cours de saisie.", "success")
        return redirect(url_for(".edit_view", id=copy.id))

    @bulk_action("dupliquer", "Dupliquer", "Dupliquer les actions sélectionnées avec leurs sessions ?")
    def action_duplicate(self, ids):
        count = 0
        for source in self.get_query().filter(Action.id.in_([int(i) for i in ids if str(i).isdigit()])).all():
            try:
                offer.duplicate_action(current_user, source)
                count += 1
            except DomainError as error:
                flash(f"Action {source.id} : {error.message}", "error")
        if count:
            flash(f"{count} action(s) dupliquée(s), en cours de saisie.", "success")

    def is_action_allowed(self, name):
        if name == "dupliquer":
            return current_user.role is Role.ORGANISATION
        return super().is_action_allowed(name)
