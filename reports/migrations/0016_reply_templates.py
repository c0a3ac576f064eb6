"""Reply templates, and who keeps them: administrators every template, managers those of
their own agency (reports.admin.ReplyTemplateAdmin narrows them to it); no other role."""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import reports.models

GRANTS = {
    "administrator": [
        "add_replytemplate", "change_replytemplate", "delete_replytemplate", "view_replytemplate",
    ],
    "manager": ["add_replytemplate", "change_replytemplate", "view_replytemplate"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    app_config = apps.get_app_config("reports")
    stub = getattr(app_config, "models_module", None) is None
    if stub:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    if stub:
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="reports", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="reports", codename__endswith="_replytemplate"
    ).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0015_channels_and_editor_roles'),
        ('accounts', '0003_roles'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReplyTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='What staff see in the list of templates.', max_length=120, verbose_name='name')),
                ('purpose', models.CharField(choices=[('public_update', 'Public update'), ('question', 'Question to the citizen'), ('resolution', 'Resolution'), ('rejection', 'Rejection')], max_length=20, verbose_name='purpose')),
                ('language', models.CharField(choices=[('vi', 'Tiếng Việt'), ('en', 'English')], default='vi', max_length=8, verbose_name='language')),
                ('text', models.TextField(help_text='Placeholders, filled from the report: {reference}, {category}, {agency}, {ward}, {deadline}.', max_length=2000, validators=[reports.models.validate_placeholders], verbose_name='text')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('code', models.SlugField(blank=True, editable=False, max_length=60, verbose_name='code')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('agency', models.ForeignKey(blank=True, help_text='Empty: reports of any agency.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reply_templates', to='reports.agency', verbose_name='agency')),
                ('category', models.ForeignKey(blank=True, help_text='Empty: reports of any category.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.category', verbose_name='category')),
            ],
            options={
                'verbose_name': 'reply template',
                'verbose_name_plural': 'reply templates',
                'ordering': ['purpose', 'language', 'name'],
                'indexes': [models.Index(fields=['purpose', 'language'], name='reply_template_purpose')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('code', ''), _negated=True), fields=('code', 'language'), name='reply_template_code_language')],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
