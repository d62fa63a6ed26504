"""Forms of the accounts pages (Flask-WTF: every form carries its CSRF token)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from models import ModelValidationError
from models.validation import check_siret

REQUIRED = "Ce champ est obligatoire."
PASSWORD_MIN, PASSWORD_MAX = 10, 128
MESSAGE_MAX = 2000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _required(message: str = REQUIRED) -> DataRequired:
    return DataRequired(message=message)


def _email_field(label: str = "Adresse e-mail", autocomplete: str = "email") -> EmailField:
    return EmailField(
        label,
        validators=[
            _required("Saisissez votre adresse e-mail."),
            Length(max=255, message="L'adresse e-mail est limitée à 255 caractères."),
            Email(message="L'adresse e-mail n'est pas valide (exemple : prenom.nom@organisme.fr)."),
        ],
        filters=[_strip],
        render_kw={"autocomplete": autocomplete, "spellcheck": "false", "autocapitalize": "none"},
    )


def _new_password_fields():
    password = PasswordField(
        "Mot de passe",
        validators=[
            _required("Choisissez un mot de passe."),
            Length(
                min=PASSWORD_MIN,
                max=PASSWORD_MAX,
                message=f"Le mot de passe doit comporter entre {PASSWORD_MIN} et {PASSWORD_MAX} caractères.",
            ),
        ],
        render_kw={"autocomplete": "new-password", "minlength": PASSWORD_MIN, "maxlength": PASSWORD_MAX},
        description=f"{PASSWORD_MIN} caractères au moins. Une phrase de passe est plus sûre et plus facile à retenir.",
    )
    confirmation = PasswordField(
        "Confirmation du mot de passe",
        validators=[
            _required("Saisissez à nouveau le mot de passe."),
            EqualTo("password", message="Les deux mots de passe saisis sont différents."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirmation


class LoginForm(FlaskForm):
    email = _email_field("Email", autocomplete="username")
    password = PasswordField(
        "Mot de passe",
        validators=[_required("Saisissez votre mot de passe.")],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordResetRequestForm(FlaskForm):
    email = _email_field()


class PasswordResetForm(FlaskForm):
    password, confirmation = _new_password_fields()


class ActivationForm(FlaskForm):
    key = StringField(
        "Clé d'activation",
        filters=[_strip],
        validators=[_required("Saisissez la clé d'activation reçue par e-mail."), Length(max=64)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
        description="Telle qu'elle figure dans l'e-mail reçu, par exemple ABCDE-FGHJK-LMNPQ-RSTUV.",
    )
    email = _email_field()
    nom = StringField(
        "Nom",
        filters=[_strip],
        validators=[_required("Saisissez votre nom."), Length(max=100, message="100 caractères au plus.")],
        render_kw={"autocomplete": "family-name", "maxlength": 100},
    )
    prenom = StringField(
        "Prénom",
        filters=[_strip],
        validators=[_required("Saisissez votre prénom."), Length(max=100, message="100 caractères au plus.")],
        render_kw={"autocomplete": "given-name", "maxlength": 100},
    )
    password, confirmation = _new_password_fields()


def _valid_siret(form, field):
    try:
        field.data = check_siret("siret", field.data)
    except ModelValidationError as error:
        raise ValidationError(error.message[:1].upper() + error.message[1:]) from error


class KeyRequestForm(FlaskForm):
    siret = StringField(
        "SIRET de l'établissement",
        filters=[_strip],
        validators=[_required("Saisissez le SIRET de votre établissement."), _valid_siret],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "maxlength": 17},
        description="14 chiffres, sans espace.",
    )
    raison_sociale = StringField(
        "Raison sociale",
        filters=[_strip],
        validators=[_required("Saisissez la raison sociale."), Length(max=255, message="255 caractères au plus.")],
        render_kw={"autocomplete": "organization", "maxlength": 255},
    )
    nom = StringField(
        "Nom",
        filters=[_strip],
        validators=[_required("Saisissez votre nom."), Length(max=100, message="100 caractères au plus.")],
        render_kw={"autocomplete": "family-name", "maxlength": 100},
    )
    prenom = StringField(
        "Prénom",
        filters=[_strip],
        validators=[_required("Saisissez votre prénom."), Length(max=100, message="100 caractères au plus.")],
        render_kw={"autocomplete": "given-name", "maxlength": 100},
    )
    email = _email_field()
    telephone = TelField(
        "Téléphone",
        filters=[_strip],
        validators=[Optional(), Length(max=30, message="30 caractères au plus.")],
        render_kw={"autocomplete": "tel", "maxlength": 30},
    )
    message = TextAreaField(
        "Message",
        filters=[_strip],
        validators=[Optional(), Length(max=MESSAGE_MAX, message=f"Le message est limité à {MESSAGE_MAX} caractères.")],
        render_kw={"rows": 5, "maxlength": MESSAGE_MAX, "data-maxlength": MESSAGE_MAX},
        description="Précisez par exemple votre fonction dans l'établissement.",
    )
