"""WSGI entry point (gunicorn hues.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hues.settings")

application = get_wsgi_application()
