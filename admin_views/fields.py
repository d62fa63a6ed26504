"""Form fields and validators shared by the F-A-S-D forms (French messages, `*` marks, counters)."""

from decimal import Decimal

from wtforms import SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from models.codelists import choices
from sofi.sanitize import clean_html

REQUIRED = "Champ obligatoire."
# Widget arguments keeping Flask-Admin's drop-downs native: select2 3 leaves its links unnamed (an empty
# choice, the "remove" crosses of a multiple choice), which screen readers cannot announce.
NATIVE_SELECT = {"data-role": "liste-native"}


class Mandatory:
    """Marks a field `*` (mandatory at submission) without blocking a draft save."""

    field_flags = {"mandatory": True}

    def __call__(self, form, field):
        """Nothing to check on save: completeness is checked by ``sofi.rules`` on submission."""


def required():
    """Needed to save at all (the record cannot exist without it); shown with `*`."""
    validator = DataRequired(message=REQUIRED)
    validator.field_flags = {"required": True, "mandatory": True}
    return validator


def limited(maximum: int):
    return Length(max=maximum, message=f"Limité à {maximum} caractères.")


def at_least(minimum, label: str = "La valeur"):
    return NumberRange(min=minimum, message=f"{label} doit être au moins {minimum}.")


def percentage():
    return NumberRange(min=Decimal(0), max=Decimal(100), message="Un pourcentage entre 0 et 100.")


def optional():
    return Optional()


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (several choices possible)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RichTextField(TextAreaField):
    """Rich text limited to a safe HTML subset: sanitised as soon as it is read from the form."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = clean_html(self.data)


def choice_list(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as the options of a select or of checkboxes (WTForms deprecates tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


def code_choices(list_name: str, exclude: tuple[str, ...] = (), blank: str | None = None) -> list[SelectChoice]:
    values = [(code, label) for code, label in choices(list_name) if code not in exclude]
    return choice_list([("", blank), *values] if blank is not None else values)


def counter(maximum: int) -> dict:
    """``render_kw`` that makes the page show a live character counter."""
    return {"data-maxlength": maximum}


class NotBefore:
    """The field's date must not be before another date field of the same form."""

    def __init__(self, other: str, message: str):
        self.other = other
        self.message = message

    def __call__(self, form, field):
        other = form[self.other].data
        if field.data and other and field.data < other:
            raise ValidationError(self.message)
