from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hall", "0002_appointment"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="anonymised_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="匿名化时间"),
        ),
        migrations.AddField(
            model_name="applicationmaterial",
            name="source",
            field=models.CharField(blank=True, default="", max_length=120, verbose_name="免提交数据来源"),
        ),
    ]
