"""Photo privacy in the admin (reports.privacy): the report list's filter of photos kept
private, and the page where staff obscure what the detector missed or uncover what it
obscured by mistake. Registered from reports.admin; every change goes through
reports.privacy, which records it on the report's internal timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_staff, request_user
from hues.errors import DomainError
from reports import lifecycle, privacy, selectors
from reports.media import photo_url
from reports.models import Photo, PhotoRegion, Redaction, Report

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin


class PhotoPrivacyFilter(admin.SimpleListFilter):
    """Reports with photos not public yet: waiting for the privacy step, or kept private
    because it failed (for staff to send through again)."""

    title = _("photo privacy")
    parameter_name = "photo_privacy"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (Redaction.FAILED, _("Photos kept private: processing failed")),
            (Redaction.PENDING, _("Photos waiting to be processed")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        value = self.value()
        if value not in (Redaction.FAILED, Redaction.PENDING):
            return queryset
        return queryset.filter(Exists(Photo.objects.filter(report=OuterRef("pk"), redaction=value)))


class RedactionForm(forms.Form):
    """One change: a box to add (what the canvas script fills in), a box to remove, or a
    failed photo to process again."""

    ADD, REMOVE, RETRY = "add", "remove", "retry"

    action = forms.ChoiceField(
        choices=[(ADD, _("Add")), (REMOVE, _("Remove")), (RETRY, _("Process again"))]
    )
    kind = forms.ChoiceField(
        label=_("What it hides"), choices=PhotoRegion.Kind.choices, required=False
    )
    x = forms.IntegerField(label="x", min_value=0, required=False)
    y = forms.IntegerField(label="y", min_value=0, required=False)
    width = forms.IntegerField(label=_("width"), min_value=1, required=False)
    height = forms.IntegerField(label=_("height"), min_value=1, required=False)
    region = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == self.ADD and any(
            data.get(name) is None for name in ("x", "y", "width", "height")
        ):
            raise forms.ValidationError(_("Draw a box over the photo."))
        if data.get("action") == self.REMOVE and data.get("region") is None:
            raise forms.ValidationError(_("Choose a box to remove."))
        return data


def _perform(form: RedactionForm, photo: Photo, request: HttpRequest) -> None:
    data = form.cleaned_data
    actor = request_staff(request)
    if data["action"] == RedactionForm.RETRY:
        privacy.photo_redaction_retry(photo=photo, actor=actor)
    elif data["action"] == RedactionForm.REMOVE:
        privacy.photo_regions_edit(photo=photo, actor=actor, remove=[data["region"]])
    else:
        box = privacy.BoxInput(
            kind=data.get("kind") or PhotoRegion.Kind.FACE,
            x=data["x"],
            y=data["y"],
            width=data["width"],
            height=data["height"],
        )
        privacy.photo_regions_edit(photo=photo, actor=actor, add=[box])


def redaction_view(
    model_admin: ModelAdmin[Report], request: HttpRequest, object_id: str, photo_id: int
) -> HttpResponse:
    """The photo with its obscured boxes: staff draw a box on it (static/reports/
    redaction.js) or remove one; the public rendition is made again. Responsible agency
    staff and managers, and dispatchers; a report the user may not open is 404."""
    user = request_user(request)
    photo = (
        selectors.report_photo_for_staff(user, report_id=int(object_id), photo_id=photo_id)
        if str(object_id).isdigit()
        else None
    )
    if photo is None:
        raise Http404(_("No such photo."))
    report = photo.report
    if not lifecycle.TRANSITIONS["redact_photo"].may(user, report):
        raise PermissionDenied
    here = reverse("admin:reports_report_redact_photo", args=[report.pk, photo.pk])
    form = RedactionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            _perform(form, photo, request)
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            model_admin.message_user(request, _("The public photo was updated."), messages.SUCCESS)
            return HttpResponseRedirect(here)
    regions = list(photo.regions.all())
    base = photo.image if photo.has_original else photo.public_image
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Faces and plates — %(reference)s") % {"reference": report.reference},
        "opts": model_admin.opts,
        "report": report,
        "photo": photo,
        "form": form,
        "regions": regions,
        "active_regions": [
            {"id": r.pk, "kind": r.kind, "x": r.x, "y": r.y, "w": r.width, "h": r.height}
            for r in regions
            if r.removed_at is None
        ],
        "base_url": photo_url(str(base.name), expiring=True) if base.name else "",
        "public_url": (
            photo_url(str(photo.public_image.name), expiring=True) if photo.is_published else ""
        ),
        "change_url": reverse("admin:reports_report_change", args=[report.pk]),
        "kinds": PhotoRegion.Kind.choices,
    }
    return TemplateResponse(request, "admin/reports/report/photo_redaction.html", context)
