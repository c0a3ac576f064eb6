"""A recipient's notification is the notifications app's model now (the same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0002_role_permissions'),
        ('notifications', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='alertrecipient',
                    name='notification',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alert_recipient', to='notifications.notification'),
                ),
            ],
            database_operations=[],
        ),
    ]
