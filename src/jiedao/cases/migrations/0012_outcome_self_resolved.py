from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0011_intake_outcomes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='case',
            name='outcome',
            field=models.CharField(blank=True, choices=[('answered', '直接答复'), ('advised', '私事告知'), ('voided', '无效来电'), ('self_resolved', '已自行处置')], db_default='', default='', max_length=16, verbose_name='三事分流'),
        ),
    ]
