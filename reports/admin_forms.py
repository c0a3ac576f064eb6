"""Forms of the admin's report actions: accept, update, note, assign, transfer, resolve,
reject and dispatch, and the editor's (correct, moderate, merge, split, file for a caller).
Each action form receives the report it acts on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hues.city import city_text
from reports.admin_replies import ReplyTemplatePicker
from reports.lifecycle import RejectReason, TransferReason
from reports.media import photo_url
from reports.models import (
    Agency,
    Channel,
    Event,
    HideReason,
    Photo,
    Priority,
    ReplyPurpose,
    Report,
)
from reports.selectors import agencies_active, agency_colleagues, areas_all, categories_active


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


class PublicUpdateForm(ReplyTemplatePicker, MessageForm):
    reply_purposes = (ReplyPurpose.PUBLIC_UPDATE, ReplyPurpose.QUESTION)
    question_field = "ask_citizen"

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


class ResolveForm(ReplyTemplatePicker, ReportActionForm):
    reply_field = "note"
    reply_purposes = (ReplyPurpose.RESOLUTION,)

    note = forms.CharField(
        label=_("What was done (the citizen sees this)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )
    photos = MultiplePhotoField(
        label=_("Result photos"),
        help_text=_("At least one photo of the result: the citizen sees it."),
    )


class RejectForm(ReplyTemplatePicker, ReportActionForm):
    reply_purposes = (ReplyPurpose.REJECTION,)

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


# The editor (reports.editing, reports.moderation)


class ReasonForm(ReportActionForm):
    reason = forms.CharField(
        label=_("Reason (kept in the timeline)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class CorrectForm(ReasonForm):
    """Only the fields that differ from the report are corrected."""

    category = forms.ModelChoiceField(
        label=_("Category"), queryset=categories_active(), to_field_name="code"
    )
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, report=report, **kwargs)
        self.fields["category"].initial = report.category.code
        self.fields["lat"].initial = report.lat
        self.fields["lng"].initial = report.lng
        self.fields["address"].initial = report.address
        self.fields["priority"].initial = report.priority
        self.order_fields(["category", "lat", "lng", "address", "priority", "reason"])


class HideForm(ReportActionForm):
    reason = forms.ChoiceField(
        label=_("Reason (the reporter is told)"),
        choices=[c for c in HideReason.choices if c[0] != HideReason.FLAGGED],
    )
    message = forms.CharField(
        label=_("Message to the reporter"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class ShowForm(ReportActionForm):
    message = forms.CharField(
        label=_("Message to the reporter"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class EditTextForm(ReasonForm):
    description = forms.CharField(
        label=_("Public description"), widget=forms.Textarea(attrs={"rows": 5}), max_length=2000
    )
    address = forms.CharField(label=_("Public address"), max_length=255, required=False)

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, report=report, **kwargs)
        self.fields["description"].initial = report.description
        self.fields["address"].initial = report.address
        self.order_fields(["description", "address", "reason"])


def photo_label(photo: Photo) -> str:
    """The photo's thumbnail and kind, to choose it by sight."""
    return format_html(
        '<img src="{}" alt="" style="max-height:80px;vertical-align:middle"> #{} · {}',
        photo_url(photo.staff_thumbnail_name, expiring=True),
        photo.pk,
        photo.get_kind_display(),
    )


class PhotoChoiceField(forms.ModelChoiceField):
    widget = forms.RadioSelect

    def label_from_instance(self, obj: Any) -> str:
        return photo_label(obj)


class PhotoForm(ReasonForm):
    """Hide a photo from the public, or show one again."""

    hidden = True
    photo = PhotoChoiceField(label=_("Photo"), queryset=Photo.objects.none())

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, report=report, **kwargs)
        field = self.fields["photo"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = report.photos.filter(hidden_at__isnull=self.hidden).order_by("id")
        self.order_fields(["photo", "reason"])


class ShowPhotoForm(PhotoForm):
    hidden = False


class CommentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} — {obj.message[:80]}"


class HideCommentForm(ReasonForm):
    comment = CommentChoiceField(label=_("Comment"), queryset=Event.objects.none())

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, report=report, **kwargs)
        field = self.fields["comment"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = report.events.filter(
            kind=Event.Kind.COMMENTED, moderated_at__isnull=True
        ).order_by("created_at", "id")
        self.order_fields(["comment", "reason"])


class MergeForm(ReplyTemplatePicker, ReportActionForm):
    # The duplicate's reporter is told their report joins another: a rejection's templates
    # (e.g. "rejected_duplicate") say so.
    reply_purposes = (ReplyPurpose.REJECTION,)

    original = forms.CharField(
        label=_("Original report (reference)"),
        max_length=20,
        help_text=city_text(_("The open report this one repeats, e.g. %(prefix)s-2026-000123.")),
    )
    message = forms.CharField(
        label=_("Message to the citizen"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class SplitForm(ReasonForm):
    """This report keeps a category; each other part becomes a new report with the chosen
    photos."""

    PARTS = 3

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, report=report, **kwargs)
        photos = report.photos.filter(kind=Photo.Kind.EVIDENCE).order_by("id")
        self.fields["keep_category"] = forms.ModelChoiceField(
            label=_("This report's category"),
            queryset=categories_active(),
            to_field_name="code",
            initial=report.category.code,
        )
        for number in range(2, self.PARTS + 2):
            required = number == 2
            self.fields[f"part{number}_category"] = forms.ModelChoiceField(
                label=_("Part %(number)d: category") % {"number": number},
                queryset=categories_active(),
                to_field_name="code",
                required=required,
            )
            self.fields[f"part{number}_description"] = forms.CharField(
                label=_("Part %(number)d: description") % {"number": number},
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=2000,
                required=required,
            )
            self.fields[f"part{number}_photos"] = PhotoMultipleChoiceField(
                label=_("Part %(number)d: photos") % {"number": number},
                queryset=photos,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        self.order_fields(["keep_category", *[k for k in self.fields if k.startswith("part")]])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "keep_category" in data:
            data["parts"] = self._parts(data)
        return data

    def _parts(self, data: dict[str, Any]) -> list[Any]:
        from reports.editing import SplitPart

        parts = [SplitPart(data["keep_category"].code, self.report.description, [])]
        for number in range(2, self.PARTS + 2):
            category = data.get(f"part{number}_category")
            if category is None:
                continue
            parts.append(
                SplitPart(
                    category.code,
                    data.get(f"part{number}_description", ""),
                    [photo.pk for photo in data.get(f"part{number}_photos") or []],
                )
            )
        return parts


class PhotoMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return photo_label(obj)


class FileForCallerForm(forms.Form):
    """A report taken by phone or at the desk: where, what, and who to tell."""

    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.filter(is_active=True).exclude(
            code__in=[Channel.APP, Channel.OPEN311]
        ),
        to_field_name="code",
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=categories_active(), to_field_name="code"
    )
    description = forms.CharField(
        label=_("What the caller reports"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )
    area = forms.ModelChoiceField(
        label=_("Ward or commune"), queryset=areas_all(), to_field_name="code"
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=255,
        required=False,
        help_text=_("Without a point on the map, the address within the ward is required."),
    )
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    caller_name = forms.CharField(label=_("Caller's name"), max_length=150, required=False)
    caller_phone = forms.CharField(label=_("Caller's phone"), max_length=20, required=False)
    caller_consents = forms.BooleanField(
        label=_("The caller agrees to get a text message with the result"), required=False
    )
    photos = MultiplePhotoField(label=_("Photos"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lat") is None) != (data.get("lng") is None):
            raise forms.ValidationError(_("Give both latitude and longitude, or neither."))
        return data
