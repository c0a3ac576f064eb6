"""Issue 16, point 2, reproduced: with NUM_PROXIES=1 and gunicorn reached directly, the last
X-Forwarded-For entry a client wrote became its address, so every per-address limit (and the
address half of the login lock-out) was sidestepped by writing a new one each time; an
X-Forwarded-For of `not-an-ip` gave a 500 from django-axes.

Now the header is read only when the socket is a proxy of TRUSTED_PROXIES, from its right
end; a malformed entry is ignored; and one function (hues.addresses.client_address) gives
the address to the throttles, the SMS limits, the login limits and django-axes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from rest_framework.test import APIClient

from hues.addresses import UNKNOWN_CLIENT, client_address

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token"
ROOT = Path(__file__).resolve().parents[2]


def address_of(settings, trusted, remote, forwarded=None):
    settings.TRUSTED_PROXIES = trusted
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


def login(client, phone="+84905000001"):
    return client.post(LOGIN, {"phone": phone, "password": "wrong-password"}, format="json")


def test_a_client_reaching_the_app_directly_cannot_choose_its_address(
    throttle_rates, settings, reference_data
):
    throttle_rates(login_ip="3/min")
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    answers = [
        login(APIClient(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"))
        for n in range(5)
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]


def test_behind_the_proxy_the_client_is_the_address_the_proxy_appended(settings):
    # The client wrote 192.0.2.1 itself; nginx appended the address it saw.
    assert (
        address_of(settings, ["127.0.0.1"], "127.0.0.1", "192.0.2.1, 198.51.100.7")
        == "198.51.100.7"
    )


def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    trusted = ["127.0.0.1", "10.0.0.0/8"]
    forwarded = "192.0.2.1, 198.51.100.7, 10.0.0.5"  # a load balancer in front of nginx

    assert address_of(settings, trusted, "127.0.0.1", forwarded) == "198.51.100.7"


def test_no_proxy_trusted_means_the_socket_address(settings):
    assert address_of(settings, [], "127.0.0.1", "198.51.100.7") == "127.0.0.1"


@pytest.mark.parametrize("forwarded", ["not-an-ip", "", " , ", "198.51.100.7, not-an-ip", "%00"])
def test_a_malformed_forwarded_for_is_ignored(settings, forwarded):
    assert address_of(settings, ["127.0.0.1"], "127.0.0.1", forwarded) == "127.0.0.1"


def test_ipv6_and_ipv4_mapped_addresses_are_read(settings):
    assert address_of(settings, ["::1"], "::1", "[2001:db8::7]") == "2001:db8::7"
    assert address_of(settings, ["127.0.0.1"], "::ffff:127.0.0.1", "198.51.100.7") == (
        "198.51.100.7"
    )


def test_a_unix_socket_peer_is_trusted_only_when_listed(settings):
    assert address_of(settings, ["unix"], "", "198.51.100.7") == "198.51.100.7"
    assert address_of(settings, ["127.0.0.1"], "", "198.51.100.7") == UNKNOWN_CLIENT


@pytest.mark.parametrize("forwarded", ["not-an-ip", "1.2.3.4.5", "x" * 500])
def test_a_malformed_forwarded_for_gives_no_500_on_any_login(settings, citizen, forwarded):
    settings.AXES_ENABLED = True
    api = APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    admin = APIClient(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=forwarded)

    assert login(api, citizen.phone).status_code == 401
    admin_answer = admin.post(
        "/admin/login/?next=/admin/",
        {"username": citizen.phone, "password": "wrong-password"},
        format="multipart",
    )
    assert admin_answer.status_code == 200  # the form again, with its error


def test_django_axes_counts_the_same_client_address_as_the_limits(settings, citizen):
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    client = APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.66, 198.51.100.7")

    login(client, citizen.phone)

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]


def settings_start(**variables: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NUM_PROXIES", "TRUSTED_PROXIES", "DJANGO_SETTINGS_MODULE")
    }
    environment.update({"SECRET_KEY": "x" * 50, **variables})
    return subprocess.run(  # our own interpreter, fixed arguments
        [sys.executable, "-c", "import hues.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_retired_num_proxies_stops_start_up_saying_what_to_set_instead():
    started = settings_start(NUM_PROXIES="1")

    assert started.returncode != 0
    assert "TRUSTED_PROXIES" in started.stderr


def test_a_malformed_trusted_proxy_stops_start_up():
    started = settings_start(TRUSTED_PROXIES="127.0.0.1,nginx")

    assert started.returncode != 0
    assert "'nginx'" in started.stderr
    assert settings_start(TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8,unix").returncode == 0
