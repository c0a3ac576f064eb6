"""Open311 in the roles: administrators manage API keys; administrators and dispatchers may
read what Open311 clients sent with a report (the person's contact details)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPEN311_PERMISSIONS = {
    "administrator": [
        "add_apikey",
        "change_apikey",
        "delete_apikey",
        "view_apikey",
        "view_submission",
    ],
    "dispatcher": ["view_submission"],
}


def _permissions(apps, codenames):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("open311")
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
            content_type__app_label="open311", codename__in=codenames
        )
    }


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    codenames = {name for names in OPEN311_PERMISSIONS.values() for name in names}
    permissions = _permissions(apps, codenames)
    for group in Group.objects.filter(name__in=OPEN311_PERMISSIONS):
        group.permissions.add(*(permissions[name] for name in OPEN311_PERMISSIONS[group.name]))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=OPEN311_PERMISSIONS):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="open311", codename__in=OPEN311_PERMISSIONS[group.name]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("open311", "0001_api_keys_and_submissions"),
        ("accounts", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
