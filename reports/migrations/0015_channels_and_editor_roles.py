"""The channels a report comes by, each existing report's channel (the app's, or Open311's for
those its service accounts filed), the reporter's choice of visibility as it was, and the
permissions of the editor: dispatchers and administrators moderate and file for callers; the
new hotline operators file for callers and see the dispatchers' queue."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CHANNELS = [
    # code, name, name (English)
    ("app", "Ứng dụng", "App"),
    ("open311", "Open311", "Open311"),
    ("hotline", "Đường dây nóng", "Hotline"),
    ("walk_in", "Trực tiếp tại bộ phận một cửa", "Walk-in"),
    ("email", "Thư điện tử", "Email"),
    ("zalo", "Zalo", "Zalo"),
    ("press", "Báo chí", "Press"),
]

GRANTS = {
    "dispatcher": ["reports.moderate_report", "reports.file_report"],
    "administrator": [
        "reports.moderate_report",
        "reports.file_report",
        "reports.add_channel",
        "reports.change_channel",
        "reports.view_channel",
        "reports.view_flag",
    ],
    "hotline": [
        "reports.view_report",
        "reports.file_report",
        "reports.view_photo",
        "reports.view_event",
        "reports.view_category",
        "reports.view_area",
        "reports.view_agency",
    ],
}


def seed_channels(apps, schema_editor):
    Channel = apps.get_model("reports", "Channel")
    for order, (code, name, name_en) in enumerate(CHANNELS):
        Channel.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )


def fill_reports(apps, schema_editor):
    Channel = apps.get_model("reports", "Channel")
    Report = apps.get_model("reports", "Report")
    channels = dict(Channel.objects.values_list("code", "id"))
    # Open311 clients file as service accounts whose phone is "open311:<key prefix>".
    Report.objects.filter(channel__isnull=True, reporter__phone__startswith="open311:").update(
        channel_id=channels["open311"]
    )
    Report.objects.filter(channel__isnull=True).update(channel_id=channels["app"])
    Report.objects.filter(is_public=False).update(reporter_public=False)


def grant(apps, schema_editor):
    app_config = apps.get_app_config("reports")
    stub = getattr(app_config, "models_module", None) is None
    if stub:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    if stub:
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def ungrant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="hotline").delete()
    for role in ("dispatcher", "administrator"):
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(
                *group.permissions.filter(
                    content_type__app_label="reports",
                    codename__in=[name.split(".")[1] for name in GRANTS[role]],
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0014_back_office_editor"),
        ("accounts", "0010_role_hotline"),
    ]

    operations = [
        migrations.RunPython(seed_channels, migrations.RunPython.noop),
        migrations.RunPython(fill_reports, migrations.RunPython.noop),
        migrations.RunPython(grant, ungrant),
    ]
