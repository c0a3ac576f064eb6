"""Deliveries: which channels a notification goes out on, the `reports.deliver` task (sent
once, retried with backoff, failures recorded), and the push backends, FCM included.

Nothing here touches the network: FCM is answered by an httpx.MockTransport, with a service
account whose RSA key is generated for the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.models import Device, User
from notifications.channels import push
from notifications.models import Delivery, Notification
from notifications.tasks import deliver, sweep_deliveries
from reports import lifecycle
from reports.audience import notify_event
from reports.models import Event, Report, ReportStatus, Supporter
from tests.reports.helpers import resolve_with_photo

pytestmark = pytest.mark.django_db
K = Event.Kind
Channel = Delivery.Channel
State = Delivery.State
FAILING = f"{__name__}.BrokenBackend"
FLAKY = f"{__name__}.FlakyBackend"


class BrokenBackend:
    """A push service that is down."""

    def send(self, token: str, message: push.PushMessage) -> None:
        raise ConnectionError("push service unreachable")


class FlakyBackend:
    """Down for the first call of each test, then up."""

    calls = 0

    def send(self, token: str, message: push.PushMessage) -> None:
        FlakyBackend.calls += 1
        if FlakyBackend.calls == 1:
            raise TimeoutError("timed out")
        push.outbox.append((token, message))


@pytest.fixture(autouse=True)
def _push(settings: Any) -> Iterator[list[tuple[str, push.PushMessage]]]:
    settings.PUSH_BACKEND = "locmem"
    push.outbox.clear()
    push._backend.cache_clear()
    FlakyBackend.calls = 0
    yield push.outbox
    push.outbox.clear()
    push._backend.cache_clear()


@pytest.fixture
def pushed(_push: list[tuple[str, push.PushMessage]]) -> list[tuple[str, push.PushMessage]]:
    return _push


@pytest.fixture
def phone(citizen: User) -> Device:
    return Device.objects.create(user=citizen, token="citizen-phone-token", platform="android")


@pytest.fixture
def resolved_report(in_progress_report: Report, staff_a: User) -> Report:
    return resolve_with_photo(report=in_progress_report, actor=staff_a, note="Đã thay bóng đèn.")


def _deliveries(report: Report, kind: str, user: User) -> dict[str, Delivery]:
    event = report.events.filter(kind=kind).latest("id")
    notify_event(event.pk)
    rows = Delivery.objects.filter(notification__event=event, notification__user=user)
    return {delivery.channel: delivery for delivery in rows}


def _reload(delivery: Delivery) -> Delivery:
    delivery.refresh_from_db()
    return delivery


# Which channels


def test_a_user_with_a_device_gets_a_push(routed_report, citizen, phone):
    assert set(_deliveries(routed_report, K.ROUTED, citizen)) == {Channel.PUSH}


def test_a_user_without_a_device_only_has_the_inbox(routed_report, citizen):
    assert _deliveries(routed_report, K.ROUTED, citizen) == {}
    assert Notification.objects.filter(user=citizen, kind=K.ROUTED).exists()


def test_the_result_also_goes_by_sms_to_the_reporter(resolved_report, citizen, phone):
    assert set(_deliveries(resolved_report, K.RESOLVED, citizen)) == {Channel.PUSH, Channel.SMS}


def test_a_rejection_goes_by_sms_too(routed_report, staff_a, citizen):
    lifecycle.report_reject(
        report=routed_report, actor=staff_a, reason="invalid", message="Không đúng."
    )

    assert set(_deliveries(routed_report, K.REJECTED, citizen)) == {Channel.SMS}


def test_supporters_get_no_sms(in_progress_report, staff_a, other_citizen):
    Supporter.objects.create(report=in_progress_report, user=other_citizen)
    resolve_with_photo(report=in_progress_report, actor=staff_a, note="Xong.")

    assert _deliveries(in_progress_report, K.RESOLVED, other_citizen) == {}


def test_sms_can_be_switched_off(resolved_report, citizen, settings):
    settings.NOTIFICATION_SMS_ENABLED = False

    assert _deliveries(resolved_report, K.RESOLVED, citizen) == {}


def test_email_goes_to_users_with_an_address_when_enabled(routed_report, citizen, settings):
    settings.NOTIFICATION_EMAIL_ENABLED = True

    assert set(_deliveries(routed_report, K.ROUTED, citizen)) == {Channel.EMAIL}


def test_email_is_off_by_default(routed_report, citizen):
    assert citizen.email
    assert _deliveries(routed_report, K.ROUTED, citizen) == {}


# Sending


def test_a_push_goes_to_each_of_the_users_devices(routed_report, citizen, phone, pushed):
    Device.objects.create(user=citizen, token="citizen-tablet-token", platform="ios")
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    deliver.apply(args=[delivery.pk])

    assert sorted(token for token, _ in pushed) == ["citizen-phone-token", "citizen-tablet-token"]
    message = pushed[0][1]
    notification = delivery.notification
    assert (message.title, message.body) == (notification.title, notification.body)
    assert message.data == {
        "notification": str(notification.pk),
        "kind": "routed",
        "reference": routed_report.reference,
    }
    delivery = _reload(delivery)
    assert (delivery.state, delivery.attempts, delivery.last_error) == (State.SENT, 1, "")
    assert delivery.sent_at is not None


def test_a_sent_delivery_is_not_sent_again(routed_report, citizen, phone, pushed):
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    deliver.apply(args=[delivery.pk])
    deliver.apply(args=[delivery.pk])

    assert len(pushed) == 1
    assert _reload(delivery).attempts == 1


def test_the_result_sms_names_the_report(resolved_report, citizen, sms_outbox):
    delivery = _deliveries(resolved_report, K.RESOLVED, citizen)[Channel.SMS]

    deliver.apply(args=[delivery.pk])

    assert len(sms_outbox) == 1
    assert sms_outbox[0].phone == citizen.phone
    assert resolved_report.reference in sms_outbox[0].text
    assert _reload(delivery).state == State.SENT


def test_an_email_carries_the_title_and_the_text(
    resolved_report, citizen, settings, mailoutbox, sms_outbox
):
    settings.NOTIFICATION_EMAIL_ENABLED = True
    delivery = _deliveries(resolved_report, K.RESOLVED, citizen)[Channel.EMAIL]

    deliver.apply(args=[delivery.pk])

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [citizen.email]
    assert resolved_report.reference in mail.subject
    assert mail.body.startswith("Đã thay bóng đèn.")


def test_a_deactivated_user_is_skipped(routed_report, citizen, phone, pushed):
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]
    User.objects.filter(pk=citizen.pk).update(is_active=False)

    deliver.apply(args=[delivery.pk])

    assert pushed == []
    assert _reload(delivery).state == State.SKIPPED


def test_a_user_who_removed_every_device_is_skipped(routed_report, citizen, phone, pushed):
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]
    phone.delete()

    deliver.apply(args=[delivery.pk])

    assert _reload(delivery).state == State.SKIPPED


def test_a_delivery_that_no_longer_exists_is_ignored():
    deliver.apply(args=[10**9])


# Failures: retried with backoff, recorded, never in the way of the transition


class Retried(Exception):
    """What the worker does with a retry: schedule the task again after `countdown`."""

    def __init__(self, countdown: float) -> None:
        self.countdown = countdown


@pytest.fixture
def worker_attempt(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    """Run `reports.deliver` as a worker would for its nth retry (0: the first attempt);
    a retry it asks for raises Retried with the countdown Celery computed."""

    def retry(exc: BaseException | None = None, countdown: float = 0, **options: Any) -> None:
        raise Retried(countdown) from exc

    monkeypatch.setattr(deliver, "retry", retry)

    def attempt(delivery_id: int, retries: int) -> None:
        deliver.push_request(retries=retries, is_eager=False, called_directly=False)
        try:
            deliver.run(delivery_id)
        finally:
            deliver.pop_request()

    return attempt


def test_a_failing_backend_is_retried_with_exponential_backoff_then_marked_failed(
    routed_report, citizen, phone, settings, worker_attempt
):
    settings.PUSH_BACKEND = FAILING
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]
    countdowns = []

    for retries in range(deliver.max_retries):
        with pytest.raises(Retried) as retried:
            worker_attempt(delivery.pk, retries)
        countdowns.append(retried.value.countdown)
        assert _reload(delivery).state == State.PENDING
    worker_attempt(delivery.pk, deliver.max_retries)

    delivery = _reload(delivery)
    assert delivery.state == State.FAILED
    assert delivery.attempts == deliver.max_retries + 1
    assert "push service unreachable" in delivery.last_error
    assert delivery.sent_at is None
    # Full jitter: each wait is drawn below 30 s * 2^n, capped at 30 minutes.
    bounds = [min(30 * 2**n, 30 * 60) for n in range(deliver.max_retries)]
    assert all(0 <= wait <= bound for wait, bound in zip(countdowns, bounds, strict=True))
    assert bounds == [30, 60, 120, 240, 480, 960]


def test_between_retries_the_delivery_stays_pending_with_the_error(
    routed_report, citizen, phone, settings, worker_attempt
):
    settings.PUSH_BACKEND = FAILING
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    with pytest.raises(Retried):
        worker_attempt(delivery.pk, 0)

    delivery = _reload(delivery)
    assert (delivery.state, delivery.attempts) == (State.PENDING, 1)
    assert "ConnectionError: push service unreachable" in delivery.last_error


def test_a_retry_that_succeeds_marks_the_delivery_sent(
    routed_report, citizen, phone, settings, pushed, worker_attempt
):
    settings.PUSH_BACKEND = FLAKY
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    with pytest.raises(Retried):
        worker_attempt(delivery.pk, 0)
    worker_attempt(delivery.pk, 1)

    delivery = _reload(delivery)
    assert (delivery.state, delivery.attempts) == (State.SENT, 2)
    assert len(pushed) == 1


def test_without_a_broker_the_one_attempt_is_final(routed_report, citizen, phone, settings):
    """Eager tasks run in the web process: nothing could make a later attempt, and retrying
    on the spot would hold up the request."""
    settings.PUSH_BACKEND = FAILING
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    deliver.apply(args=[delivery.pk])

    delivery = _reload(delivery)
    assert (delivery.state, delivery.attempts) == (State.FAILED, 1)
    assert "push service unreachable" in delivery.last_error


def test_a_message_the_service_refuses_is_not_retried(
    routed_report, citizen, phone, monkeypatch, worker_attempt
):
    def refuse(self: Any, token: str, message: push.PushMessage) -> None:
        raise push.PushRejected("HTTP 400 INVALID_ARGUMENT: bad payload")

    monkeypatch.setattr(push.LocmemBackend, "send", refuse)
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    worker_attempt(delivery.pk, 0)  # no Retried

    delivery = _reload(delivery)
    assert (delivery.state, delivery.attempts) == (State.FAILED, 1)
    assert "bad payload" in delivery.last_error


def test_a_failing_sms_gateway_is_retried_and_recorded(
    resolved_report, citizen, settings, worker_attempt
):
    settings.SMS_BACKEND = FAILING
    delivery = _deliveries(resolved_report, K.RESOLVED, citizen)[Channel.SMS]

    with pytest.raises(Retried):
        worker_attempt(delivery.pk, 0)

    delivery = _reload(delivery)
    assert (delivery.state, delivery.attempts) == (State.PENDING, 1)
    assert "ConnectionError" in delivery.last_error


def test_a_failing_push_service_never_blocks_the_transition(
    in_progress_report, staff_a, citizen, phone, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_BACKEND = FAILING

    with django_capture_on_commit_callbacks(execute=True):
        resolve_with_photo(report=in_progress_report, actor=staff_a, note="Xong.")

    in_progress_report.refresh_from_db()
    assert in_progress_report.status == ReportStatus.RESOLVED
    delivery = Delivery.objects.get(notification__user=citizen, channel=Channel.PUSH)
    assert delivery.state == State.FAILED
    assert "push service unreachable" in delivery.last_error


def test_after_the_commit_the_whole_chain_runs_notify_then_deliver(
    in_progress_report, staff_a, citizen, phone, pushed, sms_outbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        resolve_with_photo(report=in_progress_report, actor=staff_a, note="Xong.")

    assert [token for token, _ in pushed] == [phone.token]
    assert [message.phone for message in sms_outbox] == [citizen.phone]
    assert set(
        Delivery.objects.filter(notification__user=citizen).values_list("channel", "state")
    ) == {(Channel.PUSH, State.SENT), (Channel.SMS, State.SENT)}


def test_the_sweeper_resends_deliveries_whose_task_was_lost(
    routed_report, citizen, phone, pushed, settings
):
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]
    assert sweep_deliveries.apply().get() == 0  # too recent: its task may be on its way

    later = timezone.now() + settings.DELIVERY_SWEEP_AFTER + timedelta(minutes=1)
    with time_machine.travel(later):
        assert sweep_deliveries.apply().get() == 1
        assert sweep_deliveries.apply().get() == 0

    assert _reload(delivery).state == State.SENT
    assert len(pushed) == 1


# Push backends


def test_push_backends_are_chosen_by_alias_or_dotted_path(settings):
    settings.PUSH_BACKEND = "log"
    assert isinstance(push.get_backend(), push.LogBackend)
    settings.PUSH_BACKEND = FAILING
    assert isinstance(push.get_backend(), BrokenBackend)


def test_the_log_backend_logs_the_message(settings, caplog):
    settings.PUSH_BACKEND = "log"

    with caplog.at_level("INFO", logger="notifications.channels.push"):
        push.get_backend().send(
            "abcdefghijklmnop", push.PushMessage(title="Tiêu đề", body="Nội dung")
        )

    assert "Tiêu đề" in caplog.text
    assert "abcdefghijklmnop" not in caplog.text  # the token is shortened


# FCM HTTP v1


PROJECT = "hue-s-test"
TOKEN_URI = "https://oauth2.example.test/token"
SEND_URL = f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
MESSAGE = push.PushMessage(
    title="Phản ánh đã xử lý", body="Đã thay bóng.", data={"kind": "resolved"}
)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def credentials(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> Path:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "key-1",
                "private_key": pem,
                "client_email": "push@hue-s-test.iam.gserviceaccount.com",
                "token_uri": TOKEN_URI,
            }
        )
    )
    return path


class FakeGoogle:
    """Answers the token exchange and the send requests; `answers` queues send replies."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: list[httpx.Response] = []
        self.issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URI:
            self.issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"access-{self.issued}",
                    "expires_in": 3599,
                    "token_type": "Bearer",
                },
            )
        if self.answers:
            return self.answers.pop(0)
        return httpx.Response(200, json={"name": f"projects/{PROJECT}/messages/1"})

    def sends(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) == SEND_URL]

    def exchanges(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) == TOKEN_URI]


def fcm_error(status: int, code: str, error_code: str = "", message: str = "") -> httpx.Response:
    details = (
        [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}]
        if error_code
        else []
    )
    body = {"error": {"code": status, "message": message, "status": code, "details": details}}
    return httpx.Response(status, json=body)


@pytest.fixture
def google() -> FakeGoogle:
    return FakeGoogle()


@pytest.fixture
def fcm(credentials: Path, google: FakeGoogle) -> push.FcmBackend:
    return push.FcmBackend(credentials_file=credentials, transport=httpx.MockTransport(google))


def test_fcm_sends_one_v1_message_per_token_with_a_bearer_token(fcm, google):
    fcm.send("device-token-1", MESSAGE)

    (request,) = google.sends()
    assert request.method == "POST"
    assert str(request.url) == SEND_URL
    assert request.headers["Authorization"] == "Bearer access-1"
    assert json.loads(request.content) == {
        "message": {
            "token": "device-token-1",
            "notification": {"title": "Phản ánh đã xử lý", "body": "Đã thay bóng."},
            "data": {"kind": "resolved"},
        }
    }


def test_fcm_signs_in_with_a_jwt_signed_by_the_service_accounts_key(fcm, google, rsa_key):
    fcm.send("device-token-1", MESSAGE)

    (exchange,) = google.exchanges()
    form = dict(httpx.QueryParams(exchange.content.decode()))
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"], rsa_key.public_key(), algorithms=["RS256"], audience=TOKEN_URI
    )
    assert claims["iss"] == "push@hue-s-test.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(form["assertion"])["kid"] == "key-1"


def test_fcm_keeps_the_access_token_until_it_expires(fcm, google):
    fcm.send("device-token-1", MESSAGE)
    fcm.send("device-token-2", MESSAGE)
    assert len(google.exchanges()) == 1

    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        fcm.send("device-token-3", MESSAGE)

    assert len(google.exchanges()) == 2
    assert google.sends()[-1].headers["Authorization"] == "Bearer access-2"


def test_fcm_signs_in_again_after_a_401(fcm, google):
    fcm.send("device-token-1", MESSAGE)
    google.answers.append(fcm_error(401, "UNAUTHENTICATED"))

    with pytest.raises(push.FcmError):
        fcm.send("device-token-1", MESSAGE)
    fcm.send("device-token-1", MESSAGE)

    assert len(google.exchanges()) == 2


@pytest.mark.parametrize(
    "response",
    [
        fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
        fcm_error(
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
        ),
    ],
    ids=["unregistered", "malformed-token"],
)
def test_fcm_reports_a_token_that_will_never_work(fcm, google, response):
    google.answers.append(response)

    with pytest.raises(push.InvalidToken):
        fcm.send("old-token", MESSAGE)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_fcm_throttling_and_outages_are_worth_a_retry(fcm, google, status):
    google.answers.append(fcm_error(status, "UNAVAILABLE"))

    with pytest.raises(push.FcmError):
        fcm.send("device-token-1", MESSAGE)


def test_fcm_refuses_a_bad_message_for_good(fcm, google):
    google.answers.append(fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Bad data"))

    with pytest.raises(push.PushRejected):
        fcm.send("device-token-1", MESSAGE)


def test_a_failed_sign_in_is_worth_a_retry(credentials):
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "invalid_grant"})

    backend = push.FcmBackend(credentials_file=credentials, transport=httpx.MockTransport(refuse))

    with pytest.raises(push.FcmError, match="invalid_grant"):
        backend.send("device-token-1", MESSAGE)


def test_fcm_takes_the_project_from_the_settings_before_the_key_file(credentials, settings):
    settings.FCM_PROJECT_ID = "other-project"

    backend = push.FcmBackend(credentials_file=credentials)

    assert backend.send_url == "https://fcm.googleapis.com/v1/projects/other-project/messages:send"


@pytest.mark.parametrize("content", [None, "not json", "{}"], ids=["missing", "garbled", "empty"])
def test_fcm_without_a_usable_key_file_is_a_configuration_error(tmp_path, settings, content):
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    settings.FCM_CREDENTIALS_FILE = str(path)

    with pytest.raises(ImproperlyConfigured, match="FCM_CREDENTIALS_FILE"):
        push.FcmBackend()


def test_an_unregistered_token_makes_the_delivery_forget_the_device(
    routed_report, citizen, phone, credentials, google, monkeypatch
):
    tablet = Device.objects.create(user=citizen, token="tablet-token", platform="ios")
    google.answers.append(fcm_error(404, "NOT_FOUND", "UNREGISTERED"))  # for the first token
    backend = push.FcmBackend(credentials_file=credentials, transport=httpx.MockTransport(google))
    monkeypatch.setattr(push, "get_backend", lambda: backend)
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    deliver.apply(args=[delivery.pk])

    sent_to = [json.loads(request.content)["message"]["token"] for request in google.sends()]
    assert sorted(sent_to) == sorted([phone.token, tablet.token])
    forgotten = sent_to[0]
    assert not Device.objects.filter(token=forgotten).exists()
    assert Device.objects.filter(user=citizen).count() == 1
    delivery = _reload(delivery)
    assert delivery.state == State.SENT
    assert "1 device(s) forgotten" in delivery.last_error


def test_a_delivery_whose_only_token_is_unregistered_is_skipped(
    routed_report, citizen, phone, credentials, google, monkeypatch
):
    google.answers.append(fcm_error(404, "NOT_FOUND", "UNREGISTERED"))
    backend = push.FcmBackend(credentials_file=credentials, transport=httpx.MockTransport(google))
    monkeypatch.setattr(push, "get_backend", lambda: backend)
    delivery = _deliveries(routed_report, K.ROUTED, citizen)[Channel.PUSH]

    deliver.apply(args=[delivery.pk])

    assert not Device.objects.filter(user=citizen).exists()
    assert _reload(delivery).state == State.SKIPPED


def test_the_fcm_backend_needs_its_key_file_at_start_up(settings):
    from tests.accounts.test_settings import start_settings

    result = start_settings(SECRET_KEY="a-real-secret", PUSH_BACKEND="fcm")

    assert result.returncode != 0
    assert "FCM_CREDENTIALS_FILE" in result.stderr


def test_a_service_account_without_a_phone_number_gets_no_sms(
    make_report, in_progress_report, staff_a
):
    from tests.reports.helpers import resolve_with_photo

    reporter = in_progress_report.reporter
    reporter.phone = "open311:abc123"
    reporter.save(update_fields=["phone"])
    resolve_with_photo(report=in_progress_report, actor=staff_a, note="Xong")
    event = in_progress_report.events.latest("id")

    notify_event(event.pk)

    channels = set(
        Delivery.objects.filter(notification__user=reporter).values_list("channel", flat=True)
    )
    assert Delivery.Channel.SMS not in channels
