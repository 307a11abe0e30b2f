from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "jiedao.org"
    label = "org"
    verbose_name = "组织机构"
