"""PostgreSQL only: finer statistics on Report.search_text, so that the planner estimates
how common a searched word is.

With the default statistics target (100) a word found in 4% of a million reports ("ngap",
flooding) was estimated at 0.01%: the planner then read every match through the trigram
index (40,000 rows, 590 ms) and sorted them, where walking the public feed's id index
newest first stops after a few hundred rows (under 1 ms). With 1000 samples the estimate
is close and the walk is chosen; rare words still use the trigram index (benchmarks:
BENCHMARKS.md). The ANALYZE of that one column samples 300,000 rows: seconds.
"""

from django.db import migrations


def finer_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("reports", "Report")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN search_text SET STATISTICS 1000")
    schema_editor.execute(f"ANALYZE {table} (search_text)")


def default_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("reports", "Report")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN search_text SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0009_event_notified_at"),
    ]

    operations = [
        migrations.RunPython(finer_statistics, default_statistics),
    ]
