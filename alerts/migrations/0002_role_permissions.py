"""Alerts in the roles: dispatchers and administrators compose, publish and withdraw them;
managers, staff and citizens do not."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

COMPOSE = ["add_alert", "change_alert", "delete_alert", "view_alert", "publish_alert"]
ALERT_PERMISSIONS = {"administrator": COMPOSE, "dispatcher": COMPOSE}


def _permissions(apps, codenames):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("alerts")
    stub = getattr(app_config, "models_module", None) is None
    if stub:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    if stub:
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return {
        permission.codename: permission
        for permission in Permission.objects.filter(
            content_type__app_label="alerts", codename__in=codenames
        )
    }


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    codenames = {name for names in ALERT_PERMISSIONS.values() for name in names}
    permissions = _permissions(apps, codenames)
    for group in Group.objects.filter(name__in=ALERT_PERMISSIONS):
        group.permissions.add(*(permissions[name] for name in ALERT_PERMISSIONS[group.name]))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=ALERT_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="alerts", codename__in=ALERT_PERMISSIONS[group.name]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_alerts_and_recipients"),
        ("accounts", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
