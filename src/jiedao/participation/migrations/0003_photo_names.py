import jiedao.common.images
from django.db import migrations, models


class Migration(migrations.Migration):
    """Proposal photos are stored under random names of ours (``jiedao.common.images.PhotoPath``)
    and found by name when served."""

    dependencies = [
        ("participation", "0002_point_rules"),
    ]

    operations = [
        migrations.AlterField(
            model_name="proposal",
            name="photo",
            field=models.ImageField(blank=True, db_index=True,
                                    upload_to=jiedao.common.images.PhotoPath("participation"), verbose_name="照片"),
        ),
    ]
