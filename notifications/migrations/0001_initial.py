"""Notification and Delivery move here from the reports app: the same tables
(reports_notification, reports_delivery), taken over in the migration state only; no row
is copied and no table changes."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('reports', '0011_statistics_indexes_and_daily_figures'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=30, verbose_name='kind')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('body', models.TextField(blank=True, verbose_name='text')),
                        ('data', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                        ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='read at')),
                        ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='reports.event')),
                        ('report', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='reports.report')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'notification',
                        'verbose_name_plural': 'notifications',
                        'db_table': 'reports_notification',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('push', 'Push'), ('sms', 'SMS'), ('email', 'Email')], max_length=10)),
                        ('state', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('last_error', models.TextField(blank=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('notification', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='notifications.notification')),
                    ],
                    options={
                        'verbose_name': 'delivery',
                        'verbose_name_plural': 'deliveries',
                        'db_table': 'reports_delivery',
                    },
                ),
                migrations.AddIndex(
                    model_name='notification',
                    index=models.Index(fields=['user', '-id'], name='notification_inbox'),
                ),
                migrations.AddConstraint(
                    model_name='notification',
                    constraint=models.UniqueConstraint(condition=models.Q(('event__isnull', False)), fields=('user', 'event'), name='notification_once_per_event'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('notification', 'channel'), name='delivery_once_per_channel'),
                ),
            ],
            database_operations=[],
        ),
    ]
