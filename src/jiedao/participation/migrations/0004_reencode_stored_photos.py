from django.db import migrations

from jiedao.common.images import reencode_stored


def reencode_photos(apps, schema_editor):
    """Proposal photos stored by earlier versions under the client's file name are re-encoded
    and renamed; a file that is not an image is removed from its proposal (logged)."""
    Proposal = apps.get_model("participation", "Proposal")
    reencode_stored(Proposal.objects.all(), "photo", "participation")


class Migration(migrations.Migration):
    dependencies = [
        ("participation", "0003_photo_names"),
    ]

    operations = [
        migrations.RunPython(reencode_photos, migrations.RunPython.noop),
    ]
