"""Alerts to citizens by area, and the recipients each was sent to (once per user)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('reports', '0008_delivery_state'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Alert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title_vi', models.CharField(max_length=150, verbose_name='title (Vietnamese)')),
                ('title_en', models.CharField(max_length=150, verbose_name='title (English)')),
                ('text_vi', models.TextField(max_length=2000, verbose_name='text (Vietnamese)')),
                ('text_en', models.TextField(max_length=2000, verbose_name='text (English)')),
                ('kind', models.CharField(choices=[('flood', 'Flood'), ('water_cut', 'Water cut'), ('power_cut', 'Power cut'), ('weather', 'Dangerous weather'), ('scam', 'Scam warning'), ('other', 'Other')], max_length=20, verbose_name='kind')),
                ('severity', models.CharField(choices=[('info', 'Information'), ('warning', 'Warning'), ('danger', 'Danger')], default='info', max_length=10, verbose_name='severity')),
                ('whole_city', models.BooleanField(default=False, help_text='For every citizen, whatever the area.', verbose_name='whole city')),
                ('starts_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='starts at')),
                ('ends_at', models.DateTimeField(verbose_name='ends at')),
                ('state', models.CharField(choices=[('draft', 'Draft'), ('publishing', 'Publishing'), ('published', 'Published'), ('withdrawn', 'Withdrawn')], default='draft', editable=False, max_length=12, verbose_name='state')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('published_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='published at')),
                ('withdrawn_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='withdrawn at')),
                ('recipients_total', models.PositiveIntegerField(default=0, editable=False, verbose_name='recipients')),
                ('batches_total', models.PositiveIntegerField(default=0, editable=False, verbose_name='batches')),
                ('notified_count', models.PositiveIntegerField(default=0, editable=False, verbose_name='notified')),
                ('pushed_count', models.PositiveIntegerField(default=0, editable=False, verbose_name='pushed')),
                ('selected_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='recipients chosen at')),
                ('progress_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last progress')),
                ('areas', models.ManyToManyField(blank=True, help_text='The wards and communes concerned; leave empty for the whole city.', related_name='alerts', to='reports.area', verbose_name='areas')),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('published_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='published by')),
                ('withdrawn_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='withdrawn by')),
            ],
            options={
                'verbose_name': 'alert',
                'verbose_name_plural': 'alerts',
                'ordering': ['-id'],
                'permissions': [('publish_alert', 'Can publish and withdraw alerts')],
            },
        ),
        migrations.CreateModel(
            name='AlertRecipient',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('batch', models.PositiveIntegerField()),
                ('handled_at', models.DateTimeField(blank=True, null=True)),
                ('alert', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='recipients', to='alerts.alert')),
                ('notification', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alert_recipient', to='reports.notification')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'alert recipient',
                'verbose_name_plural': 'alert recipients',
            },
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(fields=['state', 'ends_at'], name='alert_state_ends'),
        ),
        migrations.AddConstraint(
            model_name='alert',
            constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='alert_ends_after_start', violation_error_message='The end must come after the start.'),
        ),
        migrations.AddIndex(
            model_name='alertrecipient',
            index=models.Index(fields=['alert', 'batch'], name='alert_recipient_batch'),
        ),
        migrations.AddIndex(
            model_name='alertrecipient',
            index=models.Index(condition=models.Q(('handled_at__isnull', True)), fields=['alert'], name='alert_recipient_todo'),
        ),
        migrations.AddConstraint(
            model_name='alertrecipient',
            constraint=models.UniqueConstraint(fields=('alert', 'user'), name='alert_recipient_once'),
        ),
    ]
