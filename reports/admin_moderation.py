"""The moderation queue (citizens' flags) and the channels, in the admin. Registered from
reports.admin. Decisions go through reports.moderation, as everywhere."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_staff, request_user
from hues.dates import short_time
from hues.errors import DomainError
from reports import moderation, selectors
from reports.models import Channel, Flag


class OpenFlagFilter(admin.SimpleListFilter):
    title = _("decision")
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Waiting for a moderator")), ("no", _("Decided"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Flag]) -> QuerySet[Flag]:
        if self.value() == "yes":
            return queryset.filter(decided_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(decided_at__isnull=False)
        return queryset


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    """The moderation queue: what citizens flagged, waiting first. Who flagged stays out of
    it: a moderator judges the content, not the person."""

    list_display = ["flagged", "report_link", "target", "reason", "status"]
    list_filter = [OpenFlagFilter, "reason"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["keep_selected", "hide_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Flag]:
        return selectors.flags_for_moderator(request_user(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request_user(request)
        return bool(user and user.is_active and user.has_perm("reports.moderate_report"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request) and (
            obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    fields = readonly_fields = ("flagged", "report_link", "target", "reason", "status")

    @admin.display(description=_("flagged at"), ordering="created_at")
    def flagged(self, flag: Flag) -> str:
        return short_time(flag.created_at)

    @admin.display(description=_("report"))
    def report_link(self, flag: Flag) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:reports_report_change", args=[flag.report_id]),
            flag.report.reference,
        )

    @admin.display(description=_("what"))
    def target(self, flag: Flag) -> str:
        if flag.event is None:
            return Truncator(flag.report.description).chars(120)
        return format_html(
            "<em>{}</em> {}", _("Comment:"), Truncator(flag.event.message).chars(120)
        )

    @admin.display(description=_("decision"))
    def status(self, flag: Flag) -> str:
        if flag.decided_at is None:
            return str(_("Waiting"))
        return f"{flag.get_decision_display()} · {short_time(flag.decided_at)}"

    def _decide(self, request: HttpRequest, queryset: QuerySet[Flag], *, keep: bool) -> None:
        actor = request_staff(request)
        done = refused = 0
        targets = {(flag.report_id, flag.event_id): flag for flag in queryset}
        for flag in targets.values():
            try:
                if flag.event is None:
                    moderation.flags_decide(report=flag.report, actor=actor, keep=keep)
                else:
                    moderation.comment_flags_decide(event=flag.event, actor=actor, keep=keep)
            except DomainError:
                refused += 1
            else:
                done += 1
        self.message_user(
            request,
            _("Decided: %(done)d. Could not be decided: %(refused)d.")
            % {"done": done, "refused": refused},
            messages.SUCCESS if not refused else messages.WARNING,
        )

    @admin.action(description=_("Keep visible (dismiss the flags)"), permissions=["view"])
    def keep_selected(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        self._decide(request, queryset, keep=True)

    @admin.action(description=_("Hide from the public (uphold the flags)"), permissions=["view"])
    def hide_selected(self, request: HttpRequest, queryset: QuerySet[Flag]) -> None:
        self._decide(request, queryset, keep=False)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    """How reports reach the city: administrators add channels (a new social network, a
    kiosk); the app's and Open311's are the system's own."""

    list_display = ["code", "name", "name_en", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["code", "name", "name_en"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.code in (Channel.APP, Channel.OPEN311, Channel.HOTLINE):
            return ["code"]
        return []
