""" "Jetons API": an organisation creates, lists and revokes the tokens of its own systems.

The secret of a new token is shown once, in the answer to the creation form (never put in
a flash message or the session cookie); only its hash is stored. Everything goes through
:mod:`sofi.services.api_tokens`, scoped to the establishment the user works on.
"""

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional

from models import Role
from sofi import permissions
from sofi.services import api_tokens
from sofi.services.errors import DomainError


class TokenForm(FlaskForm):
    name = StringField(
        "Nom du jeton",
        validators=[InputRequired("Donnez un nom au jeton."), Length(max=100, message="100 caractères au plus.")],
        description="Le système qui l'utilisera, par exemple « Logiciel de gestion des inscriptions ».",
    )
    expires_on = DateField(
        "Valable jusqu'au (facultatif)",
        validators=[Optional()],
        description="Laissez vide pour un jeton sans date d'expiration ; vous pourrez le révoquer à tout moment.",
    )


class RevokeForm(FlaskForm):
    token_id = HiddenField(validators=[InputRequired()])


class ApiTokenView(BaseView):
    """Organisation users only, for the establishment they work on."""

    def is_accessible(self) -> bool:
        return (
            current_user.is_authenticated
            and current_user.active
            and current_user.role is Role.ORGANISATION
            and permissions.current_organisation(current_user) is not None
        )

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def _render(self, form, created=None, secret=None):
        return self.render(
            "admin/api_tokens.html",
            form=form,
            revoke_form=RevokeForm(),
            tokens=api_tokens.tokens_of(current_user),
            organisation=permissions.current_organisation(current_user),
            created=created,
            secret=secret,
        )

    @expose("/", methods=("GET", "POST"))
    def index(self):
        form = TokenForm()
        if request.method == "POST" and form.validate_on_submit():
            try:
                token, secret = api_tokens.create_token(current_user, form.name.data, form.expires_on.data)
            except DomainError as error:
                field = form._fields.get(error.field) if error.field else None
                if field is not None:
                    field.errors = [*field.errors, error.message]
                flash(error.message, "error")
            else:
                return self._render(TokenForm(formdata=None), created=token, secret=secret)
        return self._render(form)

    @expose("/revoke/", methods=("POST",))
    def revoke(self):
        form = RevokeForm()
        if form.validate_on_submit() and str(form.token_id.data).isdigit():
            try:
                token = api_tokens.revoke_token(current_user, int(form.token_id.data))
            except DomainError as error:
                flash(error.message, "error")
            else:
                flash(f"Le jeton « {token.name} » est révoqué : il ne donne plus accès à l'API.", "success")
        else:
            flash("Demande de révocation invalide.", "error")
        return redirect(url_for(".index"))
