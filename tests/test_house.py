"""The house: apps that import only the apps below them, models that moved between apps
without touching their tables, and Celery task names that keep working across the move."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from hues.celery import app
from insights.models import DailyFigures, DailyFiguresState
from notifications.models import Delivery, Notification
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[1]

BEFORE_THE_SPLIT = [
    ("reports", "0011_statistics_indexes_and_daily_figures"),
    ("alerts", "0002_role_permissions"),
    ("notifications", None),
    ("insights", None),
]


def test_each_app_imports_only_the_apps_below_it() -> None:
    """pyproject.toml's import-linter contract, as CI checks it."""
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None, "import-linter is a dev dependency (requirements/dev.txt)"
    result = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_moved_models_keep_their_tables() -> None:
    assert Notification._meta.db_table == "reports_notification"
    assert Delivery._meta.db_table == "reports_delivery"
    assert DailyFigures._meta.db_table == "reports_dailyfigures"
    assert DailyFiguresState._meta.db_table == "reports_dailyfiguresstate"


@pytest.mark.django_db(transaction=True)
def test_an_upgrade_keeps_the_rows_of_the_moved_models_and_their_content_types() -> None:
    """A database from before the split: its notifications, deliveries and their content
    types are the new apps' after `migrate`, and no table was created or dropped."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_SPLIT)
    old = executor.loader.project_state([node for node in BEFORE_THE_SPLIT if node[1]]).apps
    tables_before = set(connection.introspection.table_names())
    user = UserFactory()
    notification = old.get_model("reports", "Notification").objects.create(
        user_id=user.pk, kind="routed", title="Phản ánh đã được chuyển", created_at=timezone.now()
    )
    old.get_model("reports", "Delivery").objects.create(
        notification_id=notification.pk, channel="push"
    )
    # As in a database from before the split: the model's content type is the reports app's.
    ContentType.objects.filter(app_label="notifications").delete()
    old_type = ContentType.objects.get_or_create(app_label="reports", model="notification")[0]
    ContentType.objects.clear_cache()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert set(connection.introspection.table_names()) == tables_before
    moved = Notification.objects.get(pk=notification.pk)
    assert moved.title == "Phản ánh đã được chuyển"
    assert moved.deliveries.get().channel == Delivery.Channel.PUSH
    old_type.refresh_from_db()
    assert (old_type.app_label, old_type.model) == ("notifications", "notification")
    assert apps.get_model("notifications", "Notification") is Notification


# Messages queued before an upgrade name the tasks as they were called in the reports app.
RENAMED_TASKS = {
    "reports.deliver": "notifications.deliver",
    "reports.sweep_deliveries": "notifications.sweep_deliveries",
    "reports.refresh_daily_figures": "insights.refresh_daily_figures",
    "reports.rebuild_daily_figures": "insights.rebuild_daily_figures",
}


@pytest.mark.parametrize(("old", "new"), RENAMED_TASKS.items())
def test_a_task_queued_under_its_old_name_still_runs(old: str, new: str) -> None:
    assert old in app.tasks
    assert app.tasks[old].run.__code__ is app.tasks[new].run.__code__


@pytest.mark.django_db
def test_a_delivery_queued_under_the_old_name_is_sent(settings) -> None:
    settings.NOTIFICATION_EMAIL_ENABLED = True
    user = UserFactory(email="dan@example.vn")
    notification = Notification.objects.create(user=user, kind="resolved", title="Đã xử lý")
    delivery = Delivery.objects.create(notification=notification, channel=Delivery.Channel.EMAIL)

    app.tasks["reports.deliver"].apply(args=[delivery.pk])

    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT
