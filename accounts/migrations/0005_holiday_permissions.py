"""Public holidays in the roles: administrators keep the list, the other admin roles see it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HOLIDAY_PERMISSIONS = {
    "administrator": ["add_holiday", "change_holiday", "delete_holiday", "view_holiday"],
    "dispatcher": ["view_holiday"],
    "manager": ["view_holiday"],
    "staff": ["view_holiday"],
}


def _permissions(apps, codenames):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("reports")
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
            content_type__app_label="reports", codename__in=codenames
        )
    }


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps, {name for names in HOLIDAY_PERMISSIONS.values() for name in names})
    for group in Group.objects.filter(name__in=HOLIDAY_PERMISSIONS):
        group.permissions.add(*(permissions[name] for name in HOLIDAY_PERMISSIONS[group.name]))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=HOLIDAY_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="reports", codename__in=HOLIDAY_PERMISSIONS[group.name]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_devices_and_deletion"),
        ("reports", "0004_holidays_2026"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
