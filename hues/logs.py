"""Logs: one line per request and per task, as JSON (LOG_FORMAT=json, production) or as
text (console, for `bin/serve`), each with the request id, and never a secret in full.

The request id comes from a well-formed X-Request-ID header (a UUID, e.g. from the load
balancer) or is made anew, and is sent back in the answer's X-Request-ID (django-guid). A
task enqueued while it is set carries it in its message headers, and the worker logs the
task with it (hues.celery), so one id follows a report from the API into its tasks.

MaskFilter, on every handler, masks what must never reach a log: passwords, tokens, keys and
one-time codes entirely, phone numbers but for their last three digits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.functional import SimpleLazyObject, empty

if TYPE_CHECKING:  # settings import this module: nothing that reads them at import
    from django.http import HttpRequest, HttpResponseBase

REQUEST_ID_HEADER = "X-Request-ID"
# The task message header that carries it.
TASK_HEADER = "request_id"
MASK = "[masked]"

request_logger = logging.getLogger("hues.request")
task_logger = logging.getLogger("hues.task")

# Values of these keys are masked whole, in text (key=value, "key": "value") and in a
# record's extra fields.
_SECRET_KEY = (  # a pattern, not a password
    r"[\w-]*(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|authorization|otp)[\w-]*"  # noqa: S105
)
_KEYED_SECRET = re.compile(
    rf"""(?ix)
    (?P<key>["']?\b{_SECRET_KEY}["']?\s*[:=]\s*)
    (?:(?P<quote>["'])(?P<quoted>.*?)(?P=quote)|(?P<bare>[^\s,;&}}\]]+))
    """
)
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]+")
# A one-time code: 4 to 8 digits shortly after "code", "OTP", "PIN" or "mã" (Vietnamese).
_ONE_TIME_CODE = re.compile(r"(?i)\b(code|otp|pin|mã)\b(\D{0,40}?)(?<!\d)\d{4,8}(?!\d)")
# Phone numbers: Vietnamese (0..., 84..., +84...) and any international +NNN..., with
# spaces, dots or dashes between digits; all but the last three digits are masked.
_PHONE = re.compile(r"(?<![\w.+/-])(?:\+\d{1,3}[ .-]?|84|0)\d(?:[ .-]?\d){7,11}(?!\w)")


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - 3) + digits[-3:]


def _mask_keyed(match: re.Match[str]) -> str:
    quote = match.group("quote") or ""
    return f"{match.group('key')}{quote}{MASK}{quote}"


# Text without any of these holds nothing to mask: most lines (paths, routes, names) are
# let through after this one search instead of the five below.
_SUSPECT = re.compile(
    r"\d(?:[ .-]?\d){3}|eyJ|(?i:bearer|basic|pass|secret|token|key|authoriz|otp|code|pin|mã)"
)


def mask_text(text: str) -> str:
    """`text` with its secrets masked (see the module's docstring)."""
    if not _SUSPECT.search(text):
        return text
    text = _JWT.sub(MASK, text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} {MASK}", text)
    text = _KEYED_SECRET.sub(_mask_keyed, text)
    text = _ONE_TIME_CODE.sub(lambda match: f"{match.group(1)}{match.group(2)}{MASK}", text)
    return _PHONE.sub(_mask_phone, text)


_SECRET_NAME = re.compile(rf"(?i)^{_SECRET_KEY}$")
_CODE_NAME = re.compile(r"(?i)^[\w-]*(?:code|otp|pin)$")
_PHONE_NAME = re.compile(r"(?i)phone|msisdn|mobile")


def mask_value(key: str, value: Any) -> Any:
    """An extra field's value, masked by its name (password, token, ...: whole; a code: its
    digits; a phone: but the last three digits) and, for text, by its content."""
    if isinstance(value, Mapping):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, item) for item in value]
    if value is None or isinstance(value, bool | float):
        return value
    if _SECRET_NAME.match(key):
        return MASK
    text = str(value) if isinstance(value, int) else value
    if not isinstance(text, str):
        return value
    if _CODE_NAME.match(key) and re.fullmatch(r"\s*\d{4,8}\s*", text):
        return MASK
    if _PHONE_NAME.search(key):
        digits = re.sub(r"\D", "", text)
        return "*" * (len(digits) - 3) + digits[-3:] if len(digits) > 6 else MASK
    return value if isinstance(value, int) else mask_text(text)


# The attributes every LogRecord has; the others are a call's `extra` fields.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class MaskFilter(logging.Filter):
    """Masks secrets in a record before any handler formats it: its message (with its
    arguments), its extra fields, and the text of its exception and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: keep what there is
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = mask_text(message), None
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRIBUTES and key != "request_id":
                setattr(record, key, mask_value(key, value))
        if record.exc_info:
            # Formatted here so that it can be masked: an exception's message may quote a
            # row (an IntegrityError names the phone number that clashed).
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: every record through one handler on standard error, as JSON or as
    text, with its request id and masked."""
    formatters = {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "{levelname}{name}{message}{request_id}",
            "style": "{",
            "timestamp": "time",  # ISO 8601, UTC
            "rename_fields": {"levelname": "level", "name": "logger"},
            "json_ensure_ascii": False,
        },
        "console": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {
                "()": "django_guid.log_filters.CorrelationId",
                "correlation_id_field": "request_id",
            },
            "mask": {"()": "hues.logs.MaskFilter"},
        },
        "formatters": {log_format: formatters[log_format]},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id", "mask"],
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The request's own line (hues.request) says what django.request's warnings
            # about 4xx answers say; server errors keep their traceback.
            "django.request": {"level": "ERROR"},
            # Its warning quotes a malformed X-Request-ID: the client's text.
            "django_guid": {"level": "ERROR"},
            # One line per task: hues.task's (hues.celery), not Celery's "received" and
            # "succeeded" lines; Celery's own internal errors are still logged.
            "celery.worker.strategy": {"level": "WARNING"},
            "celery.app.trace": {"level": "CRITICAL"},
        },
    }


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id when the request already knows it (never a query for it)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None


def _logged_path(request: HttpRequest) -> str:
    """The path with any secret it holds (a device token: me/devices/<token>) masked."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    for name, value in match.kwargs.items() if match is not None else ():
        if _SECRET_NAME.match(name) and isinstance(value, str) and value:
            path = path.replace(value, MASK)
    return path


def log_request(
    request: HttpRequest, response: HttpResponseBase, *, route: str, seconds: float
) -> None:
    """The request's one line: method, path (no query), route, status, time, user."""
    path = _logged_path(request)
    request_logger.info(
        "%s %s %s",
        request.method,
        path,
        response.status_code,
        extra={
            "method": request.method,
            "path": path,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "user_id": _user_id(request),
        },
    )


def log_task(
    *, task: str, task_id: str, state: str, seconds: float | None, error: BaseException | None
) -> None:
    """A task's one line, as Celery words its own ("Task name[id] succeeded in 0.04s")."""
    word = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}.get(state, state)
    took = f" in {seconds:.3f}s" if seconds is not None else ""
    failed = state == "FAILURE" and error is not None
    task_logger.log(
        logging.ERROR if state == "FAILURE" else logging.INFO,
        "Task %s[%s] %s%s",
        task,
        task_id,
        word,
        took,
        exc_info=(type(error), error, error.__traceback__) if failed and error else None,
        extra={
            "task": task,
            "task_id": task_id,
            "state": state,
            "duration_ms": round(seconds * 1000, 1) if seconds is not None else None,
        },
    )
