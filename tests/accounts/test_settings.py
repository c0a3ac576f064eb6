"""Settings from the environment: malformed values and missing secrets stop start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from hues.settings import env_bool, env_limits, env_mapping

VARIABLE = "HUES_TEST_FLAG"


def start_settings(**environ: str) -> subprocess.CompletedProcess[str]:
    """Import hues.settings in a fresh interpreter with only `environ` set."""
    clean = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(django_settings.BASE_DIR)}
    return subprocess.run(
        [sys.executable, "-c", "import hues.settings"],
        cwd=django_settings.BASE_DIR,
        env=clean | environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("false", False), ("1", True), ("0", False), (" TRUE ", True)],
)
def test_env_bool_reads_a_clear_yes_or_no(monkeypatch, raw, expected):
    monkeypatch.setenv(VARIABLE, raw)

    assert env_bool(VARIABLE, default=not expected) is expected


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_gives_the_default_when_the_variable_is_unset(monkeypatch, default):
    monkeypatch.delenv(VARIABLE, raising=False)

    assert env_bool(VARIABLE, default=default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "ja", "true!"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv(VARIABLE, raw)

    with pytest.raises(ImproperlyConfigured, match=VARIABLE):
        env_bool(VARIABLE, default=False)


def test_settings_start_with_debug_off_when_a_secret_key_is_set():
    result = start_settings(SECRET_KEY="a-real-secret-from-the-environment")

    assert result.returncode == 0, result.stderr


def test_settings_refuse_to_start_with_debug_off_and_no_secret_key():
    result = start_settings()

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_settings_refuse_an_empty_secret_key_with_debug_off():
    result = start_settings(SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_settings_start_without_a_secret_key_when_debug_is_on():
    result = start_settings(DEBUG="true")

    assert result.returncode == 0, result.stderr


def test_settings_refuse_to_start_with_debug_maybe():
    result = start_settings(DEBUG="maybe", SECRET_KEY="a-real-secret-from-the-environment")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG='maybe' is not a boolean" in result.stderr


# The SMS settings


def test_sms_limits_read_hourly_and_daily_counts(monkeypatch):
    monkeypatch.setenv(VARIABLE, "3/hour, 10/day")

    assert env_limits(VARIABLE, "1/hour") == {"hour": 3, "day": 10}


@pytest.mark.parametrize("raw", ["3/min", "3", "x/hour", "3/hour,4/hour", "3/hour;10/day"])
def test_sms_limits_refuse_anything_else(monkeypatch, raw):
    monkeypatch.setenv(VARIABLE, raw)

    with pytest.raises(ImproperlyConfigured, match=VARIABLE):
        env_limits(VARIABLE, "1/hour")


def test_a_mapping_reads_key_value_pairs(monkeypatch):
    monkeypatch.setenv(VARIABLE, "to=msisdn, text=content")

    assert env_mapping(VARIABLE, "") == {"to": "msisdn", "text": "content"}


@pytest.mark.parametrize("raw", ["to", "to=", "=x", "to=a,text"])
def test_a_mapping_refuses_pairs_without_both_halves(monkeypatch, raw):
    monkeypatch.setenv(VARIABLE, raw)

    with pytest.raises(ImproperlyConfigured, match=VARIABLE):
        env_mapping(VARIABLE, "")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SMS_BACKEND": "kannel"}, "KANNEL_USERNAME"),
        ({"SMS_BACKEND": "http"}, "SMS_HTTP_URL"),
        ({"SMS_BACKEND": "http", "SMS_HTTP_URL": "https://x.vn", "SMS_HTTP_METHOD": "PUT"}, "GET"),
        (
            {"SMS_BACKEND": "http", "SMS_HTTP_URL": "https://x.vn", "SMS_HTTP_AUTH": "magic"},
            "basic",
        ),
        ({"SMS_LIMIT_PER_NUMBER": "lots"}, "SMS_LIMIT_PER_NUMBER"),
    ],
)
def test_an_incomplete_sms_gateway_stops_start_up(environ, message):
    result = start_settings(SECRET_KEY="a-real-secret-from-the-environment", **environ)

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("url", "kept"),
    [("postgres://hues@127.0.0.1:5432/hues", 60), ("sqlite:///db.sqlite3", 0)],
)
def test_a_server_database_keeps_its_connections_by_default(url, kept):
    """Nothing a deployment must remember to set for speed: PostgreSQL connections are kept
    (and checked before reuse) unless CONN_MAX_AGE says otherwise."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import hues.settings as s; d = s.DATABASES['default']; "
            "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
        ],
        cwd=django_settings.BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(django_settings.BASE_DIR),
            "DEBUG": "true",
            "DATABASE_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == [str(kept), "True"]
