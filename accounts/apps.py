from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the Celery tasks in every process, so services can enqueue them by name.
        from hues import metrics

        from . import tasks  # noqa: F401
        from .texts import text_outcomes_today

        # hues_sms_sent_total{outcome}: today's texts (in the city's time), by outcome.
        metrics.register_sms_counts(text_outcomes_today)
