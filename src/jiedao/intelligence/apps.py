from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from jiedao.cases import hooks


class IntelligenceConfig(AppConfig):
    """智能分拨 plugs into the case loop through the ports the loop offers (``cases.hooks``):
    the classifier's proposal at intake, and the reply-quality check when a unit resolves."""

    name = "jiedao.intelligence"
    label = "intelligence"
    verbose_name = _("智能分拨")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import selectors, services  # noqa: PLC0415 (once the app registry is ready: the services read the models)

        hooks.intake_classifier.plug(
            lambda description, category: services.intake_proposal(description, category=category)
        )
        hooks.category_suggester.plug(
            lambda text, k: [
                (s.category.code, s.probability)
                for s in selectors.suggest(text, k=k, with_units=False)
                if s.category is not None
            ]
        )
        hooks.reply_checker.plug(
            lambda case, result, at=None, keep=True: services.check_reply(case, result=result, at=at, keep=keep)
        )
