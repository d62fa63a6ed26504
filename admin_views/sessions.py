"""Fiche Session: the seeds' session search list, guided create/edit, copy of sessions."""

import re
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action as bulk_action
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from admin_views.base import SofiModelView
from admin_views.choices import contact_choices, organisation_choices, responsible_organisations, site_choices
from admin_views.guided import GuidedFormMixin
from admin_views.keyset import KeysetListMixin
from admin_views.offer_forms import CopySessionsForm, SessionForm
from admin_views.presets import PresetMixin
from admin_views.programmes import prefill_session, restrict_session_form
from models import Action, InformationCollective, PeriodeInscription, Role, SessionFormation, Site, db
from sofi import permissions
from sofi.offer_queries import SESSION_PRESETS_BY_KEY
from sofi.services import offer
from sofi.services.errors import DomainError

FAS_PATTERN = re.compile(r"^\s*(\d+)-(\d+)-(\d+)\s*$")
LIST_FIELDS = ["rythmes", "periodes", "modalites_pedagogiques", "modalites_recrutement"]
SCALAR_FIELDS = [
    *(name for name in SessionFormation.DESCRIPTION_FIELDS if name not in LIST_FIELDS),
    "site_id",
    "organisme_responsable_id",
    "referent_pmr_id",
    "referent_prf_id",
    "mail_liaison_id",
    "referent_mobilite_id",
]


def _fas(view, context, model, name):
    formation_id, action_id, session_id = model.fas_code.split("-")
    return Markup(f"{formation_id}-{action_id}-<b>{session_id}</b>")


def _etat(view, context, model, name):
    return "Actif" if model.is_active(date.today()) else "Inactif"


class SessionView(KeysetListMixin, GuidedFormMixin, PresetMixin, SofiModelView):
    presets = SESSION_PRESETS_BY_KEY
    can_create = False  # a session is created from its action (bandeau FASD)
    can_edit = True
    can_delete = False
    column_list = ["fas", "formation", "dispensateur", "commune", "date_debut", "date_fin", "dispositifs", "etat"]
    column_labels = {
        "fas": "Code FAS",
        "formation": "Intitulé formation",
        "dispensateur": "Site dispensateur",
        "commune": "Commune lieu",
        "date_debut": "Date début",
        "date_fin": "Date fin",
        "dispositifs": "Code dispositif",
        "etat": "Etat A/I",
        "etat_recrutement": "Recrutement",
    }
    column_formatters = {
        "fas": _fas,
        "formation": lambda v, c, m, n: m.action.intitule,
        "dispensateur": lambda v, c, m, n: m.action.organisation.raison_sociale,
        "commune": lambda v, c, m, n: m.site.commune.nom if m.site.commune else "",
        "date_debut": lambda v, c, m, n: m.date_debut.strftime("%d/%m/%Y"),
        "date_fin": lambda v, c, m, n: m.date_fin.strftime("%d/%m/%Y"),
        "dispositifs": lambda v, c, m, n: ", ".join(str(d.dispositif_code) for d in m.dispositifs),
        "etat": _etat,
    }
    column_formatters_export = {
        "fas": lambda v, c, m, n: m.fas_code,
        **{k: v for k, v in column_formatters.items() if k != "fas"},
    }
    column_sortable_list = ["date_debut", "date_fin", ("fas", "id")]
    column_default_sort = ("date_debut", True)
    column_searchable_list = ["action.formation.intitule", "action.organisation.raison_sociale"]
    column_filters = ["date_debut", "date_fin", "etat_recrutement"]

    def get_query(self):
        return (
            super()
            .get_query()
            .options(
                joinedload(SessionFormation.action).joinedload(Action.formation),
                joinedload(SessionFormation.action).joinedload(Action.organisation),
                joinedload(SessionFormation.site).joinedload(Site.commune),
                selectinload(SessionFormation.dispositifs),
            )
        )

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """A FAS code typed in the search box finds its session directly."""
        match = FAS_PATTERN.match(search or "")
        if match:
            session_id = int(match.group(3))
            only = SessionFormation.id == session_id
            return query.filter(only), count_query.filter(only), joins, count_joins
        return super()._apply_search(query, count_query, joins, count_joins, search)

    # Guided entry -------------------------------------------------------------------------
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if current_user.role is not Role.ORGANISATION:
            abort(403)
        action_id = request.args.get("action_id", "")
        action = (
            permissions.scoped(db.session.query(Action), Action, current_user)
            .filter(Action.id == int(action_id))
            .one_or_none()
            if action_id.isdigit()
            else None
        )
        if action is None:
            abort(404)
        organisation = action.organisation
        pmr = [c for c in organisation.contacts if c.referent_pmr]
        mobilite = [c for c in organisation.contacts if c.referent_mobilite]
        session = SessionFormation(
            site_id=action.site_id,
            organisme_responsable_id=organisation.id,
            referent_pmr_id=pmr[0].id if pmr else None,
            referent_mobilite_id=mobilite[0].id if mobilite else None,
            entrees_sorties="0",
            etat_recrutement="1",
            modalite_enseignement="0",
        )
        prefill_session(session, action)  # regional programme: the lot's mandataire, the template's modes
        return self._form(session, action, f"session:new:{action.id}")

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        session = self.get_one(request.args.get("id", ""))
        if request.method == "POST" and not permissions.can_edit(current_user, session):
            abort(403)
        return self._form(session, session.action, f"session:{session.id}")

    def _form(self, session: SessionFormation, action: Action, form_key: str):
        if discarded := self.discard_requested(form_key):
            return discarded
        organisation = action.organisation
        form, restored = self.build_form(
            SessionForm,
            form_key,
            obj=session,
            site_id=site_choices(organisation),
            organisme_responsable_id=organisation_choices(responsible_organisations(organisation, current_user)),
            referent_pmr_id=contact_choices(organisation, "referent_pmr"),
            referent_prf_id=contact_choices(organisation, "referent_prf"),
            mail_liaison_id=contact_choices(organisation, "mail_liaison"),
            referent_mobilite_id=contact_choices(organisation, "referent_mobilite"),
        )
        restrict_session_form(form, action)
        if request.method == "POST" and request.form.get("_add_information"):
            form.informations_collectives.append_entry()
        elif request.method == "POST" and request.form.get("_add_periode"):
            form.periodes_inscription.append_entry()
        elif request.method == "POST":
            if form.validate() and self.is_current(form, session):
                self._populate(session, form)
                session.action = action
                if self.save_with(form, form_key, lambda: offer.save(current_user, session)):
                    flash(f"Fiche Session enregistrée (code FAS {session.fas_code}).", "success")
                    if not session.dispositifs:
                        return redirect(url_for("dispositifs.create_view", session_id=session.id))
                    return redirect(url_for(".edit_view", id=session.id))
            else:
                self.keep_draft(form_key, form)
        if not form.informations_collectives.entries:
            form.informations_collectives.append_entry()
        if not form.periodes_inscription.entries:
            form.periodes_inscription.append_entry()
        return self.render(
            "admin/offer/session_form.html",
            form=form,
            session=session,
            action=action,
            restored=restored,
            individualisation=action.formation.individualisation_blocs,
            field_problems=self.field_problems(action, session),
        )

    @staticmethod
    def _populate(session: SessionFormation, form: SessionForm) -> None:
        for name in SCALAR_FIELDS:
            value = form[name].data
            setattr(session, name, None if value == "" else value)
        for name in LIST_FIELDS:
            setattr(session, name, list(form[name].data or []))
        session.informations_collectives = [
            InformationCollective(
                date=entry.date.data,
                heure_debut=entry.heure_debut.data,
                heure_fin=entry.heure_fin.data,
                lieu=entry.lieu.data.strip(),
                commentaire=entry.commentaire.data or None,
            )
            for entry in form.informations_collectives
            if entry.date.data
        ]
        session.periodes_inscription = [
            # ``entry.type`` is the FormField's own type name: the sub-field is ``entry.form.type``.
            PeriodeInscription(
                type=entry.form.type.data, date_debut=entry.date_debut.data, date_fin=entry.date_fin.data
            )
            for entry in form.periodes_inscription
            if entry.form.type.data and entry.date_debut.data
        ]

    # Copy of sessions ---------------------------------------------------------------------
    @bulk_action("copier", "Copier les sessions", None)
    def action_copy(self, ids):
        selected = ",".join(str(int(i)) for i in ids if str(i).isdigit())
        return redirect(url_for(".copy_view", ids=selected))

    def is_action_allowed(self, name):
        if name == "copier":
            return current_user.role is Role.ORGANISATION
        return super().is_action_allowed(name)

    @expose("/copy/", methods=("GET", "POST"))
    def copy_view(self):
        """New dates for each selected session, then copies with their dispositifs."""
        if current_user.role is not Role.ORGANISATION:
            abort(403)
        ids = [int(i) for i in request.args.get("ids", "").split(",") if i.isdigit()]
        sources = {s.id: s for s in self.get_query().filter(SessionFormation.id.in_(ids)).all()}
        if not sources:
            abort(404)
        form = CopySessionsForm()
        if request.method == "GET":
            for source in sources.values():
                form.sessions.append_entry(
                    {
                        "session_id": source.id,
                        "date_debut": _next_year(source.date_debut),
                        "date_fin": _next_year(source.date_fin),
                    }
                )
        elif form.validate():
            requests = []
            for entry in form.sessions:
                source = sources.get(int(entry.session_id.data)) if str(entry.session_id.data).isdigit() else None
                if source is None:
                    abort(404)
                requests.append((source, entry.date_debut.data, entry.date_fin.data))
            try:
                copies = offer.copy_sessions(current_user, requests)
            except DomainError as error:
                flash(error.message, "error")
            else:
                flash(
                    "Sessions copiées : "
                    + ", ".join(copy.fas_code for copy in copies)
                    + ". Les actions concernées sont en cours de saisie.",
                    "success",
                )
                return redirect(url_for(".index_view"))
        return self.render("admin/offer/copy_sessions.html", form=form, sources=sources)


def _next_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)
