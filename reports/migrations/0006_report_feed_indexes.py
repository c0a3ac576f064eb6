"""Indexes for the feed's filters and orders, on every database:

- (lat, lng): the bounding box that `near=` and `bbox=` start from;
- updated_at: `updated_after=`, the apps' sync of what changed;
- (supporters desc, id desc) of public reports: `ordering=most_supported`, page by page.

They exist in the database only: reports/models.py does not declare them (yet), so the
migration state leaves them out and makemigrations sees no change. Declaring them in
Report.Meta.indexes later takes a state-only migration (SeparateDatabaseAndState with these
AddIndex operations as state_operations).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_report_search_text_fill"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AddIndex(
                    model_name="report",
                    index=models.Index(fields=["lat", "lng"], name="report_lat_lng"),
                ),
                migrations.AddIndex(
                    model_name="report",
                    index=models.Index(fields=["updated_at"], name="report_updated_at"),
                ),
                migrations.AddIndex(
                    model_name="report",
                    index=models.Index(
                        fields=["-supporters_count", "-id"],
                        condition=models.Q(is_public=True),
                        name="report_public_supported",
                    ),
                ),
            ],
        ),
    ]
