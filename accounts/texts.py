"""The outbox of text messages: every text the product sends is a TextMessage row.

A use case that texts someone asks `sms_limits.sms_allow` (the limits and budgets), then
`text_queue` inserts the row in its transaction and enqueues `accounts.send_text` with the
row's id after the commit; the task calls `text_send`, which composes the text (a code is
derived there, never carried by the broker), hands it to the gateway and records the outcome.
A transient failure is retried with a doubling delay while the text is worth sending (a code's
lifetime); a permanent one is not. The gateway's delivery reports are recorded on the row
(`text_record_report`); `text_counts` counts them per kind and outcome for the operators.

A report's notifications (the city texting a citizen) use `text_send_now` from their own task:
the same budget, the same outbox, kind "notification".
"""

from __future__ import annotations

import hmac
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from accounts.codes import code_of, phone_code_create, phone_code_latest
from accounts.models import PhoneCode, Role, TextMessage, User
from accounts.sms import SmsError, SmsPermanentError, SmsTransientError, send_sms
from accounts.sms_limits import refused_count, sms_allow, window
from hues.city import current_city
from hues.errors import InvalidInput, NotPermitted, ObjectNotFound
from hues.scheduling import enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)

Kind = TextMessage.Kind
State = TextMessage.State
FINISHED = frozenset({State.SENT, State.DELIVERED, State.FAILED, State.EXPIRED, State.SKIPPED})
# A notification not sent within a day is not worth sending.
NOTIFICATION_LIFETIME = timedelta(days=1)
MAX_RETRY_SECONDS = 300
# A queued text never tried after this long lost its task: the sweeper enqueues it again.
SWEEP_AFTER = timedelta(minutes=1)


def text_queue(
    *,
    kind: str,
    phone: str,
    user: User | None = None,
    phone_code: PhoneCode | None = None,
    body: str = "",
    client: str = "",
) -> TextMessage:
    """Put a text in the outbox and send it from a task after the commit. The caller has
    counted it with `sms_allow`."""
    now = timezone.now()
    text = TextMessage.objects.create(
        kind=kind,
        phone=phone,
        user=user,
        phone_code=phone_code,
        body=body,
        client=client,
        created_at=now,
        expires_at=phone_code.expires_at if phone_code else now + settings.VERIFICATION_CODE_TTL,
    )
    enqueue_on_commit("accounts.send_text", text.pk)
    return text


@dataclass(frozen=True)
class Attempt:
    """What `text_send` did: the row (None if it is gone) and, after a transient failure,
    the seconds to wait before the next try."""

    text: TextMessage | None
    retry_in: int | None = None


def text_send(*, text_id: int) -> Attempt:
    """Send one queued text and record the outcome on it. Idempotent: a text that was sent,
    or finished otherwise, is left as it is. The text is claimed for the time the gateway may
    take (no transaction stays open meanwhile: the gateway's delivery report may come before
    its answer), so a duplicate task finds it claimed and leaves it; a worker that died while
    sending leaves a claim that runs out, and the redelivered task sends it."""
    now = timezone.now()
    with transaction.atomic():
        text = (
            TextMessage.objects.select_for_update(of=("self",))
            .select_related("user", "phone_code")
            .filter(pk=text_id)
            .first()
        )
        if text is None or text.state != State.QUEUED:
            return Attempt(text)
        if text.claimed_until is not None and text.claimed_until > now:
            return Attempt(text)
        if now >= text.expires_at:
            _finish(text, State.EXPIRED, text.last_error or "not sent in time")
            return Attempt(text)
        content = _content(text)
        if content is None:
            return Attempt(text)
        text.claimed_until = now + timedelta(seconds=settings.SMS_GATEWAY_TIMEOUT + 30)
        text.save(update_fields=["claimed_until"])
    return _attempt(text, content)


def _finish(text: TextMessage, state: str, note: str = "") -> None:
    text.state = state
    text.last_error = note[:2000]
    text.save()


def _code_text(user: User, record: PhoneCode) -> str:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return _("%(app)s: your code is %(code)s. It is valid for %(minutes)d minutes.") % {
            "app": current_city().app_name,
            "code": code_of(record),
            "minutes": int(settings.VERIFICATION_CODE_TTL.total_seconds() // 60),
        }


def _recipient(text: TextMessage) -> User | None:
    """Whom a code asked for by phone number alone goes to (a new code, a password reset):
    resolved here, in the worker, so that the request did the same work for every number."""
    users = User.objects.filter(phone=text.phone, is_active=True)
    if text.kind == Kind.VERIFICATION:
        users = users.filter(phone_verified_at__isnull=True, role=Role.CITIZEN)
    return users.first()


def _content(text: TextMessage) -> str | None:
    """The text to send; None when there is nothing to send (the row is marked skipped)."""
    if text.kind in (Kind.NOTICE, Kind.NOTIFICATION):
        return text.body
    verify = text.kind == Kind.VERIFICATION
    purpose = PhoneCode.Purpose.VERIFY if verify else PhoneCode.Purpose.RESET
    if text.phone_code is None:
        user = _recipient(text)
        if user is None:
            _finish(text, State.SKIPPED, "no account waits for this code")
            return None
        last = phone_code_latest(user=user, purpose=purpose)
        if last and timezone.now() - last.created_at < settings.VERIFICATION_CODE_RESEND_INTERVAL:
            _finish(text, State.SKIPPED, "a code was sent a moment ago")
            return None
        text.user = user
        text.phone_code = phone_code_create(user=user, purpose=purpose, requested_by=text.client)
        text.expires_at = text.phone_code.expires_at
        text.save(update_fields=["user", "phone_code", "expires_at"])
    record = text.phone_code
    if record.used_at is not None or not record.nonce or record.expires_at <= timezone.now():
        _finish(text, State.SKIPPED, "the code was used or replaced")
        return None
    return _code_text(record.user, record)


def report_token(text_id: int) -> str:
    """The signature of a text's delivery report URL: only the gateway we gave it to can
    report on the text."""
    return salted_hmac("accounts.texts.report", str(text_id), algorithm="sha256").hexdigest()[:32]


def _status_url(text: TextMessage) -> str:
    if not settings.SMS_STATUS_BASE_URL:
        return ""
    path = reverse("sms-delivery-report")
    return f"{settings.SMS_STATUS_BASE_URL}{path}?id={text.pk}&token={report_token(text.pk)}"


def _retry_in(text: TextMessage) -> int | None:
    """The delay before the next try: SMS_RETRY_BASE_SECONDS doubled after each failure, at
    most 5 minutes, and never past the text's end of life (None: no time is left)."""
    left = int((text.expires_at - timezone.now()).total_seconds()) - 1
    if left < 1:
        return None
    delay = settings.SMS_RETRY_BASE_SECONDS * 2 ** max(text.attempts - 1, 0)
    return max(1, min(delay, MAX_RETRY_SECONDS, left))


def _record_attempt(
    text_id: int, outcome: str, note: str = "", gateway_id: str = ""
) -> TextMessage:
    """Record one try on the text, under its lock: `outcome` is its new state (QUEUED: to be
    tried again). A delivery report that came before the gateway's answer keeps its state."""
    with transaction.atomic():
        text = TextMessage.objects.select_for_update().get(pk=text_id)
        text.attempts += 1
        text.claimed_until = None
        text.last_error = note[:2000]
        if gateway_id and not text.gateway_id:
            text.gateway_id = gateway_id[:100]
        if outcome == State.SENT:
            text.sent_at = timezone.now()
        if text.state == State.QUEUED:
            text.state = outcome
        text.save()
    return text


def _attempt(text: TextMessage, content: str) -> Attempt:
    try:
        gateway_id = send_sms(text.phone, content, status_url=_status_url(text))
    except SmsPermanentError as error:
        logger.warning(
            "Text %s (%s to %s) refused for good: %s",
            text.pk,
            text.kind,
            text.masked_phone,
            error,
        )
        return Attempt(_record_attempt(text.pk, State.FAILED, str(error)))
    except (SmsTransientError, OSError) as error:
        note = str(error) if isinstance(error, SmsError) else f"{type(error).__name__}: {error}"
        text.attempts += 1
        retry_in = _retry_in(text)
        logger.warning(
            "Text %s (%s to %s) not sent (attempt %d), %s: %s",
            text.pk,
            text.kind,
            text.masked_phone,
            text.attempts,
            f"retried in {retry_in} s" if retry_in else "given up: its time is over",
            note,
        )
        outcome = State.QUEUED if retry_in else State.EXPIRED
        return Attempt(_record_attempt(text.pk, outcome, note), retry_in)
    logger.info("Text %s (%s to %s) sent", text.pk, text.kind, text.masked_phone)
    return Attempt(_record_attempt(text.pk, State.SENT, gateway_id=gateway_id))


class TextNotSent(Exception):
    """The gateway did not take a notification's text now; the caller's task tries later."""

    def __init__(self, text: TextMessage, retry_in: int) -> None:
        self.text = text
        self.retry_in = retry_in
        super().__init__(text.last_error)


def text_send_now(*, phone: str, body: str, user: User | None = None, key: str = "") -> TextMessage:
    """Send a notification's text now, from the caller's own task: within the budget
    (SmsBudgetSpent when it is spent), through the outbox (kind "notification"). Asked again
    with the same `key` (e.g. "notification:42"), the same row answers and nothing is counted
    or sent twice. A permanent refusal returns the row failed; a transient one raises
    TextNotSent, for the caller's task to retry."""
    text = TextMessage.objects.filter(key=key).first() if key else None
    if text is None:
        sms_allow(phone=phone, kind=Kind.NOTIFICATION)
        now = timezone.now()
        try:
            with transaction.atomic():
                text = TextMessage.objects.create(
                    kind=Kind.NOTIFICATION,
                    phone=phone,
                    user=user,
                    body=body,
                    key=key,
                    created_at=now,
                    expires_at=now + NOTIFICATION_LIFETIME,
                )
        except IntegrityError:  # the same key, at the same moment, from another process
            text = TextMessage.objects.get(key=key)
    attempt = text_send(text_id=text.pk)
    if attempt.text is None:
        raise ObjectNotFound()
    if attempt.retry_in is not None:
        raise TextNotSent(attempt.text, attempt.retry_in)
    return attempt.text


# Delivery reports

# Kannel's report types (its %d), and the names a provider's callback may use instead.
REPORT_TYPES = {1: "delivered", 2: "undelivered", 4: "buffered", 8: "accepted", 16: "rejected"}
REPORT_STATES = {
    "delivered": State.DELIVERED,
    "undelivered": State.FAILED,
    "rejected": State.FAILED,
}


class DeliveryReportInvalid(InvalidInput):
    code = "invalid_report"


def text_record_report(
    *, text_id: str, token: str, status: str, answer: str = "", gateway_id: str = ""
) -> TextMessage:
    """Record a delivery report on its text: delivered, or failed for good (undelivered,
    rejected by the SMS centre); an intermediate report (accepted, buffered) is noted
    without changing the state. A final state is never changed again. The report must carry
    the token we signed the text's URL with."""
    if not text_id.isdigit() or len(text_id) > 18:
        raise DeliveryReportInvalid(field="id")
    if not hmac.compare_digest(token.encode(), report_token(int(text_id)).encode()):
        raise NotPermitted()
    name = REPORT_TYPES.get(int(status), "") if status.isdigit() and len(status) < 4 else status
    if name not in REPORT_TYPES.values():
        raise DeliveryReportInvalid(field="type")
    with transaction.atomic():
        text = TextMessage.objects.select_for_update().filter(pk=int(text_id)).first()
        if text is None:
            raise ObjectNotFound()
        if text.state in (State.DELIVERED, State.FAILED, State.EXPIRED, State.SKIPPED):
            return text
        text.delivery_status = name
        text.reported_at = timezone.now()
        if gateway_id and not text.gateway_id:  # Kannel's sendsms gives none: the SMSC's
            text.gateway_id = gateway_id[:100]
        if name in REPORT_STATES:
            text.state = REPORT_STATES[name]
            if text.state == State.FAILED:
                text.last_error = f"{name}: {answer}"[:2000]
                logger.warning("Text %s (%s to %s) %s", text.pk, text.kind, text.masked_phone, name)
        text.save()
    return text


# Counting, and the sweeper


@dataclass(frozen=True)
class TextCounts:
    """The texts of one day (in the city's time zone) per kind and outcome: the states of
    the outbox, and "refused" (by the limits and budgets, never queued)."""

    day: date
    budget: int
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def queued_total(self) -> int:
        """Texts that went into the outbox (the daily budget counts these)."""
        return sum(
            count
            for outcomes in self.by_kind.values()
            for outcome, count in outcomes.items()
            if outcome != "refused"
        )

    @property
    def budget_left(self) -> int:
        return max(0, self.budget - self.queued_total)


def text_counts(*, day: date | None = None) -> TextCounts:
    """Every text of a day counted per kind and outcome (for the operators' metrics and the
    admin). Outcomes: queued, sent, delivered, failed, expired, skipped, refused."""
    day = day or timezone.localdate()
    start = window("day", timezone.make_aware(datetime.combine(day, datetime.min.time()))).start
    by_kind: dict[str, dict[str, int]] = defaultdict(dict)
    for kind in Kind.values:
        by_kind[kind] = dict.fromkeys([*State.values, "refused"], 0)
        by_kind[kind]["refused"] = refused_count(kind, day)
    rows = (
        TextMessage.objects.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
        .values("kind", "state")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in rows:
        by_kind[row["kind"]][row["state"]] = row["count"]
    return TextCounts(day=day, budget=settings.SMS_DAILY_BUDGET, by_kind=dict(by_kind))


def text_outcomes_today() -> dict[str, int]:
    """Today's texts by outcome, every kind together (the metrics' hues_sms_sent_total: a
    count that starts again each day, which Prometheus's rate() reads as a counter reset)."""
    totals: dict[str, int] = defaultdict(int)
    for outcomes in text_counts().by_kind.values():
        for outcome, count in outcomes.items():
            totals[outcome] += count
    return dict(totals)


def texts_sweep() -> int:
    """Mark queued texts past their end of life expired, and enqueue again the queued texts
    never tried (their task was lost: a broker outage, a dead worker). Returns how many were
    enqueued."""
    now = timezone.now()
    TextMessage.objects.filter(state=State.QUEUED, expires_at__lte=now).update(state=State.EXPIRED)
    ids = list(
        TextMessage.objects.filter(state=State.QUEUED, attempts=0, created_at__lt=now - SWEEP_AFTER)
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for text_id in ids:
        enqueue("accounts.send_text", text_id)
    return len(ids)
