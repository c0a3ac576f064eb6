"""Forms of the admin's report actions: accept, update, note, assign, transfer, resolve,
reject and dispatch. Each receives the report it acts on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hues.city import city_text
from reports.lifecycle import RejectReason, TransferReason
from reports.models import Agency, Event, Report
from reports.selectors import agencies_active, agency_colleagues


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


class ReportActionForm(forms.Form):
    """A form about one report."""

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        self.report = report
        super().__init__(*args, **kwargs)


class ConfirmForm(ReportActionForm):
    """Accept: nothing to fill in."""


class MessageForm(ReportActionForm):
    message = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )


class PublicUpdateForm(MessageForm):
    ask_citizen = forms.BooleanField(
        label=_("This is a question to the citizen: stop the deadline clock until they answer"),
        required=False,
    )


class AssignForm(ReportActionForm):
    assignee: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Colleague"), queryset=None, required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, report=report, **kwargs)
        field = self.fields["assignee"]
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = agency_colleagues(report.agency_id)
            field.initial = report.assignee_id


class TransferForm(ReportActionForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=TransferReason.CHOICES)
    agency = forms.ModelChoiceField(
        label=_("Agency that should handle it"),
        queryset=agencies_active(),
        required=False,
        help_text=_("If you know it; the dispatchers decide."),
    )
    message = forms.CharField(
        label=_("Explanation for the dispatchers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class ResolveForm(ReportActionForm):
    note = forms.CharField(
        label=_("What was done (the citizen sees this)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )
    photos = MultiplePhotoField(
        label=_("Result photos"),
        help_text=_("At least one photo of the result: the citizen sees it."),
    )


class RejectForm(ReportActionForm):
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
        help_text=city_text(
            _("Required when the reason is a duplicate, e.g. %(prefix)s-2026-000123.")
        ),
    )


class DispatchForm(ReportActionForm):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=agencies_active())
    message = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, report=report, **kwargs)
        self.fields["agency"].initial = suggested_agency(report)


def suggested_agency(report: Report) -> Agency | None:
    """The agency named by the last transfer of this report, if any."""
    transfer = (
        Event.objects.filter(report=report, kind=Event.Kind.TRANSFERRED).order_by("-id").first()
    )
    code = transfer.data.get("suggested_agency") if transfer else None
    return agencies_active().filter(code=code).first() if code else None


class BulkDispatchForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=agencies_active())
    message = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
