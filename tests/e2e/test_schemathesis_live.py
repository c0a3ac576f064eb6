"""Schemathesis against the API as it runs in production: gunicorn on a free loopback port,
production settings (DEBUG off), on a PostgreSQL database of its own, created for this run
and dropped after it. Anonymously, and as a verified citizen with a report of their own:
no server error, every status code, content type, body and header as the schema documents,
every check of schemathesis but the two that judge inputs by the schema alone (EXCLUDED_CHECKS),
and the coverage phase (boundary values, methods the schema does not list: OPTIONS, TRACE).

Bounded for CI: SCHEMATHESIS_LIVE_MAX_EXAMPLES examples per operation (default 5),
derandomized. A longer local run:
SCHEMATHESIS_LIVE_MAX_EXAMPLES=100 pytest tests/e2e/test_schemathesis_live.py
(tests/e2e/test_schemathesis.py runs the same checks in-process, through WSGI.)
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import schemathesis
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import need

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_LIVE_MAX_EXAMPLES", "5"))
# Every check of schemathesis (server errors, status codes, content types, bodies and headers
# as documented, authentication, methods the schema does not list, deleted resources) but
# two, which judge the inputs against the schema alone: some of the API's rules cannot be
# written in it (a number is a Vietnamese mobile, a category exists, lat comes with lng),
# so schema-valid input may be refused; and an empty query parameter means "not given"
# (django-filter), so schema-invalid input may be accepted.
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
BIN = Path(sys.executable).parent

# Runs inside the server's environment, once migrated and seeded: a verified citizen, one
# report of theirs (with a photo), and a bearer token for them.
SETUP = """
import io, json
import django
django.setup()
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken
from accounts.models import User
from reports import services
from reports.services import Upload
from tests.images import image_bytes
citizen = User.objects.create_user(
    "0905123987", "một-mật-khẩu-dài-9", full_name="Nguyễn Văn Thử",
    phone_verified_at=timezone.now(),
)
data = image_bytes("JPEG")
report = services.report_create(
    reporter=citizen, category_code="street_lighting", description="Đèn đường hỏng",
    lat=16.4821, lng=107.57612, photos=[Upload(stream=io.BytesIO(data), size=len(data))],
)
spare = User.objects.create_user(
    "0905123988", "một-mật-khẩu-dài-9", full_name="Trần Thị Thử",
    phone_verified_at=timezone.now(),
)
print(json.dumps({"token": str(RefreshToken.for_user(citizen).access_token),
                  "spare_token": str(RefreshToken.for_user(spare).access_token),
                  "reference": report.reference}))
"""

# Operations that end every session of their caller: the spare citizen's token calls them,
# so that the citizen's stays good for the other operations.
ENDS_THE_SESSIONS = {("POST", "/api/v1/auth/logout/all"), ("DELETE", "/api/v1/me")}


@dataclass(frozen=True)
class LiveApi:
    url: str
    token: str
    spare_token: str
    reference: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_urls() -> tuple[str, str]:
    """The URL of a new database on the test run's PostgreSQL server, and of the server's
    maintenance database (to create and drop it)."""
    url = os.environ.get("DATABASE_URL", "")
    need(url.startswith(("postgres://", "postgresql://")), "DATABASE_URL names no PostgreSQL")
    parts = urlsplit(url)
    name = f"hues_live_{secrets.token_hex(4)}"
    return (
        urlunsplit(parts._replace(path=f"/{name}")),
        urlunsplit(parts._replace(path="/postgres")),
    )


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        args,
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    import psycopg

    need((BIN / "gunicorn").exists(), "gunicorn is not installed in the virtualenv")
    database_url, maintenance_url = _database_urls()
    name = urlsplit(database_url).path.lstrip("/")
    work = tmp_path_factory.mktemp("live-api")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(django_settings.BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "hues.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "CACHE_URL": "locmemcache://live",
        "CELERY_BROKER_URL": "",
        "SMS_BACKEND": "locmem",
        "MEDIA_ROOT": str(work / "media"),
        "STATIC_ROOT": str(work / "static"),
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "JWT_ACCESS_MINUTES": "240",
        "LOG_LEVEL": "WARNING",
        **{
            f"THROTTLE_{scope}": "100000/min"
            for scope in (
                "ANON",
                "USER",
                "AUTH",
                "AUTH_IP",
                "LOGIN",
                "LOGIN_IP",
                "REGISTER",
                "REGISTER_IP",
                "CODE_SEND",
                "CODE_SEND_IP",
                "REPORT_CREATE",
                "REPORT_CREATE_IP",
            )
        },
    }
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    server: subprocess.Popen[bytes] | None = None
    log = (work / "gunicorn.log").open("wb")
    try:
        python = str(BIN / "python")
        _run([python, "manage.py", "migrate", "--no-input", "-v", "0"], env)
        _run([python, "manage.py", "seed_demo"], env)
        created = json.loads(_run([python, "-c", SETUP], env).strip().splitlines()[-1])
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "hues.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                # No request-line limit of gunicorn's (4 kB: a 414 in HTML): the proxy in
                # front sets its own, and the app must answer whatever URL it lets through.
                "--limit-request-line",
                "0",
            ],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (work / "gunicorn.log").read_text()
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
            time.sleep(0.2)  # waiting for a process to start, not for time-based logic
        yield LiveApi(
            url=url,
            token=created["token"],
            spare_token=created["spare_token"],
            reference=created["reference"],
        )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        with psycopg.connect(maintenance_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _schema_document() -> dict[str, Any]:
    """The OpenAPI document of this code (the fixture checks the server serves the same)."""
    return Client().get("/api/schema/?format=json").json()


DOCUMENT = _schema_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
# The coverage phase: boundary values, and every method the schema does not list for a path
# (OPTIONS, TRACE, ...): a few seconds for the whole API.
schema.config.phases.coverage.enabled = True
api_v1 = schema.include(path_regex=r"^/api/v1/")


def test_the_running_api_serves_this_schema(live_api: LiveApi) -> None:
    served = httpx.get(f"{live_api.url}/api/schema/?format=json", timeout=30).json()

    assert served == DOCUMENT


@api_v1.parametrize()
@HYPOTHESIS
def test_anonymous_callers_get_documented_answers_from_the_running_api(
    case: schemathesis.Case, live_api: LiveApi
) -> None:
    case.call_and_validate(base_url=live_api.url, excluded_checks=EXCLUDED_CHECKS)


@api_v1.parametrize()
@HYPOTHESIS
def test_citizens_get_documented_answers_from_the_running_api(
    case: schemathesis.Case, live_api: LiveApi
) -> None:
    if "reference" in (case.path_parameters or {}):
        case.path_parameters["reference"] = live_api.reference
    ends = (str(case.method).upper(), case.path) in ENDS_THE_SESSIONS
    token = live_api.spare_token if ends else live_api.token
    case.call_and_validate(
        base_url=live_api.url,
        excluded_checks=EXCLUDED_CHECKS,
        headers={"Authorization": f"Bearer {token}"},
    )
