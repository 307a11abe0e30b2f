from django.apps import AppConfig


class Open311Config(AppConfig):
    name = "jiedao.open311"
    label = "open311"
    verbose_name = "开放接口"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from jiedao.cases import states

        from . import statuses

        # Labels of the events this app writes, shown on a case's timeline: a client's
        # update, and the state an imported case was in when it was imported.
        states.SYSTEM_ACTIONS.setdefault(statuses.UPDATE_ACTION, statuses.UPDATE_ACTION_LABEL)
        states.SYSTEM_ACTIONS.setdefault("import", _("历史工单导入"))
