"""Filing a report with an Idempotency-Key: the same key and body give the same report,
however many times the app retries and however its retries overlap.

The rules:

- The key row is inserted, and committed, first, in a transaction of its own: the unique
  (user, key) constraint decides which of two simultaneous requests files the report. On
  PostgreSQL the second insert waits for the first to commit, then fails and reads the row.
- A request that finds the key with another body gets `IdempotencyMismatch` (422); with the
  same body but no report yet (the first request is still at work) `IdempotencyInFlight`
  (409, try again shortly); with its report, that report (a replay).
- The key gets its report inside the report's own transaction, so a key never points to a
  report that was rolled back, and a report filed with a key always has it.
- When filing fails (invalid input, a photo refused, a crash), the key is freed so that the
  next attempt with it is processed afresh. A claim whose request died without freeing it is
  taken over after IN_FLIGHT_TIMEOUT; the request that lost it then files nothing.
- Keys are kept KEEP_FOR (24 hours) per user; `idempotency_keys_purge` (a beat task) forgets
  older ones, after which the same key files a new report.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hues.errors import Conflict, InvalidInput, Unprocessable
from reports import services
from reports.models import IdempotencyKey, Report

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
# Far longer than any request may take (the web server's timeout): a claim still without a
# report after this belongs to a request that died.
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)
# Visible ASCII, as UUIDs and the usual client-generated keys are.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # IdempotencyKey.key holds 255 characters
_CHUNK = 64 * 1024


class IdempotencyKeyInvalid(InvalidInput):
    code = "idempotency_key_invalid"
    message = _("The Idempotency-Key header must be 1 to 255 visible ASCII characters.")


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"
    message = _(
        "A request with this Idempotency-Key is still being processed. Try again in a moment."
    )


class IdempotencyMismatch(Unprocessable):
    """The key was used with a different body (422)."""

    code = "idempotency_mismatch"
    message = _(
        "This Idempotency-Key was already used for a different request. "
        "Use a new key for a new report."
    )


def request_hash(fields: Iterable[tuple[str, Sequence[Any]]]) -> str:
    """SHA-256 of a form: every field and the bytes of every uploaded file, read in chunks
    (a photo is never held in memory twice). The order of the fields does not matter, the
    order of one field's values (the photos) does. Files are rewound afterwards."""
    digest = hashlib.sha256()

    def add(tag: bytes, data: bytes) -> None:
        # Tag and length before each part: no two different forms hash the same bytes.
        digest.update(tag + len(data).to_bytes(8, "big") + data)

    for name, values in sorted(fields, key=lambda field: field[0]):
        add(b"n", name.encode("utf-8", "surrogatepass"))
        for value in values:
            if isinstance(value, File):
                digest.update(b"f" + int(value.size or 0).to_bytes(8, "big"))
                for chunk in value.chunks(_CHUNK):
                    digest.update(chunk)
                value.seek(0)
            else:
                add(b"v", str(value).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def report_create_once(
    *, reporter: User, key: str, request_hash: str, **fields: Any
) -> tuple[Report, bool]:
    """File a report (services.report_create, with `fields`) at most once per reporter and
    Idempotency-Key; see the module's docstring for the rules.

    Returns the report and whether it is a replay of an earlier request.
    """
    if not _KEY.fullmatch(key):
        raise IdempotencyKeyInvalid(field=HEADER)
    claim = _claim(user=reporter, key=key, request_hash=request_hash)
    if claim.report is not None:
        return claim.report, True
    try:
        report = services.report_create(
            reporter=reporter, on_created=lambda report: _attach(claim, report), **fields
        )
    except BaseException:
        _release(claim)
        raise
    return report, False


def idempotency_keys_purge() -> int:
    """Forget the keys older than KEEP_FOR; returns how many were deleted."""
    deleted, _by_model = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - KEEP_FOR
    ).delete()
    return deleted


def _claim(*, user: User, key: str, request_hash: str) -> IdempotencyKey:
    """The key's row: a new one this request now owns (no report), or the finished one
    (with its report). Raises IdempotencyMismatch or IdempotencyInFlight."""
    # Twice at most: a row that disappears between the failed insert and the read was
    # freed by a failed request or purged, and the key is free again.
    for _attempt in range(2):
        now = timezone.now()
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user, key=key, request_hash=request_hash, created_at=now
                )
        except IntegrityError:
            pass
        existing = (
            IdempotencyKey.objects.select_related("report").filter(user=user, key=key).first()
        )
        if existing is None:
            continue
        if existing.request_hash != request_hash:
            raise IdempotencyMismatch()
        if existing.report is not None:
            return existing
        if existing.created_at > now - IN_FLIGHT_TIMEOUT:
            raise IdempotencyInFlight()
        # Abandoned by a request that died: take it over, unless another request just did.
        if _owned(existing).update(created_at=now):
            existing.created_at = now
            return existing
        raise IdempotencyInFlight()
    raise IdempotencyInFlight()


def _owned(claim: IdempotencyKey) -> QuerySet[IdempotencyKey]:
    """The claim's row, as long as no report is tied to it and nobody took it over."""
    return IdempotencyKey.objects.filter(
        pk=claim.pk, report__isnull=True, created_at=claim.created_at
    )


def _attach(claim: IdempotencyKey, report: Report) -> None:
    if not _owned(claim).update(report=report):
        # Another request took the key over: this one must file nothing (rolls back).
        raise IdempotencyInFlight()


def _release(claim: IdempotencyKey) -> None:
    try:
        _owned(claim).delete()
    except DatabaseError:
        # The claim expires after IN_FLIGHT_TIMEOUT all the same.
        logger.exception("Could not free the idempotency key %s", claim.pk)
