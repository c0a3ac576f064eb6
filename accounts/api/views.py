"""Accounts API: registration, verification, tokens, logout and the user's profile."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import devices, services, texts
from accounts.api.serializers import (
    CodeResendInput,
    DeliveryReportInput,
    DetailOutput,
    DeviceInput,
    DeviceOutput,
    LogoutInput,
    MeOutput,
    MeUpdateInput,
    PasswordResetConfirmInput,
    PasswordResetInput,
    RegisterInput,
    RegisterOutput,
    TokenInput,
    TokenOutput,
    TokenRefreshInput,
    VerifyInput,
)
from accounts.backends import login_refusal
from accounts.models import User
from accounts.phones import mask_phone
from accounts.selectors import request_user
from accounts.sms_limits import client_key
from accounts.throttling import PhoneThrottle
from accounts.tokens import refresh_token_user
from hues.addresses import client_address
from hues.api_schema import error_response
from hues.errors import TooManyRequests
from hues.throttling import IPThrottle, UserThrottle, count_as_user


def _client(request: Request) -> str:
    """The caller as the SMS limits and the code checks count it: its address, hashed."""
    return client_key(client_address(request))


# What the operations that text a code may answer besides success.
SMS_REFUSALS = {
    400: error_response(
        "`invalid` (fields); `invalid_phone`: not a mobile number; `phone_not_allowed`: the "
        "number's country gets no texts (SMS_ALLOWED_COUNTRIES)."
    ),
    429: error_response(
        "`throttled`: too many requests; `sms_limit`: too many texts for this number, its "
        "block of numbers or this network (the SMS limits); see Retry-After."
    ),
    503: error_response(
        "`sms_unavailable`: the hourly or daily SMS budget is spent, no text goes out until "
        "Retry-After; `service_unavailable`: the database is away for a moment."
    ),
}


def _per_phone_and_address(*scopes: str) -> list[BaseThrottle]:
    """For each scope: a limit per phone number named, and one per client address."""
    return [
        throttle
        for scope in scopes
        for throttle in (PhoneThrottle(scope), IPThrottle(f"{scope}_ip"))
    ]


class AuthViewSet(viewsets.GenericViewSet):
    permission_classes = [AllowAny]

    def get_throttles(self) -> list[BaseThrottle]:
        """Registration, a new code and password reset text a code: they count as code
        sending too. Checking a code is limited per address only: wrong codes are counted per
        code and client (accounts.codes), so that naming someone's number cannot lock them
        out. Signing out is limited per user only: many people may share one carrier-grade NAT
        address."""
        if self.action == "register":
            return _per_phone_and_address("register", "code_send")
        if self.action in ("password_reset", "code_resend"):
            return _per_phone_and_address("code_send")
        if self.action in ("logout", "logout_all"):
            return [UserThrottle("auth")]
        return [IPThrottle("auth_ip")]

    @extend_schema(
        summary="Register",
        description=(
            "Registers a citizen and texts a 6-digit code to the phone. The answer is the same "
            "whether or not the number has an account: an account's owner is texted that "
            "someone tried to register their number, and nothing of the account changes. A "
            "registration waiting for its code is never replaced: another one for the number "
            "answers 409 until the code expires (10 minutes)."
        ),
        request=RegisterInput,
        responses={
            201: RegisterOutput,
            **SMS_REFUSALS,
            400: error_response(
                "`invalid` (fields); `invalid_password` (the password rules); `invalid_phone`: "
                "not a mobile number; `phone_not_allowed`: the number's country gets no texts."
            ),
            409: error_response(
                "`registration_pending`: a code went to this number less than 10 minutes ago; "
                "enter it, ask for a new one (`auth/verify/resend`), or retry after "
                "Retry-After."
            ),
        },
    )
    @action(detail=False, methods=["post"])
    def register(self, request: Request) -> Response:
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone = services.user_register(**data.validated_data, client=_client(request))
        body = {
            "phone": mask_phone(phone),
            "is_verified": False,
            "detail": _("We sent a 6-digit code to your phone."),
        }
        return Response(RegisterOutput(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Verify the phone with its code",
        description=(
            "Every refusal answers `invalid_code`: a wrong, expired or used code, an unknown "
            "number, or too many wrong codes from this address (each address has five per code, "
            "and waits a few seconds between the later ones). Ask for a new code then."
        ),
        request=VerifyInput,
        responses={
            200: MeOutput,
            400: error_response("`invalid` (fields); `invalid_code`: the code is refused."),
        },
    )
    @action(detail=False, methods=["post"])
    def verify(self, request: Request) -> Response:
        data = VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_verify_phone(**data.validated_data, client=_client(request))
        return Response(MeOutput(user).data)

    @extend_schema(
        summary="Ask for a new verification code",
        description=(
            "Texts a new 6-digit code to a registration waiting for one; the previous code "
            "stops working. The answer is the same for every number; a number gets at most "
            "one code a minute."
        ),
        request=CodeResendInput,
        responses={202: DetailOutput, **SMS_REFUSALS},
    )
    @action(detail=False, methods=["post"], url_path="verify/resend", url_name="verify-resend")
    def code_resend(self, request: Request) -> Response:
        data = CodeResendInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.phone_code_resend(**data.validated_data, client=_client(request))
        body = {"detail": _("If a registration waits for this number, we sent it a new code.")}
        return Response(DetailOutput(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Sign out of this session",
        description=(
            "Ends the session of the refresh token: it is revoked, and the access tokens "
            "issued with it stop working at once."
        ),
        request=LogoutInput,
        responses={
            204: None,
            400: error_response(
                "`invalid` (fields); `token_not_valid`: the refresh token is not one of yours "
                "that still works."
            ),
        },
    )
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])
    def logout(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_logout(user=_me(request), refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Sign out everywhere",
        description=(
            "Ends every session of the account, on every device, this one included: every "
            "refresh token is revoked and every access token stops working at once."
        ),
        request=None,
        responses={204: None},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="logout/all",
        url_name="logout-all",
        permission_classes=[IsAuthenticated],
    )
    def logout_all(self, request: Request) -> Response:
        services.user_sessions_end(user=_me(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Ask for a password reset code",
        description=(
            "Texts a 6-digit code to the phone if an active account uses it. The answer, and "
            "the work behind it, are the same whether or not there is one; a phone gets at "
            "most one code a minute, and the SMS limits count every request."
        ),
        request=PasswordResetInput,
        responses={202: DetailOutput, **SMS_REFUSALS},
    )
    @action(detail=False, methods=["post"], url_path="password/reset", url_name="password-reset")
    def password_reset(self, request: Request) -> Response:
        data = PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_password_reset_request(**data.validated_data, client=_client(request))
        body = {"detail": _("If an account uses this number, we sent a 6-digit code to it.")}
        return Response(DetailOutput(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Set a new password with the code",
        description=(
            "Sets the new password and signs the user out everywhere: every refresh token is "
            "revoked. An unknown phone answers like a wrong code."
        ),
        request=PasswordResetConfirmInput,
        responses={
            200: DetailOutput,
            400: error_response(
                "`invalid` (fields), `invalid_password` (the password rules), "
                "`invalid_code` (wrong, expired or used code, or too many wrong codes)."
            ),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="password/reset/confirm",
        url_name="password-reset-confirm",
    )
    def password_reset_confirm(self, request: Request) -> Response:
        data = PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_password_reset_confirm(**data.validated_data, client=_client(request))
        body = {"detail": _("Your password was changed. Sign in with the new password.")}
        return Response(DetailOutput(body).data)


class LoginLockedOut(TooManyRequests):
    code = "login_locked"

    def __init__(self) -> None:
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        super().__init__(
            _("Too many failed logins for this phone number. Try again in %(minutes)d minutes.")
            % {"minutes": minutes}
        )


class TokenView(TokenObtainPairView):
    serializer_class = TokenInput

    def get_throttles(self) -> list[BaseThrottle]:
        """Per address only: a limit per phone number from any address let anyone keep the
        number's owner out; the login limits per account (accounts.login_limits) slow those
        who guess without holding the owner up."""
        return [IPThrottle("login_ip")]

    @extend_schema(
        summary="Sign in",
        description=(
            "After a few wrong passwords for a phone from one address, that address waits "
            "before its next try (`login_wait`). After many from anywhere, the phone signs in "
            "only from devices that signed in to it before (`account_locked`) until the lock "
            "ends or its owner resets the password with a texted code."
        ),
        responses={
            200: TokenOutput,
            401: error_response(
                "`no_active_account`: a wrong phone or password, or an inactive account."
            ),
            429: error_response(
                "`throttled`: too many requests; `login_wait`: wait Retry-After seconds "
                "before the next try for this phone; `account_locked`: this phone signs in "
                "only from a device that signed in before, or after a password reset; "
                "`login_locked`: too many failed logins for this phone from this address."
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            refusal = login_refusal(request)
            if refusal is not None:
                raise refusal from None
            # django-axes marks the request it was given (DRF's) when the phone is locked out.
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut() from None
            raise


@extend_schema_view(
    post=extend_schema(
        summary="Refresh the access token",
        responses={
            200: TokenOutput,
            401: error_response(
                "`token_not_valid`: the refresh token is malformed, expired or revoked; "
                "`no_active_account`: its account is gone or inactive."
            ),
        },
    )
)
class TokenRefresh(TokenRefreshView):
    """Counted per user, as the user's other requests (the API-wide limit): every signed-in
    app refreshes every few minutes, and many may share one carrier-grade NAT address. A
    token that is not ours counts for its address, as any anonymous request."""

    serializer_class = TokenRefreshInput

    def check_throttles(self, request: Request) -> None:
        data = request.data
        user_id = refresh_token_user(data.get("refresh") if isinstance(data, dict) else None)
        if user_id is not None:
            count_as_user(request, user_id)
        super().check_throttles(request)


def _me(request: Request) -> User:
    user = request_user(request)
    if user is None:
        raise NotAuthenticated()
    return user


class MeViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = MeOutput

    def retrieve(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)

    @extend_schema(request=MeUpdateInput, responses={200: MeOutput})
    def partial_update(self, request: Request) -> Response:
        data = MeUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=_me(request), **data.validated_data)
        return Response(MeOutput(user).data)

    @extend_schema(
        summary="Delete my account",
        description=(
            "Deactivates and anonymises the account: name, email, phone and password are "
            "removed, push devices forgotten and every session ended. Reports stay, without "
            "the reporter's name. The phone number may register again."
        ),
        request=None,
        responses={
            204: None,
            403: error_response("`account_managed_by_city`: staff accounts are closed by admins."),
        },
    )
    def destroy(self, request: Request) -> Response:
        services.user_delete_account(user=_me(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceViewSet(viewsets.GenericViewSet):
    """The app's push token: registered after sign-in, forgotten at sign-out."""

    permission_classes = [IsAuthenticated]
    serializer_class = DeviceOutput

    @extend_schema(
        summary="Register a push token",
        description=(
            "Registers the app's push token, or refreshes it when it is known (200). A token "
            "another account registered moves to the caller."
        ),
        request=DeviceInput,
        responses={201: DeviceOutput, 200: DeviceOutput},
    )
    def create(self, request: Request) -> Response:
        data = DeviceInput(data=request.data)
        data.is_valid(raise_exception=True)
        device, created = devices.device_register(user=_me(request), **data.validated_data)
        return Response(
            DeviceOutput(device).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Forget a push token",
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={204: None},
    )
    def destroy(self, request: Request, token: str) -> Response:
        devices.device_forget(user=_me(request), token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(exclude=True)
class DeliveryReportView(APIView):
    """The SMS gateway's delivery reports (Kannel's dlr-url, GET; or a provider's callback,
    GET or POST): recorded on the text whose signed URL the gateway was given. Not for the
    app: no token, no throttle (one gateway reports on every text). An answer other than 200
    (the database away a moment) makes smsbox ask again (its http-request-retry)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        return self._record(request.query_params)

    def post(self, request: Request) -> Response:
        data = request.data
        if isinstance(data, QueryDict):  # a form
            data = data.dict()
        body = data if isinstance(data, dict) else {}
        return self._record({**request.query_params.dict(), **body})

    def _record(self, values: Any) -> Response:
        data = DeliveryReportInput(data=values)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        texts.text_record_report(
            text_id=fields["id"],
            token=fields["token"],
            status=fields["type"],
            answer=fields.get("answer", ""),
            gateway_id=fields.get("foreign", ""),
        )
        # 200, not 204: smsbox takes any other answer for a failure, and asks again.
        return Response(DetailOutput({"detail": "recorded"}).data)
