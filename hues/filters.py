"""Filter fields every list of the API shares."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _


class StrictBooleanField(forms.NullBooleanField):
    """true/false (or 1/0); anything else is an error. Django's NullBooleanField reads an
    unknown value as "not given", so `mine=maybe` would silently show the public feed."""

    widget = forms.TextInput  # NullBooleanSelect, too, reads "maybe" as "not given"
    default_error_messages = {"invalid": _("Enter true or false.")}
    TRUE = frozenset({"true", "True", "1"})
    FALSE = frozenset({"false", "False", "0"})

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        if value is None or value == "":
            return None
        if value is True or value in self.TRUE:
            return True
        if value is False or value in self.FALSE:
            return False
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField
