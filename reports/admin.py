"""The agency workspace and the reference-data screens of the admin site.

Reports are never edited as a form: every change is an action that calls the lifecycle,
as the API does. Who sees which report comes from reports.selectors.reports_for_staff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.filters import RelatedOnlyFieldListFilter
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_staff, request_user
from hues.dates import short_time
from hues.errors import DomainError
from reports import admin_redaction, editing, lifecycle, moderation, selectors, services
from reports.admin_forms import (
    AssignForm,
    BulkDispatchForm,
    ConfirmForm,
    CorrectForm,
    DispatchForm,
    EditTextForm,
    FileForCallerForm,
    HideCommentForm,
    HideForm,
    MergeForm,
    MessageForm,
    PhotoForm,
    PublicUpdateForm,
    ReasonForm,
    RejectForm,
    ResolveForm,
    ShowForm,
    ShowPhotoForm,
    SplitForm,
    TransferForm,
)
from reports.maps import location_svg
from reports.media import photo_url
from reports.models import (
    OPEN_STATUSES,
    Agency,
    Area,
    Category,
    Event,
    Holiday,
    Photo,
    ReplyTemplate,
    Report,
    ReportStatus,
    RoutingRule,
)
from reports.services import Upload


class RoutingDataAdmin(admin.ModelAdmin):
    """Reference data that routing keeps in memory: tell every process when it changes."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(selectors.routing_data_changed)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(selectors.routing_data_changed)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(selectors.routing_data_changed)


@admin.register(Area)
class AreaAdmin(RoutingDataAdmin):
    list_display = ["code", "name", "name_en", "kind", "population"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "name_en"]
    readonly_fields = ["boundary_summary", "min_lng", "min_lat", "max_lng", "max_lat"]
    exclude = ["boundary"]

    @admin.display(description=_("boundary"))
    def boundary_summary(self, area: Area) -> str:
        kind = area.boundary.get("type", "—") if area.boundary else "—"
        parts = len(area.boundary.get("coordinates", [])) if area.boundary else 0
        return _("%(type)s in %(parts)d part(s). Import a GeoJSON file to change it.") % {
            "type": kind,
            "parts": parts,
        }


@admin.register(Agency)
class AgencyAdmin(RoutingDataAdmin):
    list_display = ["code", "name", "short_name", "kind", "area", "email", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["area"]


@admin.register(Category)
class CategoryAdmin(RoutingDataAdmin):
    list_display = [
        "code",
        "name_vi",
        "name_en",
        "default_agency",
        "deadline_hours",
        "urgent_deadline_hours",
        "is_active",
    ]
    list_filter = ["is_active", "group"]
    list_select_related = ["default_agency"]
    search_fields = ["code", "name_vi", "name_en"]
    autocomplete_fields = ["default_agency"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(RoutingDataAdmin):
    list_display = ["category", "area", "agency", "to_ward_committee"]
    list_filter = [("category", admin.RelatedOnlyFieldListFilter), "to_ward_committee"]
    list_select_related = ["category", "area", "agency"]
    autocomplete_fields = ["area", "agency"]


class PhotoInline(admin.TabularInline):
    """The report's photos: the unobscured evidence copy (staff see it, by expiring URLs),
    what the public sees, and where the photo is in the privacy step, with the page where
    staff change what is obscured (reports.admin_redaction)."""

    model = Photo
    extra = 0
    fields = ["preview", "public_preview", "kind", "privacy", "public", "created_at"]
    readonly_fields = fields  # type: ignore[assignment]  # fields here are all plain names
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("public"), boolean=True)
    def public(self, photo: Photo) -> bool:
        return photo.hidden_at is None and photo.is_published

    @admin.display(description=_("photo"))
    def preview(self, photo: Photo) -> str:
        if not photo.has_original:
            return str(_("deleted"))
        return format_html(
            '<a href="{}" target="_blank"><img src="{}" alt="" style="max-height:120px"></a>',
            photo_url(str(photo.image.name), expiring=True),
            photo_url(photo.staff_thumbnail_name, expiring=True),
        )

    @admin.display(description=_("what the public sees"))
    def public_preview(self, photo: Photo) -> str:
        if not photo.is_published:
            return "—"
        return format_html(
            '<a href="{}" target="_blank"><img src="{}" alt="" style="max-height:120px"></a>',
            photo_url(str(photo.public_image.name), expiring=True),
            photo_url(str(photo.public_thumbnail.name), expiring=True),
        )

    @admin.display(description=_("faces and plates"))
    def privacy(self, photo: Photo) -> str:
        return format_html(
            '{}<br><a class="photo-redact-link" href="{}">{}</a>',
            photo.get_redaction_display(),
            reverse("admin:reports_report_redact_photo", args=[photo.report_id, photo.pk]),
            _("Obscure or uncover"),
        )


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    fields = [
        "created_at",
        "kind",
        "actor_name",
        "from_status",
        "to_status",
        "message",
        "is_public",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # fields here are all plain names
    can_delete = False
    ordering = ["created_at", "id"]
    verbose_name_plural = _("timeline")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("actor", "actor__agency")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        viewer = request_user(request)
        if viewer is not None and viewer.is_citywide:
            return self.fields
        return ["actor_role" if name == "actor_name" else name for name in self.fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.readonly_fields, "actor_role"]

    @admin.display(description=_("actor"))
    def actor_name(self, event: Event) -> str:
        if event.actor is None:
            return str(_("System"))
        if event.actor.agency is not None:
            return f"{event.actor.full_name} ({event.actor.agency.code})"
        return event.actor.full_name

    @admin.display(description=_("actor"))
    def actor_role(self, event: Event) -> str:
        """For agency staff: colleagues by name, citizens without one."""
        if event.actor is not None and event.actor.agency is None and not event.actor.is_staff:
            return str(_("The citizen"))
        return self.actor_name(event)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The admin's report actions: form, button label, and the lifecycle call.
ACTIONS: dict[str, tuple[type, Any, Callable[..., Any]]] = {
    "accept": (
        ConfirmForm,
        _("Accept"),
        lambda report, user, data, files: lifecycle.report_accept(report=report, actor=user),
    ),
    "public_update": (
        PublicUpdateForm,
        _("Post a public update"),
        lambda report, user, data, files: lifecycle.report_post_update(
            report=report, actor=user, message=data["message"], ask_citizen=data["ask_citizen"]
        ),
    ),
    "assign": (
        AssignForm,
        _("Assign to a colleague"),
        lambda report, user, data, files: lifecycle.report_assign(
            report=report, actor=user, assignee=data["assignee"]
        ),
    ),
    "transfer": (
        TransferForm,
        _("Transfer"),
        lambda report, user, data, files: lifecycle.report_transfer(
            report=report,
            actor=user,
            reason=data["reason"],
            message=data["message"],
            suggested_agency=data["agency"],
        ),
    ),
    "internal_note": (
        MessageForm,
        _("Add an internal note"),
        lambda report, user, data, files: lifecycle.report_add_note(
            report=report, actor=user, message=data["message"]
        ),
    ),
    "resolve": (
        ResolveForm,
        _("Resolve"),
        lambda report, user, data, files: services.report_resolve_with_photos(
            report=report,
            actor=user,
            note=data["note"],
            photos=[Upload(stream=f, size=f.size) for f in files],
        ),
    ),
    "reject": (
        RejectForm,
        _("Reject"),
        lambda report, user, data, files: lifecycle.report_reject(
            report=report,
            actor=user,
            reason=data["reason"],
            message=data["message"],
            duplicate_of=data.get("duplicate_report"),
        ),
    ),
    "dispatch": (
        DispatchForm,
        _("Route to an agency"),
        lambda report, user, data, files: lifecycle.report_dispatch(
            report=report, actor=user, agency_id=data["agency"].pk, message=data["message"]
        ),
    ),
    # The editor
    "correct": (
        CorrectForm,
        _("Correct category, place or priority"),
        lambda report, user, data, files: editing.report_correct(
            report=report,
            actor=user,
            reason=data["reason"],
            category_code=data["category"].code,
            location=(data["lat"], data["lng"]),
            address=data["address"],
            priority=data["priority"],
        ),
    ),
    "merge": (
        MergeForm,
        _("Merge into another report"),
        lambda report, user, data, files: editing.report_merge(
            duplicate=report, original=data["original_report"], actor=user, message=data["message"]
        ),
    ),
    "unmerge": (
        ReasonForm,
        _("Undo the merge"),
        lambda report, user, data, files: editing.report_unmerge(
            duplicate=report, actor=user, reason=data["reason"]
        ),
    ),
    "split": (
        SplitForm,
        _("Split into several reports"),
        lambda report, user, data, files: editing.report_split(
            report=report, actor=user, parts=data["parts"], reason=data["reason"]
        ),
    ),
    "hide": (
        HideForm,
        _("Hide from the public"),
        lambda report, user, data, files: moderation.report_hide(
            report=report, actor=user, reason=data["reason"], message=data["message"]
        ),
    ),
    "show": (
        ShowForm,
        _("Show to the public again"),
        lambda report, user, data, files: moderation.report_show(
            report=report, actor=user, message=data["message"]
        ),
    ),
    "edit_text": (
        EditTextForm,
        _("Edit the public text"),
        lambda report, user, data, files: moderation.report_edit_text(
            report=report,
            actor=user,
            description=data["description"],
            address=data["address"],
            reason=data["reason"],
        ),
    ),
    "hide_photo": (
        PhotoForm,
        _("Hide a photo"),
        lambda report, user, data, files: moderation.photo_set_hidden(
            photo=data["photo"], actor=user, hidden=True, reason=data["reason"]
        ),
    ),
    "show_photo": (
        ShowPhotoForm,
        _("Show a photo again"),
        lambda report, user, data, files: moderation.photo_set_hidden(
            photo=data["photo"], actor=user, hidden=False, reason=data["reason"]
        ),
    ),
    "hide_comment": (
        HideCommentForm,
        _("Hide a comment"),
        lambda report, user, data, files: moderation.comment_hide(
            event=data["comment"], actor=user, reason=data["reason"]
        ),
    ),
}


# How the report page groups its actions: handling the report, and editing what it says.
HANDLING = frozenset(
    {
        "dispatch",
        "accept",
        "public_update",
        "internal_note",
        "assign",
        "transfer",
        "resolve",
        "reject",
    }
)
ACTION_GROUPS = [
    (_("Handle"), HANDLING),
    (_("Edit and moderate"), frozenset(ACTIONS) - HANDLING),
]


class QueueFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        options: list[tuple[str, Any]] = [
            ("mine", _("Assigned to me")),
            ("unassigned", _("Not assigned yet")),
        ]
        user = request_user(request)
        if user is not None and user.has_perm("reports.triage_report"):
            options.insert(0, ("triage", _("Dispatcher queue: to be routed")))
        return options

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        value = self.value()
        if value == "triage":
            return queryset.filter(status=ReportStatus.NEEDS_TRIAGE)
        if value == "mine":
            return queryset.filter(assignee=request_user(request))
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
        return queryset


class ModerationFilter(admin.SimpleListFilter):
    title = _("moderation")
    parameter_name = "moderation"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("flagged", _("Flagged by citizens")),
            ("hidden", _("Hidden from the public")),
            ("merged", _("Merged duplicates")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        value = self.value()
        if value == "flagged":
            return queryset.filter(flags_open__gt=0)
        if value == "hidden":
            return queryset.filter(hidden_at__isnull=False)
        if value == "merged":
            return queryset.filter(status=ReportStatus.MERGED)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Overdue")), ("no", _("On time"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        overdue = selectors.overdue_condition(timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


# The fields that say who reported: the operations centre's alone.
REPORTER_FIELDS = frozenset({"reporter", "reporter_id", "caller_name", "caller_phone"})


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "category",
        "area",
        "agency",
        "status",
        "priority",
        "assignee",
        "deadline",
        "age",
    ]
    list_filter = [
        QueueFilter,
        OverdueFilter,
        ModerationFilter,
        admin_redaction.PhotoPrivacyFilter,
        "status",
        "priority",
        ("channel", RelatedOnlyFieldListFilter),
        ("category", RelatedOnlyFieldListFilter),
        ("area", RelatedOnlyFieldListFilter),
        ("agency", RelatedOnlyFieldListFilter),
    ]
    search_fields = ["reference", "description", "address"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "status",
                    "priority",
                    "channel",
                    "category",
                    "description",
                    "address",
                    "location",
                    "area",
                ]
            },
        ),
        (
            _("Moderation"),
            {"fields": ["moderation", "original_text", "duplicates", "split_parts"]},
        ),
        (
            _("Handling"),
            {
                "fields": [
                    "agency",
                    "assignee",
                    "deadline",
                    "routed_at",
                    "accepted_at",
                    "resolved_at",
                    "closed_at",
                ]
            },
        ),
        (
            _("Citizen"),
            {
                "fields": [
                    "reporter_display",
                    "caller",
                    "is_public",
                    "hide_name",
                    "rating",
                    "rating_comment",
                    "duplicate_of",
                    "supporters_count",
                    "created_at",
                ]
            },
        ),
    ]
    # Every field is read-only: changes happen only through the actions above.
    readonly_fields = [
        name for _, options in fieldsets for name in options["fields"] if isinstance(name, str)
    ]
    inlines = [PhotoInline, EventInline]
    actions = ["accept_selected", "dispatch_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        return selectors.reports_for_staff(request_user(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _visible_report(self, request: HttpRequest, object_id: str) -> Report:
        """The report if this user may see it; 404 otherwise (never "it exists")."""
        report = (
            self.get_queryset(request).filter(pk=object_id).first()
            if str(object_id).isdigit()
            else None
        )
        if report is None:
            raise Http404(_("No such report."))
        return report

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        report = self._visible_report(request, object_id)
        viewer = request_user(request)
        names = lifecycle.allowed_transitions(report, viewer)
        actions = [
            (name, ACTIONS[name][1], reverse("admin:reports_report_act", args=[report.pk, name]))
            for name in names
            if name in ACTIONS
        ]
        extra = {
            **(extra_context or {}),
            "report_context": selectors.report_context(report=report, viewer=viewer),
            "may_merge": "merge" in names,
            "report_actions": actions,
            "action_groups": [
                (title, [action for action in actions if action[0] in group])
                for title, group in ACTION_GROUPS
                if any(action[0] in group for action in actions)
            ],
        }
        return super().change_view(request, object_id, form_url, extra)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._visible_report(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "file/",
                self.admin_site.admin_view(self.file_view),
                name="reports_report_file",
            ),
            path(
                "<path:object_id>/act/<str:action>/",
                self.admin_site.admin_view(self.act_view),
                name="reports_report_act",
            ),
            path(
                "<path:object_id>/photos/<int:photo_id>/redact/",
                self.admin_site.admin_view(self.redact_photo_view),
                name="reports_report_redact_photo",
            ),
            *super().get_urls(),
        ]

    def redact_photo_view(
        self, request: HttpRequest, object_id: str, photo_id: int
    ) -> HttpResponse:
        return admin_redaction.redaction_view(self, request, object_id, photo_id)

    def act_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """One form page per action; on success, back to the report with a message."""
        report = self._visible_report(request, object_id)
        if action not in ACTIONS or action not in lifecycle.allowed_transitions(
            report, request_user(request)
        ):
            raise Http404(_("This action is not available for this report."))
        form_class, label, perform = ACTIONS[action]
        change_url = reverse("admin:reports_report_change", args=[report.pk])
        posted = request.method == "POST"
        form = form_class(
            request.POST if posted else None,
            request.FILES if posted else None,
            report=report,
            initial=request.GET.dict(),  # e.g. the original a "merge into this" link names
        )
        if posted and form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if action == "reject" and data.get("duplicate_of"):
                    data["duplicate_report"] = self._duplicate_target(request, data["duplicate_of"])
                if action == "merge":
                    data["original_report"] = self._duplicate_target(request, data["original"])
                perform(report, request_staff(request), data, data.get("photos") or [])
            except DomainError as error:
                form.add_error(
                    error.field if error.field in form.fields else None, str(error.message)
                )
            else:
                self.message_user(
                    request,
                    _("%(action)s: done for %(reference)s.")
                    % {"action": label, "reference": report.reference},
                    messages.SUCCESS,
                )
                if not self.get_queryset(request).filter(pk=report.pk).exists():
                    # It left the user's queue (corrected to another agency, transferred):
                    # back to the list, not to a page they may no longer open.
                    return HttpResponseRedirect(reverse("admin:reports_report_changelist"))
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label} — {report.reference}",
            "opts": self.opts,
            "report": report,
            "form": form,
            "action_label": label,
            "change_url": change_url,
            "has_file_field": action == "resolve",
        }
        return TemplateResponse(request, "admin/reports/report/action_form.html", context)

    def file_view(self, request: HttpRequest) -> HttpResponse:
        """A report taken by phone, at the desk or from the press, filed for the caller."""
        user = request_staff(request)
        if not user.has_perm("reports.file_report"):
            raise PermissionDenied
        posted = request.method == "POST"
        form = FileForCallerForm(
            request.POST if posted else None, request.FILES if posted else None
        )
        if posted and form.is_valid():
            data = form.cleaned_data
            try:
                report = services.report_file_for_caller(
                    actor=user,
                    channel=data["channel"].code,
                    category_code=data["category"].code,
                    description=data["description"],
                    area_code=data["area"].code,
                    lat=data["lat"],
                    lng=data["lng"],
                    address=data["address"],
                    photos=[Upload(stream=f, size=f.size) for f in data["photos"]],
                    caller_name=data["caller_name"],
                    caller_phone=data["caller_phone"],
                    caller_consents=data["caller_consents"],
                    priority=data["priority"],
                )
            except DomainError as error:
                form.add_error(
                    error.field if error.field in form.fields else None, str(error.message)
                )
            else:
                self.message_user(
                    request,
                    _("Report %(reference)s was filed and goes to routing.")
                    % {"reference": report.reference},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:reports_report_change", args=[report.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("File a report for a caller"),
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/reports/report/file_form.html", context)

    def _duplicate_target(self, request: HttpRequest, reference: str) -> Report:
        reference = reference.strip().upper()
        original = (
            selectors.reports_for_staff(request_user(request)).filter(reference=reference).first()
        )
        if original is None:
            original = Report.objects.filter(reference=reference, is_public=True).first()
        if original is None:
            raise DomainError(
                _("No report with this reference."),
                field="original" if "original" in request.POST else "duplicate_of",
            )
        return original

    def has_triage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reports.triage_report")

    @admin.action(description=_("Route the selected reports to an agency"), permissions=["triage"])
    def dispatch_selected(
        self, request: HttpRequest, queryset: QuerySet[Report]
    ) -> HttpResponse | None:
        """The dispatcher queue's one action: pick an agency, route every selected report."""
        form = BulkDispatchForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = refused = 0
            for report in queryset:
                try:
                    lifecycle.report_dispatch(
                        report=report,
                        actor=request_staff(request),
                        agency_id=form.cleaned_data["agency"].pk,
                        message=form.cleaned_data["message"],
                    )
                except DomainError:
                    refused += 1
                else:
                    done += 1
            self.message_user(
                request,
                _("Routed: %(done)d. Could not be routed: %(refused)d.")
                % {"done": done, "refused": refused},
                messages.SUCCESS if not refused else messages.WARNING,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Route the selected reports to an agency"),
            "opts": self.opts,
            "reports": queryset,
            "form": form,
            "action": "dispatch_selected",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/reports/report/dispatch_selected.html", context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        extra["workload"] = selectors.workload(self.get_queryset(request), timezone.now())
        extra["can_file"] = request_staff(request).has_perm("reports.file_report")
        if self.has_triage_permission(request):
            extra["triage_count"] = (
                selectors.reports_for_staff(request_user(request))
                .filter(status=ReportStatus.NEEDS_TRIAGE)
                .count()
            )
        return super().changelist_view(request, extra)

    @admin.action(description=_("Accept the selected reports"), permissions=["view"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        done = refused = 0
        for report in queryset:
            try:
                lifecycle.report_accept(report=report, actor=request_staff(request))
            except DomainError:
                refused += 1
            else:
                done += 1
        self.message_user(
            request,
            _("Accepted: %(done)d. Could not be accepted: %(refused)d.")
            % {"done": done, "refused": refused},
            messages.SUCCESS if not refused else messages.WARNING,
        )

    @admin.display(description=_("received"), ordering="created_at")
    def received(self, report: Report) -> str:
        return short_time(report.created_at)

    @admin.display(description=_("deadline"), ordering="due_at")
    def deadline(self, report: Report) -> str:
        if report.due_at is None:
            return "—"
        text = short_time(report.due_at)
        if report.is_overdue:
            return format_html(
                '<strong class="overdue" style="color:#ba2121">{} ⚠ {}</strong>', text, _("overdue")
            )
        return text

    @admin.display(description=_("location"))
    def location(self, report: Report) -> str:
        moved = selectors.report_last_move(report)
        before = before_geometry = None
        note = ""
        if moved is not None:
            before = (moved.lat, moved.lng)
            if moved.area_id != report.area_id:
                before_geometry = selectors.area_boundary(moved.area_id)
            note = format_html(
                '<div class="help">{}</div>',
                _("Corrected on %(when)s from %(lat)s, %(lng)s (hollow point).")
                % {
                    "when": short_time(moved.at),
                    "lat": f"{moved.lat:.6f}",
                    "lng": f"{moved.lng:.6f}",
                },
            )
        return format_html(
            "<div>{}, {}</div>{}{}",
            f"{report.lat:.6f}",
            f"{report.lng:.6f}",
            location_svg(
                selectors.area_boundary(report.area_id),
                report.lat,
                report.lng,
                before=before,
                before_geometry=before_geometry,
            ),
            note,
        )

    @admin.display(description=_("moderation"))
    def moderation(self, report: Report) -> str:
        parts = []
        if report.hidden_at is not None:
            parts.append(
                format_html(
                    '<strong class="hidden-report">{}</strong> {} · {}',
                    _("Hidden from the public"),
                    short_time(report.hidden_at),
                    report.get_hidden_reason_display(),
                )
            )
        if report.flags_open:
            parts.append(
                format_html(
                    '<a href="{}?report__id__exact={}">{}</a>',
                    reverse("admin:reports_flag_changelist"),
                    report.pk,
                    _("%(count)d open flag(s)") % {"count": report.flags_open},
                )
            )
        return format_html_join(" · ", "{}", ((part,) for part in parts)) if parts else "—"

    @admin.display(description=_("citizen's own text"))
    def original_text(self, report: Report) -> str:
        """The description and address as the citizen wrote them, when a moderator edited
        the public text (the timeline says who and when)."""
        if not report.original_description:
            return "—"
        return format_html(
            "<blockquote>{}</blockquote><div>{}</div>",
            report.original_description,
            report.original_address or "",
        )

    @admin.display(description=_("merged duplicates"))
    def duplicates(self, report: Report) -> str:
        """Each duplicate merged into this report: its description and photos, for staff."""
        rows = selectors.report_duplicates(report)
        if not rows:
            return "—"
        return format_html_join(
            "",
            '<div class="duplicate"><a href="{}">{}</a> · {}<blockquote>{}</blockquote>{}</div>',
            (
                (
                    reverse("admin:reports_report_change", args=[duplicate.pk]),
                    duplicate.reference,
                    short_time(duplicate.created_at),
                    duplicate.description,
                    format_html_join(
                        " ",
                        '<img src="{}" alt="" style="max-height:80px">',
                        (
                            (photo_url(photo.staff_thumbnail_name, expiring=True),)
                            for photo in duplicate.photos.all()
                        ),
                    ),
                )
                for duplicate in rows
            ),
        )

    @admin.display(description=_("split"))
    def split_parts(self, report: Report) -> str:
        links = [
            (reverse("admin:reports_report_change", args=[other.pk]), other.reference)
            for other in selectors.report_split_relatives(report)
        ]
        if not links:
            return "—"
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=_("caller"))
    def caller(self, report: Report) -> str:
        """Who a report filed by staff is for (the operations centre only)."""
        if report.filed_by_id is None:
            return "—"
        consent = (
            _("agreed to a text message on %(when)s")
            % {"when": short_time(report.caller_consent_at)}
            if report.caller_consent_at
            else _("no text message")
        )
        return format_html(
            "{} · {} · {} ({} {})",
            report.caller_name or _("no name given"),
            report.caller_phone or _("no phone given"),
            consent,
            _("filed by"),
            report.filed_by.full_name if report.filed_by else "—",
        )

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, report: Report) -> str:
        return timesince(report.created_at, depth=1)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """The reporter's identity stays with the operations centre: agency staff see that a
        citizen reported, not who."""
        fieldsets = super().get_fieldsets(request, obj)
        viewer = request_user(request)
        if viewer is not None and viewer.is_citywide:
            return fieldsets
        return [
            (
                title,
                {
                    **options,
                    "fields": [
                        "reporter_withheld" if name == "reporter_display" else name
                        for name in options["fields"]
                        if name != "caller"
                    ],
                },
            )
            for title, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*self.readonly_fields, "reporter_withheld"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """Only the operations centre may filter the list (and its CSV export) by who reported:
        Django allows any lookup on the model's own fields, and `?reporter=<id>` would let
        agency staff group a pseudonymous citizen's reports (a 400 for them now)."""
        if lookup.split(LOOKUP_SEP)[0] in REPORTER_FIELDS:
            viewer = request_user(request)
            if viewer is None or not viewer.is_citywide:
                return False
        return bool(super().lookup_allowed(lookup, value, request))

    @admin.display(description=_("reporter"))
    def reporter_display(self, report: Report) -> str:
        name = f"{report.reporter.full_name} · {report.reporter.phone}"
        if report.hide_name:
            name = _("%(name)s (name hidden from the public)") % {"name": name}
        return name

    @admin.display(description=_("reporter"))
    def reporter_withheld(self, report: Report) -> str:
        return str(_("A citizen (the operations centre keeps their identity)"))


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Public holidays stop the deadline clock: tell every process when they change."""

    list_display = ["date", "weekday", "name", "name_en"]
    date_hierarchy = "date"
    search_fields = ["name", "name_en"]
    ordering = ["-date"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, holiday: Holiday) -> str:
        return date_format(holiday.date, "l")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(selectors.holidays_changed)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(selectors.holidays_changed)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(selectors.holidays_changed)


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """Administrators keep every reply template; a manager those of their own agency only:
    the agency is theirs, not a choice. Unknown placeholders are refused when saved."""

    list_display = ["name", "purpose", "language", "category", "agency", "is_active"]
    list_filter = [
        "purpose",
        "language",
        "is_active",
        ("category", RelatedOnlyFieldListFilter),
        ("agency", RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["category", "agency"]
    search_fields = ["name", "text"]
    fields = ["name", "purpose", "language", "category", "agency", "text", "is_active"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReplyTemplate]:
        return selectors.reply_templates_for_editor(request_user(request))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        user = request_user(request)
        if db_field.name == "agency" and (user is None or not user.is_citywide):
            own = user.agency_id if user is not None else None
            kwargs.update(
                queryset=Agency.objects.filter(pk=own) if own else Agency.objects.none(),
                required=True,
                empty_label=None,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        user = request_user(request)
        if user is None or not user.is_citywide:
            # The form offers no other agency; this holds whatever was posted.
            obj.agency_id = user.agency_id if user else None
        super().save_model(request, obj, form, change)


# The moderation queue and the channels.
from reports import admin_moderation  # noqa: E402, F401
