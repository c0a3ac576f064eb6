"""One-time codes texted to a phone: made, derived, checked.

No code is stored anywhere: a PhoneCode row holds a random nonce, and the code is an HMAC of
the row's id and nonce under the server's secret (SECRET_KEY, salted for this use), read as six
digits. The worker that texts it (accounts.texts) and the check below compute it again; the
broker carries only the text's id, and the logs never see it. A hash of the code would protect
no better: anyone with the database and the secret recovers six digits from either in a
million tries, and without the secret neither tells anything. The nonce is cleared when the
code is used or replaced, so nothing can derive it afterwards.

Wrong codes are counted per code and per client address, so that guessing is bounded without
an attacker being able to kill someone else's code:

- each client has VERIFICATION_CODE_MAX_ATTEMPTS wrong tries per code, and waits 2, 4, 8 s
  after its second, third, fourth wrong try (a try too early is not even checked);
- all clients together have VERIFICATION_CODE_MAX_WRONG wrong tries per code, except the
  client that asked for the code, which keeps its own tries however many others spent;
- a new code (asked for again) starts afresh.

So a code can be guessed at most MAX_WRONG + MAX_ATTEMPTS times (1.5 in 100,000 with the
defaults) and the citizen who asked for it can still use it. Every refusal answers
`invalid_code` alike, so nothing tells an account, a pending code or a limit apart.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy

from accounts.models import PhoneCode, User
from hues.errors import InvalidInput


class CodeInvalid(InvalidInput):
    code = "invalid_code"
    message = gettext_lazy("The code is wrong or has expired. Ask for a new code.")


def code_of(record: PhoneCode) -> str:
    """The six digits of a phone code, derived from its id and nonce ("" once cleared)."""
    if not record.nonce:
        return ""
    digest = salted_hmac(
        "accounts.codes.phone_code", f"{record.pk}:{record.nonce}", algorithm="sha256"
    ).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def phone_code_latest(*, user: User, purpose: str) -> PhoneCode | None:
    return PhoneCode.objects.filter(user=user, purpose=purpose).order_by("-created_at").first()


def phone_code_create(*, user: User, purpose: str, requested_by: str = "") -> PhoneCode:
    """A new code for the user and purpose; the previous ones stop working."""
    now = timezone.now()
    PhoneCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(
        used_at=now, nonce=""
    )
    return PhoneCode.objects.create(
        user=user,
        purpose=purpose,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + settings.VERIFICATION_CODE_TTL,
        requested_by=requested_by,
    )


def _wait_after(wrong: int) -> timedelta:
    """How long a client waits after its `wrong`-th wrong code: nothing after the first."""
    return timedelta(seconds=0 if wrong < 2 else 2 ** (wrong - 1))


def phone_code_check(*, user: User, purpose: str, code: str, client: str = "") -> None:
    """Accept the latest unexpired, unused code of the user for the purpose, tried by `client`
    (a client key); count a wrong one against the client and the code (module docstring).

    A wrong attempt is committed before the error is raised, so it counts even though the
    caller's request fails.
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
        mine = record.attempts_by_client.get(client) or {"wrong": 0, "at": None}
        if mine["wrong"] >= settings.VERIFICATION_CODE_MAX_ATTEMPTS:
            raise CodeInvalid(field="code")
        others_spent = record.attempts >= settings.VERIFICATION_CODE_MAX_WRONG
        if others_spent and client != record.requested_by:
            raise CodeInvalid(field="code")
        if mine["at"] and now < datetime.fromisoformat(mine["at"]) + _wait_after(mine["wrong"]):
            raise CodeInvalid(field="code")
        expected = code_of(record)
        if expected and hmac.compare_digest(expected, code):
            record.used_at = now
            record.nonce = ""
            record.save(update_fields=["used_at", "nonce"])
            return
        record.attempts += 1
        record.attempts_by_client[client] = {"wrong": mine["wrong"] + 1, "at": now.isoformat()}
        record.save(update_fields=["attempts", "attempts_by_client"])
    raise CodeInvalid(field="code")
