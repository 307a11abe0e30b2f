import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Single-column indexes that an index of the model's Meta begins with: that index answers the same
# look-ups. Dropped by name as the database reports them (on PostgreSQL the text column has a
# second one for LIKE), without rebuilding the table as an AlterField would on SQLite.
FIELDS = {"case": ("status", "category", "reporter", "street", "unit"), "caseevent": ("case",)}


def drop_indexes(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for model_name, names in FIELDS.items():
            meta = apps.get_model("cases", model_name)._meta
            columns = {meta.get_field(name).column for name in names}
            for name, info in connection.introspection.get_constraints(cursor, meta.db_table).items():
                single = info["index"] and not info["unique"] and not info["primary_key"]
                if single and len(info["columns"]) == 1 and info["columns"][0] in columns:
                    schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_indexes(apps, schema_editor):
    for model_name, names in FIELDS.items():
        model = apps.get_model("cases", model_name)
        for name in names:
            field = model._meta.get_field(name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
            like = (
                schema_editor._create_like_index_sql(model, field)
                if hasattr(schema_editor, "_create_like_index_sql")
                else None
            )
            if like is not None:
                schema_editor.execute(like)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_category_dispute_and_flags"),
        ("org", "0004_unit_head"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="category",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to="cases.category",
                        verbose_name="分类",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="reporter",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="reported_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="诉求人账号",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("new", "待派单"),
                            ("dispatched", "待响应"),
                            ("returned", "已退单"),
                            ("in_progress", "办理中"),
                            ("verifying", "待核查"),
                            ("rating", "待回访"),
                            ("closed", "已结案"),
                            ("merged", "已并案"),
                            ("voided", "无效来电"),
                        ],
                        default="new",
                        max_length=12,
                        verbose_name="状态",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="street",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="org.street",
                        verbose_name="受理街道",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="org.unit",
                        verbose_name="承办单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="caseevent",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="cases.case",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, restore_indexes)],
        ),
    ]
