"""What texts may cost: where they may go, and how many a number, a block of numbers, a client
address and everyone together may cause (SMS toll fraud: an attacker who makes us text
premium or foreign numbers, or floods a block of numbers, is paid by the carrier per text).

Every path that sends a text (registration, a new code, a password reset, an account notice,
a report's notification) asks `sms_allow` first:

- only numbers of SMS_ALLOWED_COUNTRIES (Vietnam by default) get a text;
- the texts a client address causes (SMS_LIMIT_PER_CLIENT), those to one number
  (SMS_LIMIT_PER_NUMBER) and to one block of numbers, the first SMS_PREFIX_DIGITS digits
  (SMS_LIMIT_PER_PREFIX), are limited per hour and per day, for the texts that someone asks
  for (codes and notices; a report's notifications are the city's own);
- all texts together stop at SMS_HOURLY_BUDGET and SMS_DAILY_BUDGET: sending stops, the
  operators are alerted (a log line at ERROR and an email to the administrators, once per
  hour or day), and the API answers 503 `sms_unavailable` with Retry-After.

The counts are kept in the shared cache (Redis in production) in windows of a clock hour and
a calendar day in the city's time zone, so every process counts the same texts. A refused
text is counted by its narrowest limit only: an address that floods one number cannot spend
the budgets of everyone else. While the cache is away the budgets are counted from the outbox
(TextMessage rows), the other limits not at all.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.cache import caches
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, TextMessage, User
from accounts.phones import mask_phone
from hues.cache import count_hit
from hues.city import current_city
from hues.errors import InvalidInput, ServiceUnavailable, TooManyRequests
from hues.scheduling import enqueue

logger = logging.getLogger(__name__)

PERIOD_SECONDS = {"hour": 3600, "day": 86400}
# Kinds that someone asks for: limited per client, number and block of numbers.
ASKED_FOR = frozenset(
    {TextMessage.Kind.VERIFICATION, TextMessage.Kind.RESET, TextMessage.Kind.NOTICE}
)


class PhoneNotAllowed(InvalidInput):
    code = "phone_not_allowed"
    message = gettext_lazy("We cannot send text messages to numbers of this country.")


class SmsLimitReached(TooManyRequests):
    code = "sms_limit"
    message = gettext_lazy(
        "Too many text messages for this number or from this network. Try again later."
    )


class SmsBudgetSpent(ServiceUnavailable):
    code = "sms_unavailable"
    message = gettext_lazy("Text messages are paused for a while. Try again later.")


@dataclass(frozen=True)
class Window:
    """One clock hour or calendar day, in the city's time zone."""

    period: str
    ident: str
    start: datetime
    end: datetime

    @property
    def seconds_left(self) -> int:
        return max(1, int((self.end - timezone.now()).total_seconds()) + 1)


def window(period: str, now: datetime | None = None) -> Window:
    local = timezone.localtime(now)
    if period == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
        return Window(period, f"{start:%Y%m%d%H}", start, start + timedelta(hours=1))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return Window(period, f"{start:%Y%m%d}", start, start + timedelta(days=1))


def client_key(address: str) -> str:
    """A client address as the limits and the code checks count it, hashed: an IPv6 client
    is its /64 network (one subscriber's), so changing the last 64 bits gains nothing."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        text = address.strip()
    else:
        mapped = parsed.ipv4_mapped if isinstance(parsed, ipaddress.IPv6Address) else None
        if isinstance(parsed, ipaddress.IPv6Address) and mapped is None:
            text = str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
        else:
            text = str(mapped or parsed)
    return salted_hmac("accounts.sms_limits.client", text, algorithm="sha256").hexdigest()[:32]


def number_key(phone: str) -> str:
    """A phone number in a cache key: hashed, never in full."""
    return hashlib.sha256(phone.encode()).hexdigest()[:32]


def prefix_of(phone: str) -> str:
    """The block of numbers a number belongs to: its first SMS_PREFIX_DIGITS digits."""
    return phone.lstrip("+")[: settings.SMS_PREFIX_DIGITS]


def phone_check_textable(phone: str) -> None:
    """Refuse a number outside SMS_ALLOWED_COUNTRIES (an E.164 number)."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    if region not in settings.SMS_ALLOWED_COUNTRIES:
        raise PhoneNotAllowed(field="phone")


def _count(key: str, period: str) -> int:
    count, _left = count_hit(caches["default"], key, PERIOD_SECONDS[period])
    return count


def _count_refused(kind: str) -> None:
    _count(f"sms:refused:{kind}:{window('day').ident}", "day")


def refused_count(kind: str, day: date) -> int:
    """Texts of this kind the limits refused on that day (in the city's time zone)."""
    value = caches["default"].get(f"sms:refused:{kind}:{day:%Y%m%d}")
    return int(value) if isinstance(value, int) else 0


def sms_allow(*, phone: str, kind: str, client: str = "") -> None:
    """Count one text of `kind` to `phone` (E.164), caused by `client` (a client_key, or "")
    against every limit it falls under, or refuse it: PhoneNotAllowed (400), SmsLimitReached
    (429) or SmsBudgetSpent (503), the last two with the seconds until the window ends."""
    phone_check_textable(phone)
    if kind in ASKED_FOR:
        scopes = [
            ("client", client, settings.SMS_LIMIT_PER_CLIENT),
            ("number", number_key(phone), settings.SMS_LIMIT_PER_NUMBER),
            ("prefix", prefix_of(phone), settings.SMS_LIMIT_PER_PREFIX),
        ]
        for scope, ident, limits in scopes:
            if not ident:
                continue
            for period, maximum in limits.items():
                current = window(period)
                if _count(f"sms:{scope}:{ident}:{current.ident}", period) > maximum:
                    _count_refused(kind)
                    logger.warning(
                        "SMS limit per %s reached (%d an %s): a %s text to %s refused",
                        scope,
                        maximum,
                        period,
                        kind,
                        mask_phone(phone),
                    )
                    raise SmsLimitReached(retry_after=current.seconds_left)
    budgets = (("hour", settings.SMS_HOURLY_BUDGET), ("day", settings.SMS_DAILY_BUDGET))
    for period, maximum in budgets:
        current = window(period)
        count = _count(f"sms:budget:{current.ident}", period)
        cache_away = count == 0  # a real count includes this text
        if cache_away:
            count = TextMessage.objects.filter(created_at__gte=current.start).count() + 1
        if count > maximum:
            _count_refused(kind)
            _budget_spent(current, maximum, alert_once=not cache_away)
            raise SmsBudgetSpent(retry_after=current.seconds_left)


def _budget_spent(current: Window, maximum: int, *, alert_once: bool) -> None:
    """Tell the operators, once per window while the cache keeps the mark."""
    first = caches["default"].add(f"sms:alerted:{current.ident}", 1, PERIOD_SECONDS[current.period])
    if not first and alert_once:
        return
    logger.error(
        "SMS budget spent: %d texts this %s; no text is sent until %s",
        maximum,
        current.period,
        current.end.isoformat(),
    )
    if first:
        enqueue("accounts.alert_sms_budget", current.period, maximum, current.end.isoformat())


def sms_budget_alert(*, period: str, maximum: int, until: str) -> int:
    """Email the active administrators that the SMS budget of the period is spent, each in
    their own language; returns how many were written to."""
    administrators = User.objects.filter(
        Q(role=Role.ADMINISTRATOR) | Q(is_superuser=True), is_active=True
    ).exclude(email="")
    resume = timezone.localtime(datetime.fromisoformat(until)).strftime("%d/%m/%Y %H:%M")
    sent = 0
    for administrator in administrators:
        with translation.override(administrator.language or settings.LANGUAGE_CODE):
            names = {"app": current_city().app_name, "maximum": maximum, "resume": resume}
            subject = (
                _("%(app)s: the hourly SMS budget is spent")
                if period == "hour"
                else _("%(app)s: the daily SMS budget is spent")
            ) % names
            body = (
                _(
                    "The budget of %(maximum)d text messages is spent: no text message (codes, "
                    "notifications) is sent until %(resume)s. Citizens cannot register or reset "
                    "their password until then. If this is not an attack, raise the budget "
                    "(SMS_HOURLY_BUDGET, SMS_DAILY_BUDGET); the admin lists the text messages "
                    "(Accounts > Text messages)."
                )
                % names
            )
        send_mail(subject, body, None, [administrator.email])
        sent += 1
    return sent
