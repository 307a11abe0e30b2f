from django.apps import AppConfig

from jiedao.cases import hooks


class RegistryConfig(AppConfig):
    name = "jiedao.registry"
    label = "registry"
    verbose_name = "一户一档"

    def ready(self):
        # The intake of a case asks the registry where a typed address is (its buildings' positions).
        from .selectors import point_for_address  # noqa: PLC0415 (once the app registry is ready: it reads the models)

        hooks.address_locator.plug(point_for_address)
