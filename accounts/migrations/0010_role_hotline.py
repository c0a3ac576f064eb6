"""The hotline operator role."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0009_text_message_permissions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(choices=[('citizen', 'Citizen'), ('staff', 'Agency staff'), ('manager', 'Agency manager'), ('dispatcher', 'Dispatcher'), ('administrator', 'Administrator'), ('hotline', 'Hotline operator')], default='citizen', max_length=20, verbose_name='role'),
        ),
    ]
