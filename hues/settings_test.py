"""Settings for the test suite: the real settings, with test-only defaults.

DATABASE_URL and CELERY_BROKER_URL are honoured (CI points them at PostgreSQL and Redis);
tasks still run eagerly unless a test (the end-to-end ones) switches to the real broker.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-long-enough-for-hs256-signing")
os.environ.setdefault("SECURE_COOKIES", "false")
# The test client speaks plain HTTP; tests that check the redirect turn it on.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="hues-media-"))
# Each test's connections close with it, as before PostgreSQL kept them by default (the
# production default is checked in tests/accounts/test_settings.py).
os.environ.setdefault("CONN_MAX_AGE", "0")

from hues.cache import ResilientRedisCache
from hues.settings import *  # noqa: F403
from hues.settings import CELERY_BROKER_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SMS_BACKEND = "locmem"
CELERY_TASK_ALWAYS_EAGER = True
AXES_ENABLED = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Every scope out of the way; the throttling tests set low rates for what they check.
_scopes: dict[str, str] = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # type: ignore[assignment]  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(_scopes, "10000/min")  # noqa: F405
E2E_BROKER_URL = CELERY_BROKER_URL
# The cache outlives each test's rolled-back database: tests of the feed cache turn it on.
FEED_CACHE_SECONDS = 0

# pytest-xdist: each worker (gw0, gw1, ...) gets a test database of its own from
# pytest-django, but shares the Redis cache. So each worker's keys carry its id, and its
# cache.clear() deletes only those: Django's would empty the whole Redis database, with the
# throttle counts and cached figures of a test running in the other worker.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER and CACHES["default"]["BACKEND"] == "hues.cache.ResilientRedisCache":  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = f"test-{XDIST_WORKER}"  # noqa: F405
    CACHES["default"]["BACKEND"] = "hues.settings_test.WorkerRedisCache"  # noqa: F405


class WorkerRedisCache(ResilientRedisCache):
    """The Redis cache of one xdist worker: clear() deletes this worker's keys only."""

    def clear(self) -> None:
        client = self._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


# The SMS limits and budgets out of the way; the tests of the limits set low ones
# (tests/accounts/conftest.py: sms_limits).
SMS_LIMIT_PER_NUMBER = {"hour": 100_000, "day": 100_000}
SMS_LIMIT_PER_PREFIX = {"hour": 100_000, "day": 100_000}
SMS_LIMIT_PER_CLIENT = {"hour": 100_000, "day": 100_000}
SMS_HOURLY_BUDGET = 1_000_000
SMS_DAILY_BUDGET = 1_000_000
DEMO_REPORTS = 0  # tests seed demo reports only when they ask (seed_demo --reports N)

# The login limits per account out of the way; their tests set low ones
# (tests/security/test_targeted_lockout.py).
LOGIN_DELAY_AFTER = 100_000
LOGIN_ACCOUNT_FAILURE_LIMIT = 100_000
