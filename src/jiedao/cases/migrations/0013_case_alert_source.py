from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0012_outcome_self_resolved'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='alert_source',
            field=models.CharField(blank=True, db_default='', default='', max_length=60, verbose_name='告警来源'),
        ),
        migrations.AddField(
            model_name='case',
            name='alert_count',
            field=models.PositiveIntegerField(db_default=0, default=0, verbose_name='告警次数'),
        ),
        migrations.AddField(
            model_name='case',
            name='last_alert_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='最近告警时间'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ('new', 'dispatched', 'returned', 'in_progress', 'verifying', 'rating')), models.Q(('alert_source', ''), _negated=True)), fields=['alert_source'], name='case_open_alert_source'),
        ),
    ]
