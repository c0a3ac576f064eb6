"""The gateway backends that speak HTTP, against a real HTTP server on loopback playing the
provider (what they send, and how its answers are told apart: taken, refused for good,
try again later). Kannel itself: test_kannel_gateway.py."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from accounts import sms

VIETNAMESE = "Hue-S: mã xác thực của bạn là 123456"
ENGLISH = "Hue-S: your code is 123456."


@dataclass
class Provider:
    """What the provider received, and what it answers next."""

    url: str
    requests: list[dict[str, object]] = field(default_factory=list)
    status: int = 200
    body: str = "{}"


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = Provider(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            path, _sep, query = self.path.partition("?")
            state.requests.append(
                {
                    "method": self.command,
                    "path": path,
                    "query": dict(urllib.parse.parse_qsl(query)),
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length).decode(),
                }
            )
            payload = state.body.encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


# Kannel's sendsms


@pytest.fixture
def kannel(settings, provider):
    settings.SMS_BACKEND = "kannel"
    settings.KANNEL_SENDSMS_URL = f"{provider.url}/cgi-bin/sendsms"
    settings.KANNEL_USERNAME = "hues"
    settings.KANNEL_PASSWORD = "secret"
    settings.SMS_SENDER = "HUE-S"
    provider.status, provider.body = 202, "0: Accepted for delivery"
    return provider


def test_kannel_gets_the_brandname_the_number_and_the_text_in_utf8(kannel):
    sms.send_sms("+84905123456", VIETNAMESE)

    (request,) = kannel.requests
    query = request["query"]
    assert request["path"] == "/cgi-bin/sendsms"
    assert query["username"] == "hues"
    assert query["password"] == "secret"
    assert query["from"] == "HUE-S"
    assert query["to"] == "+84905123456"
    assert query["text"] == VIETNAMESE
    assert query["charset"] == "UTF-8"


def test_vietnamese_goes_as_ucs2_and_plain_latin_as_gsm(kannel):
    sms.send_sms("+84905123456", VIETNAMESE)
    sms.send_sms("+84905123456", ENGLISH)

    assert kannel.requests[0]["query"]["coding"] == "2"
    assert "coding" not in kannel.requests[1]["query"]


def test_kannel_is_asked_for_delivery_reports_on_the_status_url(kannel):
    sms.send_sms("+84905123456", ENGLISH, status_url="https://api.example.vn/r?id=5&token=t")

    query = kannel.requests[0]["query"]
    assert query["dlr-mask"] == "31"
    assert query["dlr-url"] == (
        "https://api.example.vn/r?id=5&token=t&type=%d&answer=%A&foreign=%F"
    )


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, "Number(s) has/have been denied by white- and/or black-lists.", "permanent"),
        (403, "Not routable. Do not try again.", "permanent"),
        (403, "Authorization failed for sendsms", "permanent"),
        (503, "Temporal failure, try again later.", "transient"),
        (500, "Sending failed.", "transient"),
        (429, "Too many requests", "transient"),
    ],
)
def test_kannels_answers_are_told_apart(kannel, status, body, error):
    kannel.status, kannel.body = status, body
    expected = sms.SmsPermanentError if error == "permanent" else sms.SmsTransientError

    with pytest.raises(expected) as raised:
        sms.send_sms("+84905123456", ENGLISH)

    assert body[:20] in str(raised.value)
    assert ENGLISH not in str(raised.value)


def test_a_gateway_that_does_not_answer_is_transient(settings):
    settings.SMS_BACKEND = "kannel"
    settings.KANNEL_SENDSMS_URL = "http://127.0.0.1:9/cgi-bin/sendsms"  # nothing listens

    with pytest.raises(sms.SmsTransientError):
        sms.send_sms("+84905123456", ENGLISH)


# A provider's own HTTP API


@pytest.fixture
def http_provider(settings, provider):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = f"{provider.url}/v1/messages"
    settings.SMS_HTTP_METHOD = "POST"
    settings.SMS_HTTP_FORMAT = "json"
    settings.SMS_HTTP_FIELDS = {"to": "phone", "text": "content", "from": "brandname"}
    settings.SMS_HTTP_AUTH = "bearer:provider-token"
    settings.SMS_HTTP_ID_FIELD = "data.id"
    settings.SMS_SENDER = "HUE-S"
    provider.body = json.dumps({"data": {"id": "msg-981"}})
    return provider


def test_the_provider_gets_its_own_field_names_as_json_signed_in(http_provider):
    gateway_id = sms.send_sms("+84905123456", VIETNAMESE)

    (request,) = http_provider.requests
    assert request["method"] == "POST"
    assert request["path"] == "/v1/messages"
    assert json.loads(str(request["body"])) == {
        "phone": "+84905123456",
        "content": VIETNAMESE,
        "brandname": "HUE-S",
    }
    assert request["headers"]["Authorization"] == "Bearer provider-token"
    assert gateway_id == "msg-981"


def test_the_provider_may_take_a_form_with_basic_auth_and_a_status_url(settings, http_provider):
    settings.SMS_HTTP_FORMAT = "form"
    settings.SMS_HTTP_AUTH = "basic:hue:pass:word"
    settings.SMS_HTTP_FIELDS = {"to": "to", "text": "msg", "status_url": "callback"}

    sms.send_sms("+84905123456", ENGLISH, status_url="https://api.example.vn/r?id=1")

    (request,) = http_provider.requests
    assert urllib.parse.parse_qs(str(request["body"])) == {
        "to": ["+84905123456"],
        "msg": [ENGLISH],
        "callback": ["https://api.example.vn/r?id=1"],
    }
    assert request["headers"]["Authorization"] == "Basic aHVlOnBhc3M6d29yZA=="


def test_the_provider_may_take_a_get_with_a_header_key(settings, http_provider):
    settings.SMS_HTTP_METHOD = "GET"
    settings.SMS_HTTP_AUTH = "header:X-Api-Key:k-123"

    sms.send_sms("+84905123456", ENGLISH)

    (request,) = http_provider.requests
    assert request["query"] == {"phone": "+84905123456", "content": ENGLISH, "brandname": "HUE-S"}
    assert request["headers"]["X-Api-Key"] == "k-123"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, sms.SmsPermanentError),
        (422, sms.SmsPermanentError),
        (429, sms.SmsTransientError),
        (408, sms.SmsTransientError),
        (502, sms.SmsTransientError),
    ],
)
def test_the_providers_answers_are_told_apart(http_provider, status, error):
    http_provider.status, http_provider.body = status, '{"error": "nope"}'

    with pytest.raises(error):
        sms.send_sms("+84905123456", ENGLISH)


def test_an_answer_without_the_id_gives_no_id(http_provider):
    http_provider.body = "not json"

    assert sms.send_sms("+84905123456", ENGLISH) == ""
