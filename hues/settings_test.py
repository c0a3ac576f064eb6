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
