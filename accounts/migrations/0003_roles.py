"""The five roles as groups, with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REFERENCE = ["area", "agency", "category", "routingrule"]

ROLE_PERMISSIONS = {
    "citizen": [],
    "staff": [
        "reports.view_report", "reports.work_report", "reports.view_photo", "reports.view_event",
        "reports.view_category", "reports.view_area", "reports.view_agency",
    ],
    "manager": [
        "reports.view_report", "reports.work_report", "reports.assign_report",
        "reports.view_photo", "reports.view_event", "reports.view_category", "reports.view_area",
        "reports.view_agency", "accounts.view_user",
    ],
    "dispatcher": [
        "reports.view_report", "reports.work_report", "reports.triage_report",
        "reports.view_photo", "reports.view_event", "reports.view_category", "reports.view_area",
        "reports.view_agency", "reports.view_routingrule", "accounts.view_user",
    ],
    "administrator": [
        "reports.view_report", "reports.work_report", "reports.triage_report",
        "reports.assign_report", "reports.view_photo", "reports.view_event",
        *[f"reports.{verb}_{model}" for model in REFERENCE
          for verb in ("add", "change", "delete", "view")],
        "accounts.add_user", "accounts.change_user", "accounts.view_user",
        "auth.view_group",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for label in ("auth", "accounts", "reports"):
        app_config = apps.get_app_config(label)
        stub = getattr(app_config, "models_module", None) is None
        if stub:
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        if stub:
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permissions.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_agency_and_groups"),
        ("reports", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
