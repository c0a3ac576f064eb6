"""Administrators see the outbox of text messages in the admin (Accounts > Text messages),
where the SMS budget's alert sends them; the other roles do not."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TEXT_PERMISSIONS = ["view_textmessage"]


def _permissions(apps):
    # Permissions are normally created after all migrations; the group needs them now.
    app_config = apps.get_app_config("accounts")
    stub = getattr(app_config, "models_module", None) is None
    if stub:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    if stub:
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="accounts", codename__in=TEXT_PERMISSIONS
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_sms_outbox")]

    operations = [migrations.RunPython(grant, revoke)]
