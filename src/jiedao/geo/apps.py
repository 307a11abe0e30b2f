from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "jiedao.geo"
    label = "geo"
    verbose_name = "地理"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from jiedao.org.models import Grid

        from . import locate

        post_save.connect(locate.invalidate, sender=Grid, dispatch_uid="geo-grid-save")
        post_delete.connect(locate.invalidate, sender=Grid, dispatch_uid="geo-grid-delete")
