from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = _("Statistics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the Celery tasks in every process, so services can enqueue them by name.
        # The SQLite median aggregate of the statistics, on every new connection.
        from hues import metrics

        from . import (
            stats,  # noqa: F401
            tasks,  # noqa: F401
        )
        from .metrics import reports_by_agency

        # hues_reports_open and hues_reports_overdue, read when /metrics is scraped.
        metrics.register_source("reports", reports_by_agency)
