"""``jiedao keys``: the keys that encrypt personal data at rest.

    jiedao keys status        where the keys come from, how many, and how many values
                              are under the current key (and under older ones)
    jiedao keys rotate        new key first, then re-encrypt every value under it
    jiedao keys reencrypt     re-encrypt what is not yet under the current key
                              (after an interrupted rotation, or keys set in the environment)
    jiedao keys retire-old    remove the older keys once no value needs them
    jiedao keys generate      print a new key (for JIEDAO_FIELD_KEYS)

A refused step exits with status 1 and says why; see docs/data-protection.md.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiedao.common import crypto, selectors, services
from jiedao.common.errors import ValidationFailed


class Command(BaseCommand):
    help = _("个人信息加密密钥：查看状态、轮换、重新加密、停用旧密钥、生成新密钥。")
    # Keys must stay manageable even when an unrelated part of the site fails its checks.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help=_("密钥来源、数量，以及多少个值由当前密钥加密"))
        for name, text in (
            ("rotate", _("生成新密钥放在最前面，并用它重新加密所有值")),
            ("reencrypt", _("把还不是由当前密钥加密的值重新加密")),
        ):
            command = sub.add_parser(name, help=text)
            command.add_argument(
                "--batch", type=int, default=services.BATCH, help=_("每批处理的行数（每批一个事务，默认 %(default)s）")
            )
        sub.add_parser("retire-old", help=_("所有值都由当前密钥加密后，删除旧密钥"))
        sub.add_parser("generate", help=_("打印一个新密钥（用于环境变量 JIEDAO_FIELD_KEYS）"))

    def handle(self, *args, action, **options):
        try:
            if action == "status":
                self._status()
            elif action == "rotate":
                self._rotate(options["batch"])
            elif action == "reencrypt":
                self._reencrypt(options["batch"])
            elif action == "retire-old":
                self._retire()
            else:
                self.stdout.write(crypto.generate_key())
        except ValidationFailed as exc:
            raise CommandError(exc.errors[0]["message"]) from None
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

    def _source_line(self, status):
        if status.source == "env":
            return _("密钥来源：环境变量 JIEDAO_FIELD_KEYS")
        return _("密钥来源：密钥文件 %(path)s") % {"path": status.path}

    def _status(self):
        status = selectors.key_status()
        self.stdout.write(self._source_line(status))
        self.stdout.write(_("密钥数量：%(count)d（第一个加密，全部可解密）") % {"count": status.key_count})
        for row in status.fields:
            if row.total:
                self.stdout.write(
                    f"  {row.model}.{row.field}: "
                    + _("共 %(total)d，当前密钥 %(current)d，旧密钥 %(older)d，无法解密 %(unreadable)d")
                    % {"total": row.total, "current": row.current, "older": row.older, "unreadable": row.unreadable}
                )
        self.stdout.write(
            _(
                "合计：%(total)d 个加密值，%(current)d 个由当前密钥加密，%(older)d 个由旧密钥加密，"
                "%(unreadable)d 个无法解密。"
            )
            % {"total": status.total, "current": status.current, "older": status.older, "unreadable": status.unreadable}
        )
        if status.unreadable:
            raise CommandError(_("有值无法用已配置的任何密钥解密：请检查密钥文件或环境变量是否完整。"))

    def _progress(self, label, done, total):
        self.stdout.write(f"  {label}: {done}/{total}")

    def _report(self, counts):
        self.stdout.write(_("检查 %(checked)d 个值，重新加密 %(rewritten)d 个，无法解密 %(unreadable)d 个。") % counts)
        if counts["unreadable"]:
            raise CommandError(_("有值无法用已配置的任何密钥解密，已原样保留；旧密钥不能停用。"))

    def _rotate(self, batch):
        counts = services.rotate_keys(batch_size=batch, progress=self._progress)
        self.stdout.write(_("已生成新密钥并放在最前面（现有 %(keys)d 个密钥）。") % counts)
        self._report(counts)
        self.stdout.write(_("下一步：确认网站正常后，运行 jiedao keys retire-old 停用旧密钥。"))

    def _reencrypt(self, batch):
        counts = services.reencrypt_all(batch_size=batch, progress=self._progress)
        self._report(counts)

    def _retire(self):
        result = services.retire_old_keys()
        if not result["retired"]:
            self.stdout.write(_("只有一个密钥，没有需要停用的旧密钥。"))
        elif result["source"] == "env":
            self.stdout.write(
                _(
                    "所有 %(values)d 个值都由当前密钥加密：现在可以从 JIEDAO_FIELD_KEYS 中删除除第一个以外的"
                    "密钥（共 %(retired)d 个），然后重启网站和后台任务。"
                )
                % result
            )
        else:
            self.stdout.write(_("已停用 %(retired)d 个旧密钥；所有 %(values)d 个值都由当前密钥加密。") % result)
            self.stdout.write(_("提醒：轮换之前做的数据库备份仍需旧密钥才能读取，请按文档保管。"))
