from django.db import migrations

from jiedao.common.images import reencode_stored


def reencode_photos(apps, schema_editor):
    """Case photos stored by earlier versions under the client's file name are re-encoded and
    renamed; a file that is not an image is removed with its row (logged)."""
    CasePhoto = apps.get_model("cases", "CasePhoto")
    reencode_stored(CasePhoto.objects.all(), "image", "cases")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_photo_names"),
    ]

    operations = [
        migrations.RunPython(reencode_photos, migrations.RunPython.noop),
    ]
