"""Forms of the admin's report actions (accept, update, note, resolve, reject, dispatch)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.lifecycle import RejectReason
from reports.selectors import agencies_active


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several image files from one input; the photo pipeline checks each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultiplePhotoField, self).clean(file, initial) for file in files]


class ConfirmForm(forms.Form):
    """Accept: nothing to fill in."""


class MessageForm(forms.Form):
    message = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("What was done (the citizen sees this)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )
    photos = MultiplePhotoField(label=_("Result photos"), required=False)


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RejectReason.CHOICES)
    message = forms.CharField(
        label=_("Message to the citizen"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )
    duplicate_of = forms.CharField(
        label=_("Original report (reference)"),
        required=False,
        max_length=20,
        help_text=_("Required when the reason is a duplicate, e.g. HUE-2026-000123."),
    )


class DispatchForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=agencies_active())
    message = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
