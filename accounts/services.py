"""Use cases for accounts: registration, phone verification, profile, roles."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import string
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import ADMIN_ROLES, AGENCY_ROLES, Device, PhoneCode, Role, User
from accounts.phones import InvalidPhoneNumber, is_mobile, normalize_phone
from hues.city import current_city
from hues.errors import InvalidInput, NotPermitted, TooManyRequests
from hues.languages import active_language
from hues.scheduling import enqueue_on_commit


class PhoneTaken(InvalidInput):
    code = "phone_taken"
    message = gettext_lazy("An account with this phone number already exists.")


class CodeInvalid(InvalidInput):
    code = "invalid_code"
    message = gettext_lazy("The code is wrong or has expired. Ask for a new code.")


class CodeAttemptsExceeded(TooManyRequests):
    code = "too_many_attempts"
    message = gettext_lazy("Too many wrong codes. Ask for a new code.")


class CodeRecentlySent(TooManyRequests):
    code = "code_recently_sent"
    message = gettext_lazy("A code was sent a moment ago. Wait a minute before asking again.")


class RoleInvalid(InvalidInput):
    code = "invalid_role"


def _hash_code(user_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(
            " ".join(error.messages), code="invalid_password", field="password"
        ) from error


def phone_code_send(*, user: User, purpose: str) -> None:
    """Send a new 6-digit code by SMS; at most one per phone and purpose a minute."""
    now = timezone.now()
    last = PhoneCode.objects.filter(user=user, purpose=purpose).order_by("-created_at").first()
    if last and now - last.created_at < settings.VERIFICATION_CODE_RESEND_INTERVAL:
        raise CodeRecentlySent()
    code = f"{secrets.randbelow(1_000_000):06d}"
    PhoneCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
    PhoneCode.objects.create(
        user=user,
        purpose=purpose,
        code_hash=_hash_code(user.pk, code),
        created_at=now,
        expires_at=now + settings.VERIFICATION_CODE_TTL,
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = _("%(app)s: your code is %(code)s. It is valid for %(minutes)d minutes.") % {
            "app": current_city().app_name,
            "code": code,
            "minutes": int(settings.VERIFICATION_CODE_TTL.total_seconds() // 60),
        }
    enqueue_on_commit("accounts.send_sms", user.phone, text)


def phone_code_check(*, user: User, purpose: str, code: str) -> None:
    """Accept the latest unexpired, unused code; count and limit wrong attempts.

    A wrong attempt is committed before the error is raised, so it counts even though
    the caller's request fails.
    """
    now = timezone.now()
    with transaction.atomic():
        record = (
            PhoneCode.objects.select_for_update()
            .filter(user=user, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if record is None:
            raise CodeInvalid(field="code")
        if record.attempts >= settings.VERIFICATION_CODE_MAX_ATTEMPTS:
            raise CodeAttemptsExceeded(field="code")
        if hmac.compare_digest(record.code_hash, _hash_code(user.pk, code)):
            record.used_at = now
            record.save(update_fields=["used_at"])
            return
        record.attempts += 1
        record.save(update_fields=["attempts"])
    raise CodeInvalid(field="code")


def user_register(
    *, phone: str, password: str, full_name: str, language: str | None = None
) -> User:
    """Create a citizen account (or refresh an unverified one) and text it a code.

    A verified (or deactivated) phone cannot be registered again; registering an unverified
    phone again replaces its name and password and sends a new code. Only numbers that can
    receive SMS (mobile numbers) may register.
    """
    phone = normalize_phone(phone)
    if not is_mobile(phone):
        raise InvalidPhoneNumber(
            gettext_lazy("Use a mobile number: the code is sent by SMS."), field="phone"
        )
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(phone=phone).first()
            if user is not None and (
                user.is_verified or user.role != Role.CITIZEN or not user.is_active
            ):
                raise PhoneTaken(field="phone")
            if user is None:
                user = User(phone=phone, role=Role.CITIZEN)
            user.full_name = full_name.strip()
            user.language = language or active_language()
            _check_password(password, user)
            user.set_password(password)
            user.save()
            user_set_role(user=user, role=Role.CITIZEN, agency=None)
            phone_code_send(user=user, purpose=PhoneCode.Purpose.VERIFY)
    except IntegrityError as error:
        # Two registrations of the same new number at once: the second one loses.
        raise PhoneTaken(field="phone") from error
    return user


def user_verify_phone(*, phone: str, code: str) -> User:
    """Mark the phone verified when the code texted to it is right.

    The code is checked even when the phone is already verified: the answer carries the
    user's profile, so it must never be given for a phone number alone.
    """
    phone = normalize_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise CodeInvalid(field="code")
    phone_code_check(user=user, purpose=PhoneCode.Purpose.VERIFY, code=code)
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

# A phone gets at most this many reset codes an hour, whoever asks: the request answers
# alike whether or not an account exists, so it must not flood a number with texts either.
RESET_CODES_PER_HOUR = 5


def _refresh_tokens_revoke(user: User) -> None:
    """Blacklist every unexpired refresh token of the user: each of their sessions ends at
    its next refresh."""
    outstanding = OutstandingToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


def user_password_reset_request(*, phone: str) -> None:
    """Text a 6-digit reset code to the active account with this phone, if there is one.

    Nothing tells the caller what happened (no account, a code sent a moment ago, the hourly
    limit reached): the answer must not reveal which numbers have accounts.
    """
    phone = normalize_phone(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        return
    recent = PhoneCode.objects.filter(
        user=user,
        purpose=PhoneCode.Purpose.RESET,
        created_at__gte=timezone.now() - timedelta(hours=1),
    )
    if recent.count() >= RESET_CODES_PER_HOUR:
        return
    with contextlib.suppress(CodeRecentlySent), transaction.atomic():
        phone_code_send(user=user, purpose=PhoneCode.Purpose.RESET)


def user_password_reset_confirm(*, phone: str, code: str, new_password: str) -> User:
    """Set a new password with the code from user_password_reset_request, and sign the user
    out everywhere: their refresh tokens are revoked.

    An unknown phone, a wrong code and too many wrong codes all answer `invalid_code` (wrong
    codes still count towards the limit), and the password rules are checked first in every
    case, so the answers reveal nothing about which numbers have accounts.
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
    try:
        phone_code_check(user=user, purpose=PhoneCode.Purpose.RESET, code=code)
    except CodeAttemptsExceeded:
        raise CodeInvalid(field="code") from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        _refresh_tokens_revoke(user)
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
    and sessions (refresh tokens revoked; access tokens of an inactive user are refused).
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
        # A new updated_at changes the reports' ETags: no client keeps showing the name.
        user.reports.update(hide_name=True, updated_at=user.deleted_at)
        _refresh_tokens_revoke(user)
    return user
