"""The Celery application; configuration comes from Django settings (CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hues.settings")

app = Celery("hues")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
