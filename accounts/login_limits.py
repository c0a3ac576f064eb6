"""Limits on password sign-ins per account, for the API and the admin alike
(accounts.backends.PhoneBackend applies them), that slow an attacker without locking the
account's owner out.

- Per account and client (a client address, hashed: accounts.sms_limits.client_key): from
  the LOGIN_DELAY_AFTER-th wrong password on, the client waits before its next attempt for
  that account, 1, 2, 4 ... seconds, at most LOGIN_DELAY_MAX (429 `login_wait`). Another
  client naming the account is not slowed by it.
- Per account, whatever the client: LOGIN_ACCOUNT_FAILURE_LIMIT wrong passwords within
  LOGIN_FAILURE_WINDOW lock the account for LOGIN_ACCOUNT_LOCK (doubled at each new lock in a
  day, at most a day): meanwhile a password is not even checked (429 `account_locked`)...
- ...except from a client that signed in to the account within LOGIN_KNOWN_CLIENT_DAYS: the
  owner's usual phone or office keeps signing in. An owner on a new address proves possession
  of the phone instead: a password reset by texted code lifts the lock, and the client that
  did it becomes known.

django-axes still locks one phone for one address after AXES_FAILURE_LIMIT failures. Every
count lives in the cache (Redis in production: shared by every process); while Redis is away
nothing is counted and nothing refused, like the other limits.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache, caches
from django.utils.translation import gettext_lazy as _

from accounts.sms_limits import number_key
from hues.cache import count_hit
from hues.errors import TooManyRequests

logger = logging.getLogger(__name__)

DAY = 24 * 3600


class LoginWait(TooManyRequests):
    code = "login_wait"
    message = _("Too many wrong passwords for this phone number. Wait a moment and try again.")


class AccountLocked(TooManyRequests):
    code = "account_locked"
    message = _(
        "Many wrong passwords were tried for this phone number, so it can only sign in from "
        "a device that signed in before. To sign in from here now, reset your password with "
        "a code texted to your phone."
    )


def _keys(phone: str, client: str) -> dict[str, str]:
    account = number_key(phone)
    return {
        "client_failures": f"login:failures:{account}:{client}",
        "client_wait": f"login:wait:{account}:{client}",
        "known": f"login:known:{account}:{client}",
        "failures": f"login:failures:{account}",
        "locked": f"login:locked:{account}",
        "locks": f"login:locks:{account}",
    }


def _window() -> int:
    return int(settings.LOGIN_FAILURE_WINDOW.total_seconds())


def login_allow(*, phone: str, client: str) -> None:
    """Raise LoginWait or AccountLocked when `client` may not try a password for the account
    of `phone` (E.164) now; the error's retry_after says when it may."""
    keys = _keys(phone, client)
    found = cache.get_many([keys["client_wait"], keys["locked"], keys["known"]])
    now = time.time()
    wait_until = found.get(keys["client_wait"])
    if wait_until is not None and wait_until > now:
        raise LoginWait(retry_after=math.ceil(wait_until - now))
    locked_until = found.get(keys["locked"])
    if locked_until is not None and locked_until > now and not found.get(keys["known"]):
        raise AccountLocked(retry_after=math.ceil(locked_until - now))


def login_failed(*, phone: str, client: str) -> None:
    """Count a wrong password (or an unknown number: the same work either way)."""
    keys = _keys(phone, client)
    backend = caches["default"]
    mine, _left = count_hit(backend, keys["client_failures"], _window())
    if mine >= settings.LOGIN_DELAY_AFTER:
        delay = min(2 ** (mine - settings.LOGIN_DELAY_AFTER), settings.LOGIN_DELAY_MAX)
        cache.set(keys["client_wait"], time.time() + delay, delay)
    everyone, _left = count_hit(backend, keys["failures"], _window())
    if everyone >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT:
        _lock(keys)


def _lock(keys: dict[str, str]) -> None:
    locks = int(cache.get(keys["locks"]) or 0)
    base: timedelta = settings.LOGIN_ACCOUNT_LOCK
    seconds = int(min(base.total_seconds() * 2**locks, DAY))
    cache.set(keys["locked"], time.time() + seconds, seconds)
    cache.set(keys["locks"], locks + 1, DAY)
    cache.delete(keys["failures"])  # counted afresh once the lock is on
    logger.warning(
        "Sign-ins to one account locked for %d s, but from its known clients, after %d wrong "
        "passwords from any address in %d s (lock %d today).",
        seconds,
        settings.LOGIN_ACCOUNT_FAILURE_LIMIT,
        _window(),
        locks + 1,
    )


def login_succeeded(*, phone: str, client: str) -> None:
    """The right password: the client's wrong ones are forgotten, and it is known to the
    account (a lock does not apply to it) for LOGIN_KNOWN_CLIENT_DAYS."""
    keys = _keys(phone, client)
    cache.delete_many([keys["client_failures"], keys["client_wait"]])
    cache.set(keys["known"], True, settings.LOGIN_KNOWN_CLIENT_DAYS * DAY)


def login_lock_lift(*, phone: str, client: str) -> None:
    """The owner proved possession of the phone (a texted code): the account's lock and
    counts go, and the client that proved it is known to the account."""
    keys = _keys(phone, client)
    cache.delete_many([keys["locked"], keys["locks"], keys["failures"]])
    login_succeeded(phone=phone, client=client)
