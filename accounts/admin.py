"""Users in the admin: administrators manage people and their roles; managers see their
agency's staff. A role change goes through accounts.services.user_set_role."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.backends import login_refusal
from accounts.models import AGENCY_ROLES, PhoneCode, Role, TextMessage, User
from accounts.phones import InvalidPhoneNumber, normalize_phone
from accounts.selectors import request_user
from accounts.services import user_sessions_end, user_set_role
from accounts.texts import text_counts


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in: a refusal of the login limits (accounts.login_limits) says why,
    instead of "wrong phone or password"."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            refusal = login_refusal(self.request)
            if refusal is not None:
                raise forms.ValidationError(str(refusal.message), code=refusal.code) from None
            raise


class PhoneFormMixin:
    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])  # type: ignore[attr-defined]
        except InvalidPhoneNumber as error:
            raise forms.ValidationError(str(error.message), code=error.code) from error

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        if data.get("role") in AGENCY_ROLES and not data.get("agency"):
            self.add_error("agency", _("Staff and managers belong to an agency."))  # type: ignore[attr-defined]
        return data


class UserCreateForm(PhoneFormMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("phone", "full_name", "email", "role", "agency")


class UserEditForm(PhoneFormMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    list_display = [
        "phone",
        "full_name",
        "role",
        "agency",
        "is_verified",
        "is_active",
        "date_joined",
    ]
    list_filter = ["role", "is_active", ("agency", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["agency"]
    search_fields = ["phone", "full_name", "email"]
    ordering = ["-date_joined"]
    autocomplete_fields = ["agency", "home_area"]
    readonly_fields = ["phone_verified_at", "last_login", "date_joined", "groups_display"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (_("Person"), {"fields": ["full_name", "email", "home_area", "language"]}),
        (_("Role"), {"fields": ["role", "agency", "groups_display", "is_active"]}),
        (_("Dates"), {"fields": ["phone_verified_at", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "phone",
                    "full_name",
                    "email",
                    "role",
                    "agency",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request)
        viewer = request_user(request)
        if viewer is None:
            return users.none()
        if viewer.is_superuser or viewer.role in (Role.ADMINISTRATOR, Role.DISPATCHER):
            return users
        if viewer.role == Role.MANAGER and viewer.agency_id:
            return users.filter(agency_id=viewer.agency_id)
        return users.none()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.is_superuser:
            return [*fieldsets, (_("Superuser"), {"fields": ["is_superuser"]})]
        return fieldsets

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """A password an administrator sets ends the user's sessions in the app at once, as
        the user's own password reset does."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == HTTPStatus.FOUND:
            user = self.get_object(request, unquote(id))
            if user is not None:
                user_sessions_end(user=user)
        return response

    @admin.display(description=_("verified"), boolean=True)
    def is_verified(self, user: User) -> bool:
        return user.is_verified

    @admin.display(description=_("groups"))
    def groups_display(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "—"

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            # People created by an administrator are known to them: their phone counts as
            # verified.
            from django.utils import timezone

            obj.phone_verified_at = obj.phone_verified_at or timezone.now()
        super().save_model(request, obj, form, change)
        user_set_role(user=obj, role=obj.role, agency=obj.agency)


@admin.register(PhoneCode)
class PhoneCodeAdmin(admin.ModelAdmin):
    """Read-only: to help a citizen who says no code arrived (no code is stored: its nonce
    is not shown)."""

    list_display = ["user", "purpose", "created_at", "expires_at", "attempts", "used_at"]
    list_select_related = ["user"]
    search_fields = ["user__phone"]
    fields = readonly_fields = (
        "user",
        "purpose",
        "created_at",
        "expires_at",
        "attempts",
        "used_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TextMessage)
class TextMessageAdmin(admin.ModelAdmin):
    """Read-only: every text the service sent or tried to, and what became of it; with
    today's counts against the daily budget above the list. Administrators see it."""

    list_display = [
        "created_at",
        "kind",
        "masked_phone",
        "state",
        "attempts",
        "delivery_status",
        "sent_at",
    ]
    list_filter = ["kind", "state", "delivery_status"]
    search_fields = ["=phone"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "kind",
        "state",
        "masked_phone",
        "body",
        "attempts",
        "gateway_id",
        "delivery_status",
        "last_error",
        "created_at",
        "expires_at",
        "sent_at",
        "reported_at",
    )

    @admin.display(description=_("phone number"))
    def masked_phone(self, text: TextMessage) -> str:
        return text.masked_phone

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        counts = text_counts()
        refused = sum(outcomes["refused"] for outcomes in counts.by_kind.values())
        summary = _(
            "Today: %(used)d text messages of the daily budget of %(budget)d; %(refused)d "
            "refused by the limits."
        ) % {"used": counts.queued_total, "budget": counts.budget, "refused": refused}
        level = messages.ERROR if counts.budget_left == 0 else messages.INFO
        messages.add_message(request, level, summary)
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
