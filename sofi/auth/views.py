"""Routes of the accounts blueprint: thin wrappers around :mod:`sofi.services.accounts`."""

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from sofi import permissions
from sofi.auth import auth
from sofi.auth.forms import ActivationForm, KeyRequestForm, LoginForm, PasswordResetForm, PasswordResetRequestForm
from sofi.services import accounts
from sofi.services.errors import DomainError

RESET_REQUESTED = (
    "Si un compte actif correspond à cette adresse, un e-mail contenant un lien de réinitialisation "
    "vient de lui être envoyé. Ce lien est valable une heure."
)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of this site, else ``None`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _client_ip() -> str | None:
    return request.remote_addr


def _new_session() -> None:
    """Forget everything the session held (switcher choice, CSRF secret…) at login and logout;
    the CSRF token this request may have cached belonged to the old session."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _show_error(form, error: DomainError) -> None:
    """A service's refusal shown next to its field, else at the top of the form."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@auth.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, _client_ip())
        except DomainError as error:
            form.form_errors.append(error.message)
        else:
            _new_session()
            login_user(user)
            return redirect(next_url or url_for("admin.index"))
    return render_template("auth/login.html", form=form, next_url=next_url)


@auth.route("/logout", methods=["POST"])
def logout():
    logout_user()
    _new_session()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))


@auth.route("/organisation", methods=["POST"])
@login_required
def switch_organisation():
    raw = request.form.get("organisation_id", "").strip()
    organisation = permissions.switch_organisation(current_user, int(raw)) if raw.isdigit() else None
    if organisation is None:
        return render_template(
            "auth/forbidden.html",
            message="Vous n'êtes pas rattaché à cet établissement : vous ne pouvez pas saisir pour lui.",
        ), 403
    flash(f"Vous saisissez maintenant pour {organisation.display_name} (SIRET {organisation.siret}).", "success")
    return redirect(url_for("admin.index"))


@auth.route("/mot-de-passe/oubli", methods=["GET", "POST"])
def password_reset_request():
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash(RESET_REQUESTED, "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/password_reset_request.html", form=form)


@auth.route("/mot-de-passe/nouveau/<token>", methods=["GET", "POST"])
def password_reset(token):
    if accounts.find_reset_token(token) is None:
        flash(accounts.INVALID_RESET_LINK, "error")
        return redirect(url_for("auth.password_reset_request"))
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except DomainError as error:
            if error.field != "password":
                flash(error.message, "error")
                return redirect(url_for("auth.password_reset_request"))
            _show_error(form, error)
        else:
            flash("Votre mot de passe a été modifié : vous pouvez vous connecter.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/password_reset.html", form=form)


@auth.route("/activation", methods=["GET", "POST"])
def activate():
    form = ActivationForm()
    if form.validate_on_submit():
        try:
            accounts.activate_account(
                form.key.data, form.email.data, form.nom.data, form.prenom.data, form.password.data
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(
                "Votre compte a été créé : connectez-vous avec votre adresse e-mail et votre mot de passe.", "success"
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/activate.html", form=form)


@auth.route("/activation/demande", methods=["GET", "POST"])
def request_key():
    form = KeyRequestForm()
    if form.validate_on_submit():
        try:
            accounts.request_activation_key(
                siret=form.siret.data,
                raison_sociale=form.raison_sociale.data,
                nom=form.nom.data,
                prenom=form.prenom.data,
                email=form.email.data,
                telephone=form.telephone.data,
                message=form.message.data,
                client_ip=_client_ip(),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(
                "Votre demande a bien été transmise au Cariforef Pays de la Loire. Après vérification, "
                "vous recevrez votre clé d'activation par e-mail.",
                "success",
            )
            return redirect(url_for("auth.login"))
    return render_template("auth/key_request.html", form=form)


@auth.app_errorhandler(CSRFError)
def csrf_error(error):
    """A form sent without its security token (expired page, forged request): refused, in French."""
    return render_template("auth/csrf_error.html"), 400
