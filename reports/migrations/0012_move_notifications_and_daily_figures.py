"""Notification, Delivery and the daily figures leave the reports app for the notifications
and insights apps: removed from the migration state only, their tables stay as they are.
Their content types (and so their permissions and admin history) follow them."""

from django.db import migrations

MOVED = {
    "notification": "notifications",
    "delivery": "notifications",
    "dailyfigures": "insights",
    "dailyfiguresstate": "insights",
}


def move_content_types(apps, schema_editor, source=None):
    """Point the models' content types at their new apps, unless those already exist."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        old, new = ("reports", app_label) if source is None else (app_label, source)
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="reports")


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0001_initial'),
        ('notifications', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('alerts', '0003_notification_moved_to_notifications'),
        ('reports', '0011_statistics_indexes_and_daily_figures'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='dailyfigures',
                    name='agency',
                ),
                migrations.RemoveField(
                    model_name='dailyfigures',
                    name='area',
                ),
                migrations.RemoveField(
                    model_name='dailyfigures',
                    name='category',
                ),
                migrations.DeleteModel(
                    name='DailyFiguresState',
                ),
                migrations.RemoveField(
                    model_name='delivery',
                    name='notification',
                ),
                migrations.RemoveField(
                    model_name='notification',
                    name='event',
                ),
                migrations.RemoveField(
                    model_name='notification',
                    name='report',
                ),
                migrations.RemoveField(
                    model_name='notification',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='DailyFigures',
                ),
                migrations.DeleteModel(
                    name='Delivery',
                ),
                migrations.DeleteModel(
                    name='Notification',
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
