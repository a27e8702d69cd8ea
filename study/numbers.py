"""Numbers from user input: ASCII digits only.

Python's int() and str.isdigit() accept far more than 0-9: int("٣") is 3 and
"²".isdigit() is True while int("²") raises. Input that becomes a number goes
through here (or the form fields below), so '²' and '٣' are plain bad input.
"""

from __future__ import annotations

import re
from typing import Any, overload

from django import forms
from django.db import models

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def is_ascii_digits(text: str) -> bool:
    """'2020' yes; '', '-1', '²', '٣' no."""
    return text.isascii() and text.isdigit()


@overload
def ascii_int(value: object) -> int | None: ...
@overload
def ascii_int(value: object, default: int) -> int: ...
@overload
def ascii_int(value: object, default: None) -> int | None: ...
def ascii_int(value: object, default: int | None = None) -> int | None:
    """An int from an int or an ASCII-digit string, else `default`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    return default


class AsciiIntegerField(forms.IntegerField):
    def to_python(self, value: Any) -> Any:
        if (
            isinstance(value, str)
            and value.strip()
            and not _INT.fullmatch(value.strip())
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiFloatField(forms.FloatField):
    def to_python(self, value: Any) -> Any:
        if (
            isinstance(value, str)
            and value.strip()
            and not _FLOAT.fullmatch(value.strip())
        ):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiDateField(forms.DateField):
    """A date typed with ASCII digits only (strptime reads '٢٠٢٦' as 2026)."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not value.isascii():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiModelChoiceField(forms.ModelChoiceField):
    """A choice of row by its id: int("٣") is 3, so the id is checked first."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip() and not is_ascii_digits(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


def ascii_formfield(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
    """ModelForm Meta.formfield_callback: integer columns get AsciiIntegerField."""
    if isinstance(db_field, models.IntegerField) and not db_field.choices:
        kwargs.setdefault("form_class", AsciiIntegerField)
    return db_field.formfield(**kwargs)
