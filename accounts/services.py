"""Use cases for accounts: registration, phone verification, profile, roles."""

from __future__ import annotations

import string
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.codes import CodeInvalid, phone_code_check, phone_code_create, phone_code_latest
from accounts.login_limits import login_lock_lift
from accounts.models import ADMIN_ROLES, AGENCY_ROLES, Device, PhoneCode, Role, TextMessage, User
from accounts.phones import InvalidPhoneNumber, is_mobile, normalize_phone
from accounts.sms_limits import phone_check_textable, sms_allow
from accounts.texts import text_queue
from accounts.tokens import session_end
from hues.city import current_city
from hues.errors import Conflict, InvalidInput, NotPermitted
from hues.languages import active_language


class RegistrationPending(Conflict):
    code = "registration_pending"
    message = gettext_lazy(
        "A code was texted to this number a few minutes ago. Enter it, ask for a new one, or "
        "register again once it has expired."
    )


class RoleInvalid(InvalidInput):
    code = "invalid_role"


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(
            " ".join(error.messages), code="invalid_password", field="password"
        ) from error


def _textable_mobile(raw_phone: str) -> str:
    """The number in E.164, if it can get a text: a mobile number of an allowed country."""
    phone = normalize_phone(raw_phone)
    if not is_mobile(phone):
        raise InvalidPhoneNumber(
            gettext_lazy("Use a mobile number: the code is sent by SMS."), field="phone"
        )
    phone_check_textable(phone)
    return phone


def _last_registration_text(phone: str) -> TextMessage | None:
    """The latest text a registration caused for the number: a code, or a notice to the
    account's owner."""
    # A text asked for by number alone (a new code) has a user only once the worker found a
    # registration waiting: asking for codes to a number does not hold its registration up.
    return (
        TextMessage.objects.filter(
            phone=phone,
            kind__in=[TextMessage.Kind.VERIFICATION, TextMessage.Kind.NOTICE],
            user__isnull=False,
        )
        .order_by("-created_at")
        .first()
    )


def _pending_until(user: User | None, phone: str) -> int | None:
    """Seconds until the number may register again, if a registration of it is waiting for
    its code (or its owner was told of one) less than a code's lifetime ago."""
    now = timezone.now()
    last = _last_registration_text(phone)
    ends = [last.created_at + settings.VERIFICATION_CODE_TTL] if last else []
    if user is not None:
        code = phone_code_latest(user=user, purpose=PhoneCode.Purpose.VERIFY)
        if code is not None and code.used_at is None:
            ends.append(code.expires_at)
    end = max(ends, default=now)
    return int((end - now).total_seconds()) + 1 if end > now else None


def user_register(
    *,
    phone: str,
    password: str,
    full_name: str,
    language: str | None = None,
    client: str = "",
) -> str:
    """Register a citizen and text them a code; returns the number in E.164.

    The answer is the same whether or not the number has an account (nothing tells who is
    registered): for an account's number the password is hashed all the same, nothing of the
    account changes, and its owner gets a text saying that someone tried to register it.

    A registration waiting for its code is never overwritten: while its code lives (or a
    code or notice went to the number less than a code's lifetime ago), another registration
    of the number is refused with `registration_pending` until it expires; its owner may ask
    for a new code (`phone_code_resend`) or prove possession by a password reset. An expired
    registration that was never verified is replaced. Only mobile numbers of the allowed
    countries register, within the SMS limits (`client` is the caller's client key).
    """
    phone = _textable_mobile(phone)
    # Checked against the account being made, never an existing one's name or email.
    _check_password(password, User(phone=phone, full_name=full_name))
    hashed = make_password(password)  # for every number alike: the time tells nothing
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(phone=phone).first()
            pending = _pending_until(user, phone)
            if pending is not None:
                raise RegistrationPending(field="phone", retry_after=pending)
            is_pending = user is not None and (
                not user.is_verified and user.role == Role.CITIZEN and user.is_active
            )
            if user is not None and not is_pending:
                sms_allow(phone=phone, kind=TextMessage.Kind.NOTICE, client=client)
                with translation.override(user.language or settings.LANGUAGE_CODE):
                    notice = _(
                        "%(app)s: someone tried to register a new account with this number. "
                        "If it was you, sign in, or reset your password in the app."
                    ) % {"app": current_city().app_name}
                text_queue(
                    kind=TextMessage.Kind.NOTICE, phone=phone, user=user, body=notice, client=client
                )
                return phone
            sms_allow(phone=phone, kind=TextMessage.Kind.VERIFICATION, client=client)
            if user is None:
                user = User(phone=phone, role=Role.CITIZEN)
            user.full_name = full_name.strip()
            user.language = language or active_language()
            user.password = hashed
            user.save()
            user_set_role(user=user, role=Role.CITIZEN, agency=None)
            code = phone_code_create(
                user=user, purpose=PhoneCode.Purpose.VERIFY, requested_by=client
            )
            text_queue(
                kind=TextMessage.Kind.VERIFICATION,
                phone=phone,
                user=user,
                phone_code=code,
                client=client,
            )
    except IntegrityError as error:
        # Two registrations of the same new number at once: the second one waits.
        raise RegistrationPending(field="phone") from error
    return phone


def phone_code_resend(*, phone: str, client: str = "") -> None:
    """Text a new code to a registration waiting for one (the previous code stops working).

    The request does the same work for every number (counted by the SMS limits, one outbox
    row, one task); the worker finds the registration, or skips the text when there is none
    or a code went out less than a minute ago.
    """
    phone = _textable_mobile(phone)
    sms_allow(phone=phone, kind=TextMessage.Kind.VERIFICATION, client=client)
    text_queue(kind=TextMessage.Kind.VERIFICATION, phone=phone, client=client)


def user_verify_phone(*, phone: str, code: str, client: str = "") -> User:
    """Mark the phone verified when the code texted to it is right.

    The code is checked even when the phone is already verified: the answer carries the
    user's profile, so it must never be given for a phone number alone.
    """
    phone = normalize_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise CodeInvalid(field="code")
    phone_code_check(user=user, purpose=PhoneCode.Purpose.VERIFY, code=code, client=client)
    if not user.is_verified:
        user.phone_verified_at = timezone.now()
        user.save(update_fields=["phone_verified_at"])
    return user


def user_set_role(*, user: User, role: str, agency: Any | None) -> User:
    """Give the user one role: its group, admin-site access, and its agency if it has one."""
    if role not in Role.values:
        raise RoleInvalid(_("Unknown role."), field="role")
    if role in AGENCY_ROLES and agency is None:
        raise RoleInvalid(_("Staff and managers belong to an agency."), field="agency")
    user.role = role
    user.agency = agency if role in AGENCY_ROLES else None
    user.is_staff = role in ADMIN_ROLES
    user.save(update_fields=["role", "agency", "is_staff"])
    user.groups.set([Group.objects.get(name=role)])
    return user


def user_update_profile(*, user: User, **fields: Any) -> User:
    """Change what a user may change about themselves: name, email, home area, language."""
    allowed = {"full_name", "email", "home_area", "language"}
    for name, value in fields.items():
        if name not in allowed:
            raise InvalidInput(field=name)
        setattr(user, name, value.strip() if isinstance(value, str) else value)
    if fields:
        user.save(update_fields=list(fields))
    return user


# Password reset by a texted code, and account deletion.


def user_sessions_end(*, user: User) -> None:
    """End every session of the user at once ("log out everywhere"; a password reset and
    the deletion of the account do it too): the token generation moves on, so every access
    token issued before is refused from the next request, and every unexpired refresh token
    is blacklisted."""
    User.objects.filter(pk=user.pk).update(token_generation=F("token_generation") + 1)
    user.refresh_from_db(fields=["token_generation"])
    outstanding = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


class RefreshTokenInvalid(InvalidInput):
    code = "token_not_valid"
    message = gettext_lazy("The refresh token is invalid or expired.")


def user_logout(*, user: User, refresh: str) -> None:
    """End one session of the user: its refresh token is blacklisted, and the access tokens
    issued with it (and with its rotations) are refused at once (accounts.tokens). A token
    of another user, or one that no longer works, is refused."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # a string is what it decodes
        if str(token.get("user_id")) != str(user.pk):
            raise TokenError
        token.blacklist()
    except TokenError as error:
        raise RefreshTokenInvalid(field="refresh") from error
    session_end(token)


def user_password_reset_request(*, phone: str, client: str = "") -> None:
    """Text a 6-digit reset code to the active account with this phone, if there is one.

    Nothing tells the caller what happened, neither the answer nor its time: the request
    does the same work for every number (counted by the SMS limits, one outbox row, one
    task), and the worker finds the account, or skips the text when there is none or a code
    went out less than a minute ago.
    """
    phone = normalize_phone(phone)
    sms_allow(phone=phone, kind=TextMessage.Kind.RESET, client=client)
    text_queue(kind=TextMessage.Kind.RESET, phone=phone, client=client)


def user_password_reset_confirm(
    *, phone: str, code: str, new_password: str, client: str = ""
) -> User:
    """Set a new password with the code from user_password_reset_request, and sign the user
    out everywhere (user_sessions_end). The code proves the phone is theirs:
    a registration still waiting for its code is verified by it.

    It lifts a lock of the account's sign-ins (accounts.login_limits), and the client that
    reset the password may sign in at once. An unknown phone and every refused code answer
    `invalid_code` (wrong codes still count), and the password rules are checked first in
    every case, so the answers reveal nothing about which numbers have accounts.
    """
    phone = normalize_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    try:
        _check_password(new_password, user or User(phone=phone))
    except InvalidInput as error:
        error.field = "new_password"
        raise
    if user is None:
        raise CodeInvalid(field="code")
    phone_code_check(user=user, purpose=PhoneCode.Purpose.RESET, code=code, client=client)
    if client:
        # The code proves the phone is theirs: a lock on its sign-ins goes.
        login_lock_lift(phone=phone, client=client)
    with transaction.atomic():
        user.set_password(new_password)
        user.phone_verified_at = user.phone_verified_at or timezone.now()
        user.save(update_fields=["password", "phone_verified_at"])
        user_sessions_end(user=user)
    return user


class AccountManagedByCity(NotPermitted):
    code = "account_managed_by_city"
    message = gettext_lazy(
        "Accounts of the city's staff are closed by the administrators, not from the app."
    )


# What a deleted account keeps as its name (the same in every language, as it is stored).
DELETED_USER_NAME = "Tài khoản đã xoá"


def _deleted_phone(user_id: int) -> str:
    """A unique stand-in for a deleted account's phone: "del-" and the id in letters (at
    most 18 characters for any 64-bit id). With no digit and no "+" it never parses as a
    phone number, so it can neither receive a text nor sign in nor collide with a number."""
    letters = ""
    while True:
        user_id, digit = divmod(user_id, 26)
        letters = string.ascii_lowercase[digit] + letters
        if user_id == 0:
            return f"del-{letters}"


def user_delete_account(*, user: User) -> User:
    """Delete one's own account: deactivate and anonymise it.

    The name, email, phone, home area and password go, and so do the user's devices, codes
    and sessions (user_sessions_end; access tokens of an inactive user are refused too).
    Their reports stay for the city's record, with the reporter's name hidden. The phone
    number is free to register again. Staff accounts are the administrators' to close: the
    work done under them stays attributed.
    """
    if user.is_staff or user.is_superuser or user.role in ADMIN_ROLES:
        raise AccountManagedByCity()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.deleted_at is not None:
            return user
        user.full_name = DELETED_USER_NAME
        user.email = ""
        user.phone = _deleted_phone(user.pk)
        user.home_area = None
        user.set_unusable_password()
        user.is_active = False
        user.deleted_at = timezone.now()
        user.save(
            update_fields=[
                "full_name",
                "email",
                "phone",
                "home_area",
                "password",
                "is_active",
                "deleted_at",
            ]
        )
        Device.objects.filter(user=user).delete()
        PhoneCode.objects.filter(user=user).delete()
        # The outbox keeps the texts for the counts, with the number masked.
        for text in TextMessage.objects.filter(user=user).only("phone"):
            TextMessage.objects.filter(pk=text.pk).update(phone=text.masked_phone, body="")
        # A new updated_at changes the reports' ETags: no client keeps showing the name.
        user.reports.update(hide_name=True, updated_at=user.deleted_at)
        user_sessions_end(user=user)
    return user
