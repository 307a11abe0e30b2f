from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "jiedao.cases"
    label = "cases"
    verbose_name = "接诉即办"
