"""Composing, publishing and withdrawing alerts in the admin, with the sending's progress.

Dispatchers and administrators hold the permissions (alerts/migrations/0002). A draft is
edited as a form; publishing and withdrawing are buttons (and list actions) that call
alerts.services, as everything else does. A published alert is read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.selectors import request_staff
from alerts import selectors, services
from alerts.models import Alert
from hues.errors import DomainError
from reports.models import Area


def _short_time(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else "—"


# Staff write dates the Vietnamese way (31/12/2026); the calendar fills in 2026-12-31.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]


class AlertForm(forms.ModelForm):
    class Meta:
        model = Alert
        fields = [
            "kind",
            "severity",
            "title_vi",
            "text_vi",
            "title_en",
            "text_en",
            "whole_city",
            "areas",
            "starts_at",
            "ends_at",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            field = self.fields.get(name)
            date_field = field.fields[0] if isinstance(field, forms.SplitDateTimeField) else None
            if isinstance(date_field, forms.DateField):
                date_field.input_formats = DATE_INPUT_FORMATS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        areas = data.get("areas")
        if "whole_city" in data and areas is not None:
            try:
                services.alert_check_audience(
                    whole_city=bool(data["whole_city"]), area_count=len(areas)
                )
            except DomainError as error:
                self.add_error("areas", str(error.message))
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The end must come after the start."))
        return data


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    form = AlertForm
    change_form_template = "admin/alerts/alert/change_form.html"
    change_list_template = "admin/alerts/alert/change_list.html"
    list_display = [
        "title_vi",
        "kind",
        "severity_badge",
        "where",
        "starts",
        "ends",
        "state",
        "progress",
    ]
    list_filter = ["state", "kind", "severity"]
    search_fields = ["title_vi", "title_en"]
    filter_horizontal = ["areas"]
    actions = ["publish_selected", "withdraw_selected"]
    fieldsets = [
        (None, {"fields": ["kind", "severity"]}),
        (_("Vietnamese"), {"fields": ["title_vi", "text_vi"]}),
        (_("English"), {"fields": ["title_en", "text_en"]}),
        (_("Where and when"), {"fields": ["whole_city", "areas", "starts_at", "ends_at"]}),
    ]
    sending_fields = [
        "state",
        "progress",
        "created_by",
        "published_by",
        "published_at",
        "withdrawn_by",
        "withdrawn_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        return selectors.alerts_for_admin()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.fieldsets
        return [*self.fieldsets, (_("Sending"), {"fields": self.sending_fields})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.sending_fields if obj is not None else []

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only a draft is edited: what was published is what citizens were told.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.state == Alert.State.DRAFT)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.state == Alert.State.DRAFT)

    def has_publish_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("alerts.publish_alert")

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        if db_field.name == "areas":
            # The boundaries (kilobytes of GeoJSON each) are not needed to choose an area.
            kwargs["queryset"] = Area.objects.defer("boundary").order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Alert, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request_staff(request)
        super().save_model(request, obj, form, change)

    # Columns

    @admin.display(description=_("severity"), ordering="severity")
    def severity_badge(self, alert: Alert) -> str:
        return format_html(
            '<span class="alert-severity alert-severity-{}">{}</span>',
            alert.severity,
            alert.get_severity_display(),
        )

    @admin.display(description=_("areas"))
    def where(self, alert: Alert) -> str:
        if alert.whole_city:
            return str(_("Whole city"))
        return ", ".join(area.name for area in alert.areas.all()) or "—"

    @admin.display(description=_("starts at"), ordering="starts_at")
    def starts(self, alert: Alert) -> str:
        return _short_time(alert.starts_at)

    @admin.display(description=_("ends at"), ordering="ends_at")
    def ends(self, alert: Alert) -> str:
        return _short_time(alert.ends_at)

    @admin.display(description=_("progress"))
    def progress(self, alert: Alert) -> str:
        if alert.state == Alert.State.DRAFT:
            return "—"
        if alert.selected_at is None:
            return str(_("Choosing the recipients…"))
        total = alert.recipients_total
        percent = round(100 * alert.notified_count / total) if total else 100
        return format_html(
            '<progress class="alert-progress" max="100" value="{}"></progress> {}',
            percent,
            _("%(notified)d of %(total)d notified, %(pushed)d pushed")
            % {"notified": alert.notified_count, "total": total, "pushed": alert.pushed_count},
        )

    # Publishing and withdrawing

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/act/<str:verb>/",
                self.admin_site.admin_view(self.confirm_view),
                name="alerts_alert_act",
            ),
            *super().get_urls(),
        ]

    VERBS = {"publish": _("Publish"), "withdraw": _("Withdraw")}

    def _verbs(self, request: HttpRequest, alert: Alert) -> list[str]:
        if not self.has_publish_permission(request):
            return []
        if alert.state == Alert.State.DRAFT:
            return ["publish"]
        if alert.state in (Alert.State.PUBLISHING, Alert.State.PUBLISHED):
            return ["withdraw"]
        return []

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        alert = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if alert is not None:
            extra["alert_actions"] = [
                (verb, self.VERBS[verb], reverse("admin:alerts_alert_act", args=[alert.pk, verb]))
                for verb in self._verbs(request, alert)
            ]
        return super().change_view(request, object_id, form_url, extra)

    def _perform(self, request: HttpRequest, alert: Alert, verb: str) -> Alert:
        if verb == "publish":
            return services.alert_publish(alert=alert, actor=request_staff(request))
        return services.alert_withdraw(alert=alert, actor=request_staff(request))

    def confirm_view(self, request: HttpRequest, object_id: str, verb: str) -> HttpResponse:
        """A confirmation page; on POST, publish or withdraw, and back to the alert."""
        alert = self.get_object(request, object_id)
        if alert is None or verb not in self.VERBS:
            raise Http404(_("No such alert."))
        if not self.has_publish_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:alerts_alert_change", args=[alert.pk])
        error = ""
        if request.method == "POST":
            try:
                self._perform(request, alert, verb)
            except DomainError as failure:
                error = str(failure.message)
            else:
                done = (
                    _("Published: the recipients are being told.")
                    if verb == "publish"
                    else _("Withdrawn: it is no longer shown and no one else is told.")
                )
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{self.VERBS[verb]} — {alert}",
            "opts": self.opts,
            "alert": alert,
            "verb": verb,
            "verb_label": self.VERBS[verb],
            "change_url": change_url,
            "error": error,
            # What publishing would reach, as the task will choose it (one COUNT).
            "recipients": selectors.alert_recipients(alert).count() if verb == "publish" else 0,
        }
        return TemplateResponse(request, "admin/alerts/alert/confirm.html", context)

    def _apply(self, request: HttpRequest, queryset: QuerySet[Alert], verb: str) -> None:
        done = refused = 0
        for alert in queryset:
            try:
                self._perform(request, alert, verb)
            except DomainError:
                refused += 1
            else:
                done += 1
        self.message_user(
            request,
            _("Done: %(done)d. Refused: %(refused)d.") % {"done": done, "refused": refused},
            messages.SUCCESS if not refused else messages.WARNING,
        )

    @admin.action(description=_("Publish the selected alerts"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        self._apply(request, queryset, "publish")

    @admin.action(description=_("Withdraw the selected alerts"), permissions=["publish"])
    def withdraw_selected(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        self._apply(request, queryset, "withdraw")
