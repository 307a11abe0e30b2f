import jiedao.common.images
from django.db import migrations, models


class Migration(migrations.Migration):
    """Photos are stored under random names of ours (``jiedao.common.images.PhotoPath``) and
    found by name when served."""

    dependencies = [
        ("cases", "0007_case_case_street_open"),
    ]

    operations = [
        migrations.AlterField(
            model_name="casephoto",
            name="image",
            field=models.ImageField(db_index=True, upload_to=jiedao.common.images.PhotoPath("cases")),
        ),
    ]
