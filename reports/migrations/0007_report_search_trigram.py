"""PostgreSQL only: a trigram index on Report.search_text, so that the feed's `q=` search
(LIKE '%word%' on every word, reports.selectors.reports_matching) reads the index instead of
every report. Other databases (SQLite, the embedded default) scan, which is fine at their size.

pg_trgm is a trusted extension (PostgreSQL 13+): the owner of the database may create it.
The index is built CONCURRENTLY (hence atomic = False), so filing reports goes on meanwhile.
Going back drops the index and keeps the extension, which something else may use.
"""

from django.db import migrations

INDEX = "report_search_trgm"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("reports", "Report")._meta.db_table)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {table} "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0006_report_feed_indexes"),
    ]

    operations = [
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
