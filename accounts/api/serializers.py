"""Input and output shapes of the accounts API. Serializers never write."""

from __future__ import annotations

import contextlib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken, Token

from accounts.models import Device, User
from accounts.phones import InvalidPhoneNumber, normalize_phone
from accounts.tokens import session_tokens, token_check


class PhoneField(serializers.CharField):
    """Accepts 0905... or +84905..., yields E.164."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return normalize_phone(text)
        except InvalidPhoneNumber as error:
            raise serializers.ValidationError(str(error.message), code=error.code) from error


class RegisterInput(serializers.Serializer):
    phone = PhoneField()
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    full_name = serializers.CharField(max_length=150)
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text=_(
            "The language the account is written to in (notifications, alerts, codes); by "
            "default the request's language (Accept-Language), else Vietnamese."
        ),
    )


class RegisterOutput(serializers.Serializer):
    phone = serializers.CharField(
        help_text=_("The number the code was texted to, masked: +8490****456.")
    )
    is_verified = serializers.BooleanField(help_text=_("Always false: the code is to come."))
    detail = serializers.CharField()


class CodeResendInput(serializers.Serializer):
    phone = PhoneField()


class DeliveryReportInput(serializers.Serializer):
    """A gateway's delivery report on a text (Kannel's dlr-url, or a provider's callback)."""

    id = serializers.CharField(max_length=20)
    token = serializers.CharField(max_length=64)
    type = serializers.CharField(
        max_length=20,
        help_text=_(
            "Kannel's report type (1, 2, 4, 8, 16) or its name: delivered, undelivered, "
            "buffered, accepted, rejected."
        ),
    )
    answer = serializers.CharField(max_length=500, required=False, allow_blank=True)
    foreign = serializers.CharField(max_length=100, required=False, allow_blank=True)


class VerifyInput(serializers.Serializer):
    phone = PhoneField()
    code = serializers.RegexField(
        r"^\d{6}$", error_messages={"invalid": _("The code has 6 digits.")}
    )


class LogoutInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000)


class TokenInput(TokenObtainPairSerializer):
    """Phone (either form) and password -> access and refresh tokens of a new session."""

    @classmethod
    def get_token(cls, user: Any) -> Token:
        return session_tokens(user)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        # A malformed number is left as typed: authentication fails with the usual message.
        with contextlib.suppress(InvalidPhoneNumber):
            attrs[self.username_field] = normalize_phone(attrs[self.username_field])
        return super().validate(attrs)


class TokenRefreshInput(TokenRefreshSerializer):
    """Refresh -> access and a rotated refresh; a deleted user's token is refused, not a 500."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            refresh = RefreshToken(attrs["refresh"])
            user = User.objects.filter(pk=refresh.get("user_id")).first()
            if user is not None:
                token_check(refresh, user)  # its session may have ended
            return super().validate(attrs)
        except User.DoesNotExist as error:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from error


class TokenOutput(serializers.Serializer):
    access = serializers.CharField(
        help_text=_("A short-lived access token: send it as Authorization: Bearer <access>.")
    )
    refresh = serializers.CharField(
        help_text=_("A refresh token; each refresh answers with a new one, and revokes the old.")
    )


class MeOutput(serializers.ModelSerializer):
    # Not an EmailField: an account without an email answers "", which is no email address.
    email = serializers.CharField(
        read_only=True, help_text=_("The email address; empty when none was given.")
    )
    is_verified = serializers.BooleanField(read_only=True)
    home_area: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    agency: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = User
        fields = [
            "phone",
            "full_name",
            "email",
            "role",
            "is_verified",
            "home_area",
            "language",
            "agency",
            "date_joined",
        ]
        read_only_fields = fields


@extend_schema_field({"type": "string", "minLength": 1, "title": capfirst(_("official code"))})
class AreaCodeField(serializers.SlugRelatedField):
    """An area by its official code. The area model belongs to the reports app, above
    accounts: it is looked up by name, never imported."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return apps.get_model("reports", "Area").objects.all()


class MeUpdateInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    home_area = AreaCodeField(required=False, allow_null=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


class DeviceInput(serializers.Serializer):
    token = serializers.RegexField(
        r"^\S+$",
        max_length=512,
        help_text=_("The push token the app got from Firebase Cloud Messaging."),
        error_messages={"invalid": _("A push token has no spaces.")},
    )
    platform = serializers.ChoiceField(choices=Device.Platform.choices)


class DeviceOutput(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["token", "platform", "created_at", "last_seen_at"]
        read_only_fields = fields


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class PasswordResetInput(serializers.Serializer):
    phone = PhoneField()


class PasswordResetConfirmInput(serializers.Serializer):
    phone = PhoneField()
    code = serializers.RegexField(
        r"^\d{6}$", error_messages={"invalid": _("The code has 6 digits.")}
    )
    new_password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
