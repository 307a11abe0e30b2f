from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class GeoConfig(AppConfig):
    name = "jiedao.geo"
    label = "geo"
    verbose_name = "地理"

    def ready(self):
        # Models can be imported only once the app registry is ready, i.e. here.
        from jiedao.org.models import Grid  # noqa: PLC0415 (Django: the app registry must be ready)

        from . import locate  # noqa: PLC0415 (reads the models)

        post_save.connect(locate.invalidate, sender=Grid, dispatch_uid="geo-grid-save")
        post_delete.connect(locate.invalidate, sender=Grid, dispatch_uid="geo-grid-delete")
