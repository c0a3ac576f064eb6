"""Photo privacy (issue 15): the obscured public rendition of each photo, where it is in the
privacy step, and the regions obscured in it. No data is copied: every stored photo starts
`pending`, so it stays out of public view until the privacy step (or `manage.py
redact_photos`) has made its rendition."""

import django.db.models.deletion
import django.utils.timezone
import reports.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0017_feed_filter_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PhotoRegion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('face', 'Face'), ('plate', 'Licence plate'), ('other', 'Other')], max_length=10, verbose_name='kind')),
                ('source', models.CharField(choices=[('detector', 'Detector'), ('staff', 'Staff')], max_length=10, verbose_name='source')),
                ('x', models.PositiveIntegerField()),
                ('y', models.PositiveIntegerField()),
                ('width', models.PositiveIntegerField(verbose_name='width')),
                ('height', models.PositiveIntegerField(verbose_name='height')),
                ('score', models.FloatField(blank=True, null=True, verbose_name='score')),
                ('detector_version', models.CharField(blank=True, max_length=200, verbose_name='detector version')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('removed_at', models.DateTimeField(blank=True, null=True, verbose_name='removed at')),
            ],
            options={
                'verbose_name': 'obscured region',
                'verbose_name_plural': 'obscured regions',
                'ordering': ['id'],
            },
        ),
        migrations.AddField(
            model_name='photo',
            name='detector_version',
            field=models.CharField(blank=True, max_length=200, verbose_name='detector version'),
        ),
        migrations.AddField(
            model_name='photo',
            name='original_deleted_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='original deleted at'),
        ),
        migrations.AddField(
            model_name='photo',
            name='public_image',
            field=models.ImageField(blank=True, upload_to=reports.models.public_photo_upload_to, verbose_name='public image'),
        ),
        migrations.AddField(
            model_name='photo',
            name='public_thumbnail',
            field=models.ImageField(blank=True, upload_to=reports.models.public_thumbnail_upload_to, verbose_name='public thumbnail'),
        ),
        migrations.AddField(
            model_name='photo',
            name='redacted_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='obscured at'),
        ),
        migrations.AddField(
            model_name='photo',
            name='redaction',
            field=models.CharField(choices=[('pending', 'Waiting to be processed'), ('done', 'Obscured'), ('failed', 'Failed: kept private')], default='pending', max_length=10, verbose_name='faces and plates'),
        ),
        migrations.AddField(
            model_name='photo',
            name='redaction_attempts',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='photo',
            name='redaction_error',
            field=models.CharField(blank=True, max_length=500, verbose_name='last error'),
        ),
        migrations.AlterField(
            model_name='event',
            name='kind',
            field=models.CharField(choices=[('created', 'Created'), ('routed', 'Routed'), ('needs_triage', 'Sent to triage'), ('accepted', 'Accepted'), ('assigned', 'Assigned'), ('status_changed', 'Status changed'), ('transferred', 'Transferred'), ('public_update', 'Update'), ('internal_note', 'Internal note'), ('resolved', 'Resolved'), ('rejected', 'Rejected'), ('reopened', 'Reopened'), ('closed', 'Closed'), ('rated', 'Rated'), ('commented', 'Comment from the citizen'), ('escalated', 'Escalated'), ('corrected', 'Corrected'), ('hidden', 'Hidden from the public'), ('shown', 'Shown to the public again'), ('edited', 'Public text edited'), ('photo_hidden', 'Photo hidden from the public'), ('photo_shown', 'Photo shown again'), ('photo_redacted', 'Obscured areas of a photo changed'), ('comment_hidden', 'Comment hidden'), ('merged', 'Merged into another report'), ('duplicate_added', 'Duplicate merged in'), ('unmerged', 'Merge undone'), ('duplicate_removed', 'Duplicate taken out'), ('split', 'Split into several reports')], max_length=20, verbose_name='kind'),
        ),
        migrations.AddIndex(
            model_name='photo',
            index=models.Index(condition=models.Q(('redaction', 'done'), _negated=True), fields=['redaction'], name='photo_redaction_open'),
        ),
        migrations.AddField(
            model_name='photoregion',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='photoregion',
            name='photo',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='regions', to='reports.photo'),
        ),
        migrations.AddField(
            model_name='photoregion',
            name='removed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='photoregion',
            constraint=models.CheckConstraint(condition=models.Q(('height__gt', 0), ('width__gt', 0)), name='photo_region_not_empty'),
        ),
    ]
