"""Fiche Dispositif: the funding schemes of a session, with their publics, places and prices."""

import json

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from admin_views.base import SofiModelView
from admin_views.choices import dispositif_choices, public_choices
from admin_views.fields import choice_list
from admin_views.guided import GuidedFormMixin
from admin_views.offer_forms import DispositifForm
from admin_views.programmes import programme_dispositif
from models import Dispositif, Public, Role, SessionDispositif, SessionFormation, db
from sofi import permissions
from sofi.services import offer
from sofi.services.errors import DomainError

# The terms edited as plain fields; the lot references are shown read-only, the yes/no terms are radio buttons.
FIELDS = tuple(
    name
    for name in SessionDispositif.TERM_FIELDS
    if name not in SessionDispositif.LOT_FIELDS + SessionDispositif.FLAG_FIELDS
)


class DispositifView(GuidedFormMixin, SofiModelView):
    can_create = False  # a dispositif is added from its session (bandeau FASD)
    can_edit = True
    can_delete = False
    column_list = ["session", "dispositif", "nb_places", "nb_places_restantes", "publics"]
    column_labels = {
        "session": "Code FAS",
        "dispositif": "Dispositif",
        "nb_places": "Nb places",
        "nb_places_restantes": "Places restantes",
        "publics": "Publics",
    }
    column_formatters = {
        "session": lambda v, c, m, n: m.session.fas_code,
        "dispositif": lambda v, c, m, n: m.dispositif.label,
        "publics": lambda v, c, m, n: ", ".join(p.label for p in m.publics),
    }
    column_sortable_list = ["nb_places"]

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if current_user.role is not Role.ORGANISATION:
            abort(403)
        session_id = request.args.get("session_id", "")
        session = (
            permissions.scoped(db.session.query(SessionFormation), SessionFormation, current_user)
            .filter(SessionFormation.id == int(session_id))
            .one_or_none()
            if session_id.isdigit()
            else None
        )
        if session is None:
            abort(404)
        record = programme_dispositif(session) or SessionDispositif()  # pre-filled for a programme session
        return self._form(record, session, f"dispositif:new:{session.id}")

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        dispositif = self.get_one(request.args.get("id", ""))
        if request.method == "POST" and not permissions.can_edit(current_user, dispositif):
            abort(403)
        return self._form(dispositif, dispositif.session, f"dispositif:{dispositif.id}")

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        dispositif = self.get_one(request.form.get("id", ""))
        session = dispositif.session
        try:
            offer.delete(current_user, dispositif)
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for(".edit_view", id=dispositif.id))
        flash("Dispositif supprimé.", "success")
        return redirect(url_for("sessions.edit_view", id=session.id))

    def _form(self, record: SessionDispositif, session: SessionFormation, form_key: str):
        if discarded := self.discard_requested(form_key):
            return discarded
        organisation = session.action.organisation
        allowed = dispositif_choices(organisation)
        if record.dispositif_code and record.dispositif_code not in {choice.value for choice in allowed}:
            allowed += choice_list([(record.dispositif_code, record.dispositif.label)])
        form, restored = self.build_form(
            DispositifForm, form_key, obj=record, dispositif_code=allowed, publics=public_choices()
        )
        if request.method == "GET" and not restored and (record.id or record.dispositif_code):
            form.publics.data = [p.code for p in record.publics]
            for name in SessionDispositif.FLAG_FIELDS:
                form[name].data = "1" if getattr(record, name) else "0"
        if request.method == "POST":
            scheme = db.session.get(Dispositif, form.dispositif_code.data) if form.dispositif_code.data else None
            # Both checks run (``&``) so that every error is shown at once.
            if (form.validate() & self._apprenticeship_complete(form, scheme)) and self.is_current(form, record):
                for name in FIELDS:
                    value = form[name].data
                    setattr(record, name, None if value == "" else value)
                record.dispositif_code = scheme.code
                record.dispositif = scheme
                for name in SessionDispositif.FLAG_FIELDS:
                    setattr(record, name, form[name].data == "1")
                record.publics = list(db.session.scalars(sa.select(Public).where(Public.code.in_(form.publics.data))))
                record.session = session
                if self.save_with(form, form_key, lambda: offer.save(current_user, record)):
                    flash("Fiche Dispositif enregistrée.", "success")
                    return redirect(url_for("sessions.edit_view", id=session.id))
            else:
                self.keep_draft(form_key, form)
        defaults = {
            d.code: [p.code for p in d.default_publics]
            for d in db.session.scalars(sa.select(Dispositif).where(Dispositif.active))
        }
        return self.render(
            "admin/offer/dispositif_form.html",
            form=form,
            record=record,
            session=session,
            restored=restored,
            default_publics=json.dumps(defaults),
            field_problems=self.field_problems(session.action, record),
        )

    @staticmethod
    def _apprenticeship_complete(form: DispositifForm, scheme: Dispositif | None) -> bool:
        """Effectif minimal and capacité simultanée are mandatory for apprenticeship."""
        if scheme is None or not scheme.contrat_apprentissage:
            return True
        complete = True
        for field in (form.effectif_minimal, form.capacite_simultanee):
            if field.data is None:
                field.errors = [*field.errors, "Obligatoire pour le contrat d'apprentissage."]
                complete = False
        return complete
