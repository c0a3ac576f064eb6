"""SMS backends: console (at once, to the server's output), file, locmem, or a dotted path.
(Kannel and a provider's HTTP API: test_sms_gateways.py.)"""

from __future__ import annotations

import io
import sys

import pytest

from accounts import sms
from accounts.models import TextMessage
from accounts.tasks import send_text
from accounts.texts import text_queue
from tests.accounts.conftest import PHONE, code_in

TEXT = "Hue-S: mã xác nhận của bạn là 482913."


class RecordingBackend:
    """A gateway stand-in, configured by its dotted path."""

    sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str, *, status_url: str = "") -> str:
        self.sent.append((phone, text))
        return "gateway-42"


class FlushRecorder(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed_with = ""

    def flush(self) -> None:
        self.flushed_with = self.getvalue()
        super().flush()


@pytest.fixture
def recording_backend(settings):
    settings.SMS_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.sent = []
    yield RecordingBackend.sent
    RecordingBackend.sent = []


@pytest.fixture
def sms_dir(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_DIR = tmp_path / "sms"
    return settings.SMS_FILE_DIR


def test_the_console_backend_writes_the_number_and_the_text_to_stdout(settings, capsys):
    settings.SMS_BACKEND = "console"

    sms.send_sms(PHONE, TEXT)

    out = capsys.readouterr().out
    assert PHONE in out
    assert TEXT in out


def test_the_console_backend_flushes_so_the_message_appears_at_once(settings, monkeypatch):
    settings.SMS_BACKEND = "console"
    stdout = FlushRecorder()
    monkeypatch.setattr(sys, "stdout", stdout)

    sms.send_sms(PHONE, TEXT)

    assert TEXT in stdout.flushed_with


def test_registering_with_the_console_backend_prints_the_code(register, settings, capsys):
    settings.SMS_BACKEND = "console"

    register()

    out = capsys.readouterr().out
    assert PHONE in out
    assert code_in(out)


def test_the_file_backend_writes_one_file_per_message(sms_dir):
    sms.send_sms(PHONE, TEXT)
    sms.send_sms("+84912345678", "Hue-S: mã xác nhận của bạn là 000111.")

    assert len(list(sms_dir.iterdir())) == 2


def test_the_file_backend_writes_the_number_and_the_text(sms_dir):
    sms.send_sms(PHONE, TEXT)

    (message,) = sms_dir.iterdir()
    content = message.read_text(encoding="utf-8")
    assert PHONE in content
    assert TEXT in content


def test_the_file_backend_creates_its_directory(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_DIR = tmp_path / "not" / "yet" / "there"

    sms.send_sms(PHONE, TEXT)

    assert len(list(settings.SMS_FILE_DIR.iterdir())) == 1


def test_registering_with_the_file_backend_writes_the_code_to_a_file(register, sms_dir):
    register()

    (message,) = sms_dir.iterdir()
    content = message.read_text(encoding="utf-8")
    assert PHONE in content
    assert code_in(content)


def test_the_locmem_backend_keeps_messages_in_the_outbox(settings, sms_outbox):
    settings.SMS_BACKEND = "locmem"

    sms.send_sms(PHONE, TEXT)

    assert sms_outbox == [sms.SmsMessage(phone=PHONE, text=TEXT)]


def test_the_backend_may_be_a_dotted_path(recording_backend):
    sms.send_sms(PHONE, TEXT)

    assert recording_backend == [(PHONE, TEXT)]


def test_an_unknown_backend_fails_loudly(settings):
    settings.SMS_BACKEND = "accounts.sms.NoSuchBackend"

    with pytest.raises(ImportError):
        sms.send_sms(PHONE, TEXT)


def test_the_send_text_task_sends_an_outbox_row_through_the_configured_backend(
    recording_backend, db
):
    text = text_queue(kind=TextMessage.Kind.NOTIFICATION, phone=PHONE, body=TEXT)

    send_text.delay(text.pk)

    assert recording_backend == [(PHONE, TEXT)]
    text.refresh_from_db()
    assert (text.state, text.gateway_id, text.attempts) == (TextMessage.State.SENT, "gateway-42", 1)
