"""SMS gateways (backends), chosen by settings.SMS_BACKEND.

- console: writes the number and the message to the server's output at once (development);
- file: one file per message in settings.SMS_FILE_DIR;
- locmem: keeps messages in `outbox` (tests);
- kannel: Kannel's smsbox (its HTTP `sendsms`), which talks SMPP to the carriers' SMS centres;
- http: a provider's own HTTP API (URL, method, field names and sign-in from settings);
- or the dotted path of a class with the same `send` method.

A backend's `send(phone, text, status_url=...)` returns the gateway's id for the message ("" if
it gives none), or raises SmsTransientError (the gateway is away, overloaded or throttling: try
again later) or SmsPermanentError (the gateway or the carrier refused this message: a bad
number, a rejected sender; trying again cannot help). Backends never log the text: it may
hold a one-time code.
"""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The gateway did not take the message; the message says why (never the text)."""


class SmsTransientError(SmsError):
    """Worth trying again later: the gateway is down, overloaded or throttling."""


class SmsPermanentError(SmsError):
    """Not worth trying again: the number or the message was refused."""


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    status_url: str = ""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str, *, status_url: str = "") -> str: ...


class ConsoleBackend:
    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()
        return ""


class FileBackend:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory or settings.SMS_FILE_DIR)

    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.txt"
        (self.directory / name).write_text(f"To: {phone}\n\n{text}\n", encoding="utf-8")
        return ""


outbox: list[SmsMessage] = []
_outbox_lock = threading.Lock()


class LocmemBackend:
    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        with _outbox_lock:
            outbox.append(SmsMessage(phone=phone, text=text, status_url=status_url))
        return ""


# GSM 03.38: the default alphabet and its extension table. A text made only of these goes as
# 7-bit GSM (160 characters a part); any other character (Vietnamese letters with their
# diacritics: ă, ơ, ư, ạ, ế...) needs UCS-2 (70 characters a part), or the carrier would turn
# it into "?".
GSM_CHARACTERS = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€\f"
)


def needs_unicode(text: str) -> bool:
    """Whether the text must go as UCS-2 to keep every character."""
    return any(character not in GSM_CHARACTERS for character in text)


def _post_or_get(method: str, url: str, **options: Any) -> httpx.Response:
    """One request to a gateway; a network failure or a timeout is transient."""
    try:
        return httpx.request(method, url, timeout=settings.SMS_GATEWAY_TIMEOUT, **options)
    except httpx.HTTPError as error:
        raise SmsTransientError(f"{type(error).__name__}: {error}") from error


def _classify(response: httpx.Response) -> None:
    """Raise for an answer that is not a success: 429, 408 and 5xx are transient (throttled,
    overloaded, away), any other 4xx is a refusal of this message."""
    code = response.status_code
    if code < 400:
        return
    reason = f"HTTP {code}: {response.text.strip()[:200]}"
    if code in (408, 429) or code >= 500:
        raise SmsTransientError(reason)
    raise SmsPermanentError(reason)


class KannelBackend:
    """Sends through Kannel's smsbox: GET /cgi-bin/sendsms with the sendsms-user's name and
    password, the brandname as `from`, the text in UTF-8 (`charset`) and, when it has
    characters GSM lacks (Vietnamese diacritics), `coding=2` so that Kannel sends it as UCS-2.
    With a status URL, Kannel calls it back with each delivery report (`dlr-mask` 31: delivered,
    undelivered, queued at the SMS centre, accepted and rejected by it).

    smsbox answers 202 when bearerbox took the message ("0: Accepted for delivery", or "3:
    Queued for later delivery" while the carrier link is down: bearerbox keeps it in its
    store); 503 when bearerbox asks to try again later; 403 and 400 when it refuses the
    message or our credentials; nothing at all while it is down (transient).
    """

    DLR_MASK = 31

    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        params: dict[str, str] = {
            "username": settings.KANNEL_USERNAME,
            "password": settings.KANNEL_PASSWORD,
            "from": settings.SMS_SENDER,
            "to": phone,
            "text": text,
            "charset": "UTF-8",
        }
        if needs_unicode(text):
            params["coding"] = "2"
        if settings.KANNEL_SMSC:
            params["smsc"] = settings.KANNEL_SMSC
        if status_url:
            params["dlr-mask"] = str(self.DLR_MASK)
            # Kannel fills in: %d the report's type, %A the SMS centre's answer, %F its id.
            params["dlr-url"] = f"{status_url}&type=%d&answer=%A&foreign=%F"
        response = _post_or_get("GET", settings.KANNEL_SENDSMS_URL, params=params)
        _classify(response)
        return ""


def _dig(data: Any, path: str) -> str:
    """The value at a dotted path of a JSON answer, as text ("" when absent)."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return ""
    return "" if data is None or isinstance(data, dict | list) else str(data)[:100]


class HttpBackend:
    """A provider's own HTTP API: SMS_HTTP_URL with SMS_HTTP_METHOD, the fields named by
    SMS_HTTP_FIELDS (`to`, `text`, and optionally `from` and `status_url`) as JSON, a form or
    (GET) the query string, signed in as SMS_HTTP_AUTH says. The message id is read from the
    JSON answer at SMS_HTTP_ID_FIELD."""

    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        values = {"to": phone, "text": text, "from": settings.SMS_SENDER, "status_url": status_url}
        fields = {
            name: values[role]
            for role, name in settings.SMS_HTTP_FIELDS.items()
            if values.get(role)
        }
        options: dict[str, Any] = {"headers": {"Accept": "application/json"}}
        scheme, _sep, credentials = settings.SMS_HTTP_AUTH.partition(":")
        if scheme == "basic":
            username, _sep, password = credentials.partition(":")
            options["auth"] = (username, password)
        elif scheme == "bearer":
            options["headers"]["Authorization"] = f"Bearer {credentials}"
        elif scheme == "header":
            header, _sep, value = credentials.partition(":")
            options["headers"][header] = value
        if settings.SMS_HTTP_METHOD == "GET":
            options["params"] = fields
        elif settings.SMS_HTTP_FORMAT == "json":
            options["json"] = fields
        else:
            options["data"] = fields
        response = _post_or_get(settings.SMS_HTTP_METHOD, settings.SMS_HTTP_URL, **options)
        _classify(response)
        if not settings.SMS_HTTP_ID_FIELD:
            return ""
        try:
            return _dig(response.json(), settings.SMS_HTTP_ID_FIELD)
        except ValueError:
            return ""


ALIASES = {
    "console": "accounts.sms.ConsoleBackend",
    "file": "accounts.sms.FileBackend",
    "locmem": "accounts.sms.LocmemBackend",
    "kannel": "accounts.sms.KannelBackend",
    "http": "accounts.sms.HttpBackend",
}


def get_backend() -> SmsBackend:
    path = ALIASES.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()


def send_sms(phone: str, text: str, *, status_url: str = "") -> str:
    """Hand one message to the configured gateway now; its id, or SmsError. Only the outbox
    (accounts.texts) calls this for the product's texts, so that each is limited, counted and
    recorded."""
    backend = get_backend()
    if not status_url:  # a backend written for send(phone, text) keeps working
        return backend.send(phone, text) or ""
    return backend.send(phone, text, status_url=status_url) or ""
