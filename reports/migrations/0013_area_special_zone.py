"""Areas may be special zones (đặc khu: Hoàng Sa, Phú Quốc...) as well as wards and communes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0012_move_notifications_and_daily_figures'),
    ]

    operations = [
        migrations.AlterField(
            model_name='area',
            name='kind',
            field=models.CharField(choices=[('ward', 'Ward'), ('commune', 'Commune'), ('special_zone', 'Special zone')], max_length=20, verbose_name='kind'),
        ),
    ]
