"""``jiedao open311``: keys for Open311 client systems.

    jiedao open311 keys create NAME [--auto-dispatch]   prints the new key on its last line
    jiedao open311 keys list
    jiedao open311 keys revoke NAME

Exit status: 0 done; 1 refused (e.g. the name is taken); 2 wrong arguments.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed

from ... import services
from ...models import ApiKey


class Command(BaseCommand):
    help = _("Open311 接口密钥：发放、列出、停用。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="group", required=True)
        keys = sub.add_parser("keys", help=_("接口密钥"))
        actions = keys.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help=_("发放新密钥（密钥打印在最后一行，只显示这一次）"))
        create.add_argument("name")
        create.add_argument("--auto-dispatch", action="store_true", help=_("经此密钥提交的诉求受理后立即按规则派单"))
        actions.add_parser("list", help=_("列出密钥"))
        revoke = actions.add_parser("revoke", help=_("停用密钥"))
        revoke.add_argument("name")

    def handle(self, *args, group, action, **options):
        try:
            getattr(self, f"do_{action}")(**options)
        except ValidationFailed as exc:
            raise CommandError("; ".join(e["message"] for e in exc.errors)) from None

    def do_create(self, name, auto_dispatch=False, **options):
        key, plain = services.create_key(name, auto_dispatch=auto_dispatch)
        self.stdout.write(
            _("已为“%(name)s”发放 Open311 密钥（前缀 %(prefix)s）。请立即复制，系统只保存它的摘要：")
            % {"name": key.name, "prefix": key.prefix}
        )
        self.stdout.write(plain)

    def do_list(self, **options):
        for key in ApiKey.objects.order_by("name"):
            state = _("启用") if key.active else _("已停用")
            used = key.last_used_at.isoformat(timespec="seconds") if key.last_used_at else "-"
            self.stdout.write(f"{key.name}\t{key.prefix}…\t{state}\t{used}")

    def do_revoke(self, name, **options):
        services.revoke_key(name)
        self.stdout.write(_("已停用“%(name)s”的密钥。") % {"name": name})
