"""The back office as an editor: channels, filing for callers, moderation (hidden reports,
photos and comments, edited public text, citizens' flags), merged and split reports."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0013_area_special_zone'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Channel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=30, unique=True, verbose_name='code')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('name_en', models.CharField(blank=True, max_length=100, verbose_name='name (English)')),
                ('sort_order', models.PositiveSmallIntegerField(default=0, verbose_name='order')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
            ],
            options={
                'verbose_name': 'channel',
                'verbose_name_plural': 'channels',
                'ordering': ['sort_order', 'code'],
            },
        ),
        migrations.AlterModelOptions(
            name='report',
            options={'ordering': ['-id'], 'permissions': [('work_report', 'Can work on reports of their own agency'), ('assign_report', 'Can assign reports to colleagues'), ('triage_report', 'Can route, re-route and triage any report'), ('moderate_report', 'Can hide and edit what the public sees of reports'), ('file_report', 'Can file reports for callers and visitors')], 'verbose_name': 'report', 'verbose_name_plural': 'reports'},
        ),
        migrations.AddField(
            model_name='event',
            name='moderated_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='hidden by a moderator at'),
        ),
        migrations.AddField(
            model_name='photo',
            name='hidden_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='hidden at'),
        ),
        migrations.AddField(
            model_name='report',
            name='caller_consent_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='caller agreed to be texted at'),
        ),
        migrations.AddField(
            model_name='report',
            name='caller_name',
            field=models.CharField(blank=True, max_length=150, verbose_name="caller's name"),
        ),
        migrations.AddField(
            model_name='report',
            name='caller_phone',
            field=models.CharField(blank=True, max_length=20, verbose_name="caller's phone"),
        ),
        migrations.AddField(
            model_name='report',
            name='filed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='filed by'),
        ),
        migrations.AddField(
            model_name='report',
            name='flags_open',
            field=models.PositiveIntegerField(default=0, verbose_name='open flags'),
        ),
        migrations.AddField(
            model_name='report',
            name='hidden_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='hidden at'),
        ),
        migrations.AddField(
            model_name='report',
            name='hidden_reason',
            field=models.CharField(blank=True, choices=[('personal_data', 'It shows personal data'), ('offensive', 'It is offensive or abusive'), ('not_a_report', 'It is not a report about the city'), ('flagged', 'Flagged by citizens, awaiting a moderator'), ('other', 'Another reason')], max_length=20, verbose_name='hidden because'),
        ),
        migrations.AddField(
            model_name='report',
            name='original_address',
            field=models.CharField(blank=True, max_length=255, verbose_name='original address'),
        ),
        migrations.AddField(
            model_name='report',
            name='original_description',
            field=models.TextField(blank=True, verbose_name='original description'),
        ),
        migrations.AddField(
            model_name='report',
            name='reporter_public',
            field=models.BooleanField(default=True, verbose_name="public by the reporter's choice"),
        ),
        migrations.AddField(
            model_name='report',
            name='split_from',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='split_into', to='reports.report', verbose_name='split from'),
        ),
        migrations.AddField(
            model_name='supporter',
            name='merged_from',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.report'),
        ),
        migrations.AlterField(
            model_name='event',
            name='from_status',
            field=models.CharField(blank=True, choices=[('submitted', 'Submitted'), ('needs_triage', 'Needs triage'), ('routed', 'Routed'), ('in_progress', 'In progress'), ('resolved', 'Resolved'), ('closed', 'Closed'), ('rejected', 'Rejected'), ('merged', 'Merged into another report')], max_length=20, verbose_name='from status'),
        ),
        migrations.AlterField(
            model_name='event',
            name='kind',
            field=models.CharField(choices=[('created', 'Created'), ('routed', 'Routed'), ('needs_triage', 'Sent to triage'), ('accepted', 'Accepted'), ('assigned', 'Assigned'), ('status_changed', 'Status changed'), ('transferred', 'Transferred'), ('public_update', 'Update'), ('internal_note', 'Internal note'), ('resolved', 'Resolved'), ('rejected', 'Rejected'), ('reopened', 'Reopened'), ('closed', 'Closed'), ('rated', 'Rated'), ('commented', 'Comment from the citizen'), ('escalated', 'Escalated'), ('corrected', 'Corrected'), ('hidden', 'Hidden from the public'), ('shown', 'Shown to the public again'), ('edited', 'Public text edited'), ('photo_hidden', 'Photo hidden from the public'), ('photo_shown', 'Photo shown again'), ('comment_hidden', 'Comment hidden'), ('merged', 'Merged into another report'), ('duplicate_added', 'Duplicate merged in'), ('unmerged', 'Merge undone'), ('duplicate_removed', 'Duplicate taken out'), ('split', 'Split into several reports')], max_length=20, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='event',
            name='to_status',
            field=models.CharField(blank=True, choices=[('submitted', 'Submitted'), ('needs_triage', 'Needs triage'), ('routed', 'Routed'), ('in_progress', 'In progress'), ('resolved', 'Resolved'), ('closed', 'Closed'), ('rejected', 'Rejected'), ('merged', 'Merged into another report')], max_length=20, verbose_name='to status'),
        ),
        migrations.AlterField(
            model_name='report',
            name='status',
            field=models.CharField(choices=[('submitted', 'Submitted'), ('needs_triage', 'Needs triage'), ('routed', 'Routed'), ('in_progress', 'In progress'), ('resolved', 'Resolved'), ('closed', 'Closed'), ('rejected', 'Rejected'), ('merged', 'Merged into another report')], default='submitted', editable=False, max_length=20, verbose_name='status'),
        ),
        migrations.AddField(
            model_name='report',
            name='channel',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reports', to='reports.channel', verbose_name='channel'),
        ),
        migrations.CreateModel(
            name='Flag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(choices=[('spam', 'Spam or advertising'), ('offensive', 'Offensive or abusive'), ('personal_data', 'Shows personal data'), ('false', 'False or misleading'), ('other', 'Something else')], max_length=20, verbose_name='reason')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='flagged at')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                ('decision', models.CharField(blank=True, choices=[('upheld', 'Hidden'), ('dismissed', 'Kept visible')], max_length=10, verbose_name='decision')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='flags', to='reports.event')),
                ('report', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='flags', to='reports.report')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='flags', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'flag',
                'verbose_name_plural': 'flags',
                'ordering': ['-id'],
                'indexes': [models.Index(condition=models.Q(('decided_at__isnull', True)), fields=['report'], name='flag_open')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('event__isnull', True)), fields=('user', 'report'), name='flag_report_once_per_user'), models.UniqueConstraint(condition=models.Q(('event__isnull', False)), fields=('user', 'event'), name='flag_comment_once_per_user')],
            },
        ),
    ]
