"""Shared mechanics of the guided F-A-S-D forms: kept drafts, saving through services, errors.

A form that cannot be saved (invalid, or refused by a service) keeps its raw input as a
draft for its author; reopening the form shows it again until it is saved or abandoned.
"""

from datetime import date

from flask import flash, redirect, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from sofi.rules import check_action
from sofi.services import drafts
from sofi.services.errors import DomainError
from sofi.templating import field_anchor

INTERNAL_FIELDS = {"csrf_token", "_save", "_discard_draft"}


def form_input() -> list[list[str]]:
    return [[key, value] for key, value in request.form.items(multi=True) if key not in INTERNAL_FIELDS]


class GuidedFormMixin:
    """For ModelViews whose create/edit pages are guided forms."""

    @staticmethod
    def field_problems(action, record) -> dict[str, list[str]]:
        """What ``sofi.rules`` finds on ``record``, by form field: shown next to the fields."""
        if action is None or getattr(action, "id", None) is None or getattr(record, "id", None) is None:
            return {}
        found: dict[str, list[str]] = {}
        level = {
            "Formation": "formation",
            "Action": "action",
            "SessionFormation": "session",
            "SessionDispositif": "dispositif",
        }[type(record).__name__]
        for problem in check_action(action, date.today()):
            if problem.level == level and problem.record_id == record.id and problem.field:
                found.setdefault(field_anchor(problem.field), []).append(problem.message)
        return found

    def build_form(self, form_class, form_key: str, obj=None, **prepare):
        """(form, restored): the POSTed input, else a kept draft, else the record's values."""
        if request.method == "POST":
            form = form_class(formdata=request.form)
            restored = False
        else:
            kept = drafts.restore(current_user, form_key)
            if kept is not None:
                form = form_class(formdata=MultiDict([tuple(pair) for pair in kept]))
                restored = True
            else:
                form = form_class(obj=obj)
                restored = False
        for name, values in prepare.items():
            form[name].choices = values
        if restored:
            form.validate()
        return form, restored

    def discard_requested(self, form_key: str):
        """Handle the "abandon this input" button; returns a redirect or None."""
        if request.method == "POST" and request.form.get("_discard_draft"):
            drafts.discard(current_user, form_key)
            flash("La saisie non enregistrée a été abandonnée.", "info")
            return redirect(request.url)
        return None

    def keep_draft(self, form_key: str, form) -> None:
        drafts.keep(current_user, form_key, form_input())
        if not form.errors:
            return  # refused for another reason, already explained (e.g. a newer version exists)
        flash(
            "Le formulaire contient des erreurs : rien n'a été perdu, votre saisie est conservée. "
            "Corrigez les champs signalés puis enregistrez.",
            "error",
        )

    def is_current(self, form, record) -> bool:
        """False (and a French message) when someone saved ``record`` since the form was opened."""
        sent = form.version.data
        if record.id is None or not sent or str(record.version) == str(sent):
            return True
        flash(
            "Cet enregistrement a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert : votre saisie "
            "n'a pas été enregistrée, elle est conservée ci-dessous. Rechargez la fiche pour voir la version "
            "actuelle avant de la modifier.",
            "error",
        )
        return False

    def save_with(self, form, form_key: str, service_call) -> bool:
        """Run ``service_call``; on a DomainError show it next to its field and keep the draft."""
        try:
            service_call()
        except DomainError as error:
            field = form._fields.get(error.field) if error.field else None
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                flash(error.message, "error")
            drafts.keep(current_user, form_key, form_input())
            return False
        drafts.discard(current_user, form_key)
        return True
