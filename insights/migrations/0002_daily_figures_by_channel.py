"""The daily figures count per channel too. The rows counted before knew no channel: they go,
and the next refresh (every minute) counts every day again; until then the statistics count
from the reports themselves (slower, never wrong)."""

import django.db.models.deletion
from django.db import migrations, models


def forget_daily_figures(apps, schema_editor):
    apps.get_model("insights", "DailyFigures").objects.all().delete()
    apps.get_model("insights", "DailyFiguresState").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0001_initial'),
        ('reports', '0015_channels_and_editor_roles'),
    ]

    operations = [
        migrations.RunPython(forget_daily_figures, migrations.RunPython.noop),
        migrations.AddField(
            model_name='dailyfigures',
            name='channel',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.channel'),
        ),
    ]
