from django.db import migrations


class Migration(migrations.Migration):
    """An action's events name their tracked item ``item`` and what happened ``action``, like every
    other event log, so that the one event writer fills them. The rows are kept: the columns are
    renamed, the item's column first to free the name."""

    dependencies = [
        ("participation", "0004_reencode_stored_photos"),
    ]

    operations = [
        migrations.RenameField(model_name="actionevent", old_name="action", new_name="item"),
        migrations.RenameField(model_name="actionevent", old_name="kind", new_name="action"),
    ]
