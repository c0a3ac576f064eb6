"""Push notifications to the users' devices, through a pluggable backend chosen by
settings.PUSH_BACKEND:

- log: writes the message to the log (the default);
- locmem: keeps messages in `outbox` (tests);
- fcm: Firebase Cloud Messaging, HTTP v1 API, signed in with a service account
  (settings.FCM_CREDENTIALS_FILE, and FCM_PROJECT_ID or the file's project);
- or the dotted path of a class with a `send(token, message)` method.

A backend sends one message to one device token. It raises `InvalidToken` for a token that
will never work again (the caller forgets the device), `PushRejected` for a message the
service refuses for good (a retry would not help), and anything else for a failure that a
retry may cure (network, throttling, the service being down).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from accounts.models import Device
from notifications.channels.base import Channel, DeliveryFailed, Message, Outcome
from notifications.models import Delivery, Notification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    # FCM carries string values only.
    data: dict[str, str] = field(default_factory=dict)


class InvalidToken(Exception):
    """The device token is unknown to the push service (the app was removed or reinstalled)."""


class PushRejected(Exception):
    """The push service refused this message for good; sending it again would not help."""


class PushBackend(Protocol):
    def send(self, token: str, message: PushMessage) -> None: ...


class LogBackend:
    def send(self, token: str, message: PushMessage) -> None:
        logger.info("Push to %s…: %s | %s", token[:12], message.title, message.body)


outbox: list[tuple[str, PushMessage]] = []
_outbox_lock = threading.Lock()


class LocmemBackend:
    def send(self, token: str, message: PushMessage) -> None:
        with _outbox_lock:
            outbox.append((token, message))


FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_SEND_URL = "https://fcm.googleapis.com/v1/projects/{project}/messages:send"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# An access token is renewed this long before Google says it expires.
TOKEN_MARGIN_SECONDS = 120


class FcmError(Exception):
    """A failure of the push service that a later attempt may not meet (retried)."""


@dataclass(frozen=True)
class ServiceAccount:
    """The fields of a Google service-account key file that signing in needs."""

    client_email: str
    private_key: str
    private_key_id: str
    token_uri: str
    project_id: str

    @classmethod
    def from_file(cls, path: str | Path) -> ServiceAccount:
        try:
            info = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                client_email=info["client_email"],
                private_key=info["private_key"],
                private_key_id=info.get("private_key_id", ""),
                token_uri=info.get("token_uri", "https://oauth2.googleapis.com/token"),
                project_id=info.get("project_id", ""),
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ImproperlyConfigured(
                f"FCM_CREDENTIALS_FILE={str(path)!r} is not a readable service-account key file "
                f"({error.__class__.__name__}: {error})."
            ) from error


class FcmBackend:
    """Firebase Cloud Messaging, HTTP v1: one request per device token.

    Signs a JWT with the service account's RSA key, exchanges it at the account's token URI
    for an OAuth2 access token, and keeps that token until shortly before it expires.
    `transport` lets tests answer the HTTP requests (httpx.MockTransport).
    """

    def __init__(
        self,
        *,
        credentials_file: str | Path | None = None,
        project_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        path = credentials_file or settings.FCM_CREDENTIALS_FILE
        if not path:
            raise ImproperlyConfigured("PUSH_BACKEND=fcm needs FCM_CREDENTIALS_FILE.")
        self.account = ServiceAccount.from_file(path)
        self.project_id = project_id or settings.FCM_PROJECT_ID or self.account.project_id
        if not self.project_id:
            raise ImproperlyConfigured("PUSH_BACKEND=fcm needs FCM_PROJECT_ID.")
        self.client = httpx.Client(transport=transport, timeout=timeout)
        self._lock = threading.Lock()
        self._access_token = ""
        self._expires_at = 0.0

    @property
    def send_url(self) -> str:
        return FCM_SEND_URL.format(project=self.project_id)

    def access_token(self) -> str:
        """A valid OAuth2 access token, from memory while it lasts."""
        with self._lock:
            if self._access_token and time.time() < self._expires_at:
                return self._access_token
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self.account.client_email,
                    "scope": FCM_SCOPE,
                    "aud": self.account.token_uri,
                    "iat": now,
                    "exp": now + 3600,
                },
                self.account.private_key,
                algorithm="RS256",
                headers={"kid": self.account.private_key_id}
                if self.account.private_key_id
                else None,
            )
            response = self.client.post(
                self.account.token_uri,
                data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion},
            )
            if not response.is_success:
                raise FcmError(f"token exchange: HTTP {response.status_code} {response.text[:300]}")
            body = response.json()
            lifetime = int(body.get("expires_in", 3600))
            self._access_token = str(body["access_token"])
            self._expires_at = now + max(lifetime - TOKEN_MARGIN_SECONDS, 0)
            return self._access_token

    def forget_access_token(self) -> None:
        with self._lock:
            self._access_token = ""
            self._expires_at = 0.0

    def send(self, token: str, message: PushMessage) -> None:
        payload = {
            "message": {
                "token": token,
                "notification": {"title": message.title, "body": message.body},
                "data": message.data,
            }
        }
        response = self.client.post(
            self.send_url,
            json=payload,
            headers={"Authorization": f"Bearer {self.access_token()}"},
        )
        if response.is_success:
            return
        status, error_code, text = _fcm_error(response)
        description = f"HTTP {response.status_code} {error_code or status}: {text}"[:500]
        if response.status_code == httpx.codes.UNAUTHORIZED:
            # The access token was revoked or expired early: sign in again on the retry.
            self.forget_access_token()
            raise FcmError(description)
        if error_code == "UNREGISTERED" or response.status_code == httpx.codes.NOT_FOUND:
            raise InvalidToken(description)
        if response.status_code == httpx.codes.BAD_REQUEST and "registration token" in text.lower():
            # Google: INVALID_ARGUMENT about the token itself means it is not a valid token.
            raise InvalidToken(description)
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS or response.status_code >= 500:
            raise FcmError(description)
        raise PushRejected(description)


def _fcm_error(response: httpx.Response) -> tuple[str, str, str]:
    """(status, FCM error code, message) of an FCM error response, as far as it says."""
    try:
        error: Any = response.json().get("error", {})
    except ValueError:
        return "", "", response.text[:300]
    if not isinstance(error, dict):
        return "", "", str(error)[:300]
    error_code = ""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            error_code = str(detail["errorCode"])
            break
    return str(error.get("status", "")), error_code, str(error.get("message", ""))[:300]


ALIASES = {
    "log": "notifications.channels.push.LogBackend",
    "locmem": "notifications.channels.push.LocmemBackend",
    "fcm": "notifications.channels.push.FcmBackend",
}


@lru_cache(maxsize=4)
def _backend(path: str, credentials_file: str, project_id: str) -> PushBackend:
    # One instance per process and configuration: FCM keeps its connection and token.
    return import_string(path)()


def get_backend() -> PushBackend:
    path = ALIASES.get(settings.PUSH_BACKEND, settings.PUSH_BACKEND)
    return _backend(path, settings.FCM_CREDENTIALS_FILE, settings.FCM_PROJECT_ID)


class PushChannel(Channel):
    """To each device of the user; the tokens the service no longer knows are forgotten."""

    name = Delivery.Channel.PUSH

    def carries(self, messages: Sequence[Message]) -> list[bool]:
        users = {message.user.pk for message in messages}
        with_device = set(Device.objects.filter(user__in=users).values_list("user_id", flat=True))
        return [message.user.pk in with_device for message in messages]

    def send(self, notification: Notification) -> Outcome:
        """Sent when at least one device took it: a retry would repeat it on those. Raises
        when every device failed and a retry may help."""
        user = notification.user
        tokens = list(Device.objects.filter(user=user).values_list("token", flat=True))
        if not tokens:
            return Outcome(Delivery.State.SKIPPED, "no device")
        message = PushMessage(
            title=notification.title,
            body=notification.body,
            data={
                "notification": str(notification.pk),
                "kind": notification.kind,
                "reference": str(notification.data.get("reference", "")),
            },
        )
        backend = get_backend()
        sent = 0
        invalid: list[str] = []
        rejected: list[str] = []
        transient: list[Exception] = []
        for token in tokens:
            try:
                backend.send(token, message)
            except InvalidToken:
                invalid.append(token)
            except PushRejected as error:
                rejected.append(str(error))
            except Exception as error:
                transient.append(error)
            else:
                sent += 1
        if invalid:
            Device.objects.filter(user=user, token__in=invalid).delete()
        notes = [f"{len(invalid)} device(s) forgotten"] if invalid else []
        notes += rejected + [f"{error.__class__.__name__}: {error}" for error in transient]
        if sent:
            return Outcome(Delivery.State.SENT, "; ".join(notes))
        if transient:
            raise DeliveryFailed("; ".join(notes)) from transient[0]
        if rejected:
            return Outcome(Delivery.State.FAILED, "; ".join(notes))
        return Outcome(Delivery.State.SKIPPED, "; ".join(notes))
