"""Fiche Formation: "Formations > Créer" with or without a Certif Info reference, and edit."""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy.orm import selectinload

from admin_views.base import SofiModelView
from admin_views.fields import choice_list
from admin_views.guided import GuidedFormMixin
from admin_views.offer_forms import CertifyingFormationForm, NonCertifyingFormationForm
from models import CertifInfo, Formation, Role, db
from sofi import permissions
from sofi.search import certification_for, formacodes_by_code, search_certifinfo, search_formacodes
from sofi.services import offer
from sofi.services.certifications import apply_certification


class FormationView(GuidedFormMixin, SofiModelView):
    can_edit = True
    can_create = True
    can_delete = False
    column_list = ["id", "intitule", "certifiante", "certifinfo_code", "organisation", "actions"]
    column_labels = {
        "id": "Formation",
        "intitule": "Intitulé",
        "certifiante": "Certifiante",
        "certifinfo_code": "Code Certif Info",
        "organisation": "Organisme",
        "actions": "Actions",
    }
    column_formatters = {
        "certifiante": lambda v, c, m, n: "Oui" if m.certifiante else "Non",
        "organisation": lambda v, c, m, n: m.organisation.raison_sociale,
        "actions": lambda v, c, m, n: len(m.actions),
    }
    column_searchable_list = ["intitule"]
    column_filters = ["certifiante", "certifinfo_code"]
    column_sortable_list = ["id", "intitule"]
    column_default_sort = ("id", True)

    def get_query(self):
        return super().get_query().options(selectinload(Formation.actions))

    def _require_organisation_user(self):
        if current_user.role is not Role.ORGANISATION or permissions.current_organisation(current_user) is None:
            abort(403)

    # Création -------------------------------------------------------------------------------
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        self._require_organisation_user()
        certifiante = request.args.get("certifiante")
        if certifiante == "oui" and request.args.get("certifinfo", "").isdigit():
            entry = db.session.get(CertifInfo, int(request.args["certifinfo"]))
            if entry is None:
                abort(404)
            return self._certifying_form(offer.new_formation(current_user), entry)
        if certifiante == "oui":
            query = request.args.get("q", "").strip()
            results = search_certifinfo(query) if query else []
            return self.render("admin/offer/certifinfo_search.html", query=query, results=results)
        if certifiante == "non":
            return self._non_certifying_form(offer.new_formation(current_user))
        return self.render("admin/offer/formation_start.html")

    # Modification ---------------------------------------------------------------------------
    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        formation = self.get_one(request.args.get("id", ""))
        if request.method == "POST" and not permissions.can_edit(current_user, formation):
            abort(403)
        if formation.certifiante and formation.certifinfo is not None:
            return self._certifying_form(formation, formation.certifinfo)
        return self._non_certifying_form(formation)

    def _after_save(self, formation: Formation):
        flash("Fiche Formation enregistrée.", "success")
        if not formation.actions:
            return redirect(url_for("actions.create_view", formation_id=formation.id))
        return redirect(url_for(".edit_view", id=formation.id))

    def _certifying_form(self, formation: Formation, entry: CertifInfo):
        form_key = f"formation:{formation.id or 'new'}:certifinfo:{entry.code}"
        if discarded := self.discard_requested(form_key):
            return discarded
        certification = certification_for(entry)
        bloc_choices = choice_list(
            (b.code, f"{b.code} - {b.libelle}") for b in (certification.blocs if certification else [])
        )
        form, restored = self.build_form(CertifyingFormationForm, form_key, blocs=bloc_choices)
        if request.method == "GET" and not restored:
            form.certifinfo_code.data = str(entry.code)
            if formation.id:
                form.version.data = formation.version
                form.individualisation_blocs.data = "1" if formation.individualisation_blocs else "0"
                form.validation_blocs.data = formation.validation_blocs or "1"
                form.blocs.data = [b.code for b in formation.blocs]
            else:
                form.blocs.data = [choice.value for choice in bloc_choices]
        if request.method == "POST":
            if certification is None:
                flash("Cette certification n'a pas de fiche RNCP/RS chargée : contactez le Cariforef.", "error")
            elif form.validate() and self.is_current(form, formation):
                total = form.validation_blocs.data == "1"
                formation.intitule = entry.intitule[:255]
                formation.objectif_general = "6"
                formation.individualisation_blocs = form.individualisation_blocs.data == "1"
                formation.validation_blocs = "1" if total else "0"
                apply_certification(formation, certification, entry, None if total else form.blocs.data)
                if self.save_with(form, form_key, lambda: offer.save(current_user, formation)):
                    return self._after_save(formation)
            else:
                self.keep_draft(form_key, form)
        return self.render(
            "admin/offer/formation_certifying.html",
            form=form,
            formation=formation,
            entry=entry,
            certification=certification,
            restored=restored,
        )

    def _non_certifying_form(self, formation: Formation):
        form_key = f"formation:{formation.id or 'new'}:libre"
        if discarded := self.discard_requested(form_key):
            return discarded
        form, restored = self.build_form(NonCertifyingFormationForm, form_key, obj=formation)
        if request.method == "GET" and not restored and formation.id:
            form.formacodes.data = formation.formacode_codes
            form.formacode_principal.data = formation.formacode_principal
        chosen = formacodes_by_code(list(form.formacodes.data or []))
        form.formacodes.choices = choice_list(
            (code, str(chosen[code])) for code in form.formacodes.data or [] if code in chosen
        )
        form.formacode_principal.choices = [*choice_list([("", "")]), *form.formacodes.choices]
        query = (form.formacode_query.data or "").strip()
        branches = search_formacodes(query) if query else []
        if request.method == "POST" and request.form.get("_save"):
            if form.validate() and self.is_current(form, formation):
                formation.intitule = form.intitule.data
                formation.objectif_general = form.objectif_general.data
                formation.niveau_sortie = form.niveau_sortie.data or None
                formation.certifiante = False
                formation.set_formacodes(list(form.formacodes.data), form.formacode_principal.data or None)
                if self.save_with(form, form_key, lambda: offer.save(current_user, formation)):
                    return self._after_save(formation)
            else:
                self.keep_draft(form_key, form)
        return self.render(
            "admin/offer/formation_libre.html",
            form=form,
            formation=formation,
            branches=branches,
            query=query,
            restored=restored,
        )
