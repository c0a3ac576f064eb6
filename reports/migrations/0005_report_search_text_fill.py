"""Fill Report.search_text (reference, description and address, lower case without
diacritics) for the reports filed before reports.services.report_create kept it.

In batches, each committed on its own, so a large table is never locked as a whole; the
migration can run again safely. updated_at is left alone (bulk_update skips auto_now), so
the apps do not download every report again.
"""

from django.db import migrations

from reports.text import report_search_text

BATCH_SIZE = 2000


def fill_search_text(apps, schema_editor):
    Report = apps.get_model("reports", "Report")
    last_id = 0
    while True:
        batch = list(
            Report.objects.filter(id__gt=last_id)
            .order_by("id")
            .only("id", "reference", "description", "address")[:BATCH_SIZE]
        )
        if not batch:
            return
        for report in batch:
            report.search_text = report_search_text(
                reference=report.reference, description=report.description, address=report.address
            )
        Report.objects.bulk_update(batch, ["search_text"])
        last_id = batch[-1].id


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0004_holidays_2026"),
    ]

    operations = [
        migrations.RunPython(fill_search_text, migrations.RunPython.noop, elidable=True),
    ]
