from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "jiedao.org"
    label = "org"
    verbose_name = "组织机构"

    def ready(self):
        from . import signals  # noqa: F401, PLC0415 (connects the receivers; Django: models must be loaded first)
