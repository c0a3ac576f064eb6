"""Production settings: `check --deploy` has nothing to say, and every answer carries the
security headers."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings


def run_in_fresh_interpreter(args: list[str], **environ: str) -> subprocess.CompletedProcess[str]:
    """Run with only PATH and `environ` set, as a production host would."""
    clean = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(django_settings.BASE_DIR)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=django_settings.BASE_DIR,
        env=clean | environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {"DEBUG": "false", "ALLOWED_HOSTS": "api.example.vn"}


def production_settings(*names: str, **environ: str) -> dict[str, object]:
    """The values of `names` in hues.settings started with DEBUG off and `environ`."""
    code = (
        "import json, hues.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}))"
    )
    result = run_in_fresh_interpreter(
        ["-c", code], SECRET_KEY=secrets.token_urlsafe(50), **(PRODUCTION | environ)
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_check_deploy_passes_without_a_single_warning():
    result = run_in_fresh_interpreter(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        ALLOWED_HOSTS="x",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_to_https_only_with_a_preloadable_hsts():
    values = production_settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_hsts_redirect_and_the_proxy_header_come_from_the_environment():
    values = production_settings(
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="3600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        SECURE_HSTS_PRELOAD="false",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme",
        CSRF_TRUSTED_ORIGINS="https://admin.example.vn,https://api.example.vn",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_SCHEME", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://admin.example.vn", "https://api.example.vn"],
    }


def test_an_empty_proxy_header_trusts_no_proxy():
    values = production_settings("SECURE_PROXY_SSL_HEADER", SECURE_PROXY_SSL_HEADER="")

    assert values == {"SECURE_PROXY_SSL_HEADER": None}


@pytest.mark.parametrize("name", ["SECURE_SSL_REDIRECT", "SECURE_HSTS_PRELOAD"])
def test_a_malformed_security_flag_stops_start_up(name):
    result = run_in_fresh_interpreter(
        ["-c", "import hues.settings"],
        SECRET_KEY=secrets.token_urlsafe(50),
        **PRODUCTION,
        **{name: "perhaps"},
    )

    assert result.returncode != 0
    assert f"{name}='perhaps' is not a boolean" in result.stderr


def test_the_password_rules_are_length_common_numeric_and_similarity():
    names = {
        validator["NAME"].rsplit(".", 1)[1]
        for validator in django_settings.AUTH_PASSWORD_VALIDATORS
    }

    assert names == {
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
        "UserAttributeSimilarityValidator",
    }


# Headers on real answers (the test settings are the production ones, DEBUG off).

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/health", "/api/v1/categories", "/admin/login/", "/api/v1/nowhere"]
)
def test_every_answer_carries_the_security_headers(path, reference_data):
    response = Client().get(path, secure=True)

    assert {name: response.headers.get(name) for name in HEADERS} == HEADERS


@pytest.mark.django_db
def test_plain_http_gets_no_hsts_header(reference_data):
    response = Client().get("/api/v1/categories")

    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_to_https(reference_data):
    response = Client().get("/api/v1/categories?x=1")

    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/api/v1/categories?x=1"


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_a_request_the_proxy_marks_https_is_served(reference_data):
    response = Client().get("/api/v1/categories", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@override_settings(SECURE_SSL_REDIRECT=True)
def test_the_health_check_answers_plain_http_for_load_balancers():
    response = Client().get("/api/v1/health")

    assert response.status_code == 200


@pytest.mark.parametrize("rate", ["10/fortnight", "ten/min", "10", ""])
def test_a_malformed_throttle_rate_stops_start_up(rate):
    result = run_in_fresh_interpreter(
        ["-c", "import hues.settings"],
        SECRET_KEY=secrets.token_urlsafe(50),
        THROTTLE_LOGIN_IP=rate,
        **PRODUCTION,
    )

    assert result.returncode != 0
    assert "THROTTLE_LOGIN_IP=" in result.stderr
    assert "is not a rate" in result.stderr
