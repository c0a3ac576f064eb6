"""Open311 API keys, for administrators; what Open311 clients filed, read-only.

A key is shown once, on the page that follows its creation; only its hash is stored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext_lazy as _

from hues.errors import DomainError
from open311 import services
from open311.models import ApiKey, Submission

# Where save_model leaves the new key for response_add, on the request that created it.
ISSUED_KEY = "open311_issued_key"
SUBMISSION_FIELDS = (
    "report",
    "api_key",
    "created_at",
    "first_name",
    "last_name",
    "email",
    "phone",
    "media_url",
)


class ApiKeyCreateForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "user"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].required = False
        self.fields["user"].help_text = _(
            "Leave empty to create a service account for this client; to replace a key, choose "
            "the service account of the old one."
        )

    def clean_user(self) -> Any:
        user = self.cleaned_data.get("user")
        if user is not None:
            try:
                services.service_account_check(user)
            except DomainError as error:
                raise forms.ValidationError(str(error.message)) from error
        return user


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "is_active", "created_at", "last_used_at"]
    list_filter = ["is_active"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix"]
    raw_id_fields = ["user"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ["name", "user"]
        return ["name", "is_active", "prefix", "user", "created_at", "last_used_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        return [] if obj is None else ["prefix", "user", "created_at", "last_used_at"]

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = services.api_key_create(
            name=form.cleaned_data["name"], user=form.cleaned_data.get("user")
        )
        obj.pk = issued.api_key.pk
        obj.refresh_from_db()
        setattr(request, ISSUED_KEY, issued.key)

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None
    ) -> HttpResponse:
        key = getattr(request, ISSUED_KEY, None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Open311 API key issued"),
            "api_key": obj,
            "key": key,
        }
        response = TemplateResponse(request, "admin/open311/apikey/issued.html", context)
        # The key must not stay in any cache.
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True)
        return response


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """The contact details an Open311 client sent with a report: for the city's staff only."""

    list_display = ["report", "api_key", "created_at"]
    list_select_related = ["report", "api_key"]
    search_fields = ["report__reference"]
    fields = SUBMISSION_FIELDS
    readonly_fields = SUBMISSION_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
