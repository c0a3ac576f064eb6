"""The daily figures move here from the reports app: the same tables
(reports_dailyfigures, reports_dailyfiguresstate), taken over in the migration state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('reports', '0011_statistics_indexes_and_daily_figures'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DailyFiguresState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('counted_until', models.DateTimeField()),
                    ],
                    options={
                        'verbose_name': 'daily figures state',
                        'verbose_name_plural': 'daily figures state',
                        'db_table': 'reports_dailyfiguresstate',
                    },
                ),
                migrations.CreateModel(
                    name='DailyFigures',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField(verbose_name='day')),
                        ('received', models.PositiveIntegerField(default=0)),
                        ('resolved', models.PositiveIntegerField(default=0)),
                        ('with_deadline', models.PositiveIntegerField(default=0)),
                        ('on_time', models.PositiveIntegerField(default=0)),
                        ('ratings', models.PositiveIntegerField(default=0)),
                        ('rating_sum', models.PositiveIntegerField(default=0)),
                        ('hours_sum', models.FloatField(default=0.0)),
                        ('agency', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.agency')),
                        ('area', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.area')),
                        ('category', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.category')),
                    ],
                    options={
                        'verbose_name': 'daily figures',
                        'verbose_name_plural': 'daily figures',
                        'db_table': 'reports_dailyfigures',
                        'indexes': [models.Index(fields=['day'], name='dailyfigures_day')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
