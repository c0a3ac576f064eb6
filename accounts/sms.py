"""Pluggable SMS backends, chosen by settings.SMS_BACKEND.

- console: writes the number and the message to the server's output at once (development);
- file: one file per message in settings.SMS_FILE_DIR;
- locmem: keeps messages in `outbox` (tests);
- or the dotted path of a class with a `send(phone, message)` method (a real gateway).
"""

from __future__ import annotations

import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleBackend:
    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()


class FileBackend:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory or settings.SMS_FILE_DIR)

    def send(self, phone: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.txt"
        (self.directory / name).write_text(f"To: {phone}\n\n{text}\n", encoding="utf-8")


outbox: list[SmsMessage] = []
_outbox_lock = threading.Lock()


class LocmemBackend:
    def send(self, phone: str, text: str) -> None:
        with _outbox_lock:
            outbox.append(SmsMessage(phone=phone, text=text))


ALIASES = {
    "console": "accounts.sms.ConsoleBackend",
    "file": "accounts.sms.FileBackend",
    "locmem": "accounts.sms.LocmemBackend",
}


def get_backend() -> SmsBackend:
    path = ALIASES.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    return import_string(path)()


def send_sms(phone: str, text: str) -> None:
    get_backend().send(phone, text)
