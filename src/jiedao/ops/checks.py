"""Deployment checks, run by ``jiedao check`` (and Django's ``check --deploy``).

Each names what is wrong in plain words and how to put it right."""

from pathlib import Path

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

from jiedao.common import filemodes, sitekey

from .backup import backup_directory, backup_key_file, list_backups
from .selectors import newest_backup_age_hours, worker_seen_seconds

TAG = "jiedao"


@checks.register(TAG, deploy=True)
def secret_key_check(app_configs=None, **kwargs):
    problem = sitekey.weakness()
    if problem:
        return [checks.Error(problem, hint=sitekey.how_to_fix(), id="jiedao.E001")]
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and sitekey.from_file():
        return [
            checks.Warning(
                f"网站密钥来自本机密钥目录里的文件 {settings.SECRET_KEY_FILE}。几台服务器共用一个 PostgreSQL 数据库时，"
                "每台会各自生成不同的密钥：在一台上登录的会话、表单和评价链接到另一台就失效了。",
                hint="只有一台服务器时可以不管。多台时，在每台的 /etc/jiedao/env 里把 JIEDAO_SECRET_KEY 设为同一个随机串"
                f"（可以用这个文件里的密钥，或新生成一个：{sitekey.HOW_TO_MAKE}），然后重启网站和后台任务。",
                id="jiedao.W011",
            )
        ]
    return []


@checks.register(TAG, deploy=True)
def proxy_check(app_configs=None, **kwargs):
    if settings.HTTPS and not settings.NINJA_NUM_PROXIES:
        return [
            checks.Warning(
                "设置了 JIEDAO_HTTPS=1（网站在反向代理后面），但 JIEDAO_PROXY_COUNT 是 0：每个请求看起来都来自代理本身的地址。"
                "登录锁定和频率限制会把所有人当成同一个人——别人输错几次密码，真正的用户也登录不了。",
                hint="在 /etc/jiedao/env 里加上 JIEDAO_PROXY_COUNT=1（前面有一层 nginx；它要按运维手册第 3 节设置 "
                "X-Forwarded-For），然后重启网站。",
                id="jiedao.W009",
            )
        ]
    return []


@checks.register(TAG, deploy=True)
def encryption_keys_check(app_configs=None, **kwargs):
    problems = []
    if not settings.FIELD_ENCRYPTION_KEY and not settings.FIELD_KEY_FILE.exists():
        problems.append(
            checks.Error(
                f"个人信息加密密钥不存在：既没有设置 JIEDAO_FIELD_KEYS，也没有密钥文件 {settings.FIELD_KEY_FILE}。",
                hint="运行 jiedao keys status 生成密钥文件，并把密钥目录另行妥善备份。",
                id="jiedao.E002",
            )
        )
    if not settings.BLIND_INDEX_KEY and not settings.INDEX_KEY_FILE.exists():
        problems.append(
            checks.Error(
                f"查询索引密钥不存在：既没有设置 JIEDAO_INDEX_KEY，也没有密钥文件 {settings.INDEX_KEY_FILE}。",
                hint="运行 jiedao keys status 生成密钥文件，并把密钥目录另行妥善备份。",
                id="jiedao.E003",
            )
        )
    for path in _key_files():
        if path.exists() and path.stat().st_mode & 0o077:
            problems.append(
                checks.Warning(f"密钥文件 {path} 其他用户也能读取。", hint=f"chmod 600 {path}", id="jiedao.W004")
            )
    return problems


def _key_files():
    return [
        Path(p) for p in (settings.FIELD_KEY_FILE, settings.INDEX_KEY_FILE, settings.SECRET_KEY_FILE, backup_key_file())
    ]


def _data_paths():
    """The directories and files holding personal data that Jiedao creates owner-only."""
    paths = [Path(settings.DATA_DIR), Path(settings.KEY_DIR), Path(settings.MEDIA_ROOT), backup_directory()]
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if "sqlite" in database["ENGINE"] and name and not name.startswith("file:") and name != ":memory:":
        paths += [Path(name + suffix) for suffix in ("", "-wal", "-shm")]
    return paths + list_backups()


@checks.register(TAG, deploy=True)
def file_modes_check(app_configs=None, **kwargs):
    exposed = [path for path in _data_paths() if filemodes.exposed(path)]
    if not exposed:
        return []
    return [
        checks.Warning(
            f"其他用户也能打开 {path}：数据库、上传的照片、备份和密钥里都有居民的个人信息。",
            hint=f"chmod {'700' if path.is_dir() else '600'} {path}（新建的文件和目录已经只有本系统的用户能打开）。",
            id="jiedao.W010",
        )
        for path in exposed
    ]


@checks.register(TAG, deploy=True)
def worker_check(app_configs=None, **kwargs):

    try:
        seen = worker_seen_seconds()
    except DatabaseError:
        return []
    limit = settings.JIEDAO.get("WORKER_LATE_SECONDS", 180)
    if seen is None:
        return [
            checks.Warning(
                "后台任务（jiedao worker）从未运行过：时限巡检、通知和自动备份都不会发生。",
                hint="用 systemd 启动 jiedao worker（见 docs/operations.md）。",
                id="jiedao.W006",
            )
        ]
    if seen > limit:
        return [
            checks.Warning(
                f"后台任务已经 {int(seen // 60)} 分钟没有心跳：它可能停了。",
                hint="检查 systemctl status jiedao-worker 和它的日志。",
                id="jiedao.W006",
            )
        ]
    return []


@checks.register(TAG, deploy=True)
def backup_check(app_configs=None, **kwargs):

    every = float(settings.JIEDAO.get("BACKUP_EVERY_HOURS", 0) or 0)
    allowed = 2 * every if every > 0 else 48
    age = newest_backup_age_hours()
    if age is None:
        return [
            checks.Warning(
                "还没有任何备份。",
                hint="运行 jiedao backup，或设置 JIEDAO_BACKUP_EVERY_HOURS 让后台任务定时备份。",
                id="jiedao.W007",
            )
        ]
    if age > allowed:
        return [
            checks.Warning(
                f"最近一次备份是 {age:.0f} 小时前：太久了。",
                hint="运行 jiedao backup，并检查定时备份的日志。",
                id="jiedao.W007",
            )
        ]
    return []


@checks.register(TAG, deploy=True)
def debug_check(app_configs=None, **kwargs):
    if settings.DEBUG:
        return [
            checks.Error(
                "调试模式（JIEDAO_DEBUG=1）开着：出错时会把内部信息显示给任何人。",
                hint="生产环境去掉 JIEDAO_DEBUG 或设为 0。",
                id="jiedao.E008",
            )
        ]
    return []
