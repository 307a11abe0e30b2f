"""Deployment checks, run by ``jiedao check`` (and Django's ``check --deploy``).

Each names what is wrong in plain words and how to put it right."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError
from django.utils import timezone

TAG = "jiedao"


@checks.register(TAG, deploy=True)
def secret_key_check(app_configs=None, **kwargs):
    if settings.SECRET_KEY == settings.DEMO_SECRET_KEY or len(settings.SECRET_KEY) < 40:
        return [checks.Error(
            "网站密钥（JIEDAO_SECRET_KEY）没有设置，正在使用演示密钥：登录会话可以被伪造。",
            hint="生成一个至少 50 个字符的随机串放进环境变量 JIEDAO_SECRET_KEY，例如："
                 "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'",
            id="jiedao.E001")]
    return []


@checks.register(TAG, deploy=True)
def encryption_keys_check(app_configs=None, **kwargs):
    problems = []
    if not settings.FIELD_ENCRYPTION_KEY and not settings.FIELD_KEY_FILE.exists():
        problems.append(checks.Error(
            f"个人信息加密密钥不存在：既没有设置 JIEDAO_FIELD_KEYS，也没有密钥文件 {settings.FIELD_KEY_FILE}。",
            hint="运行 jiedao keys status 生成密钥文件，并把密钥目录另行妥善备份。", id="jiedao.E002"))
    if not settings.BLIND_INDEX_KEY and not settings.INDEX_KEY_FILE.exists():
        problems.append(checks.Error(
            f"查询索引密钥不存在：既没有设置 JIEDAO_INDEX_KEY，也没有密钥文件 {settings.INDEX_KEY_FILE}。",
            hint="运行 jiedao keys status 生成密钥文件，并把密钥目录另行妥善备份。", id="jiedao.E003"))
    for path in (settings.FIELD_KEY_FILE, settings.INDEX_KEY_FILE):
        if path.exists() and path.stat().st_mode & 0o077:
            problems.append(checks.Warning(f"密钥文件 {path} 其他用户也能读取。", hint=f"chmod 600 {path}",
                                           id="jiedao.W004"))
    return problems


@checks.register(TAG, deploy=True)
def holiday_calendar_check(app_configs=None, **kwargs):
    from jiedao.workcal.calendar import unknown_years

    year = timezone.localdate().year
    try:
        missing = unknown_years([year, year + 1])
    except DatabaseError:
        return []
    if missing:
        years = "、".join(str(y) for y in missing)
        return [checks.Warning(
            f"还没有 {years} 年的法定节假日和调休安排：这些年份的工作日按周一至周五计算，时限会算错。",
            hint="国务院办公厅发布放假通知后，在“系统管理 → 工作日历”里录入。", id="jiedao.W005")]
    return []


@checks.register(TAG, deploy=True)
def worker_check(app_configs=None, **kwargs):
    from .selectors import worker_seen_seconds

    try:
        seen = worker_seen_seconds()
    except DatabaseError:
        return []
    limit = settings.JIEDAO.get("WORKER_LATE_SECONDS", 180)
    if seen is None:
        return [checks.Warning("后台任务（jiedao worker）从未运行过：时限巡检、通知和自动备份都不会发生。",
                               hint="用 systemd 启动 jiedao worker（见 docs/operations.md）。", id="jiedao.W006")]
    if seen > limit:
        return [checks.Warning(f"后台任务已经 {int(seen // 60)} 分钟没有心跳：它可能停了。",
                               hint="检查 systemctl status jiedao-worker 和它的日志。", id="jiedao.W006")]
    return []


@checks.register(TAG, deploy=True)
def backup_check(app_configs=None, **kwargs):
    from .selectors import newest_backup_age_hours

    every = float(settings.JIEDAO.get("BACKUP_EVERY_HOURS", 0) or 0)
    allowed = 2 * every if every > 0 else 48
    age = newest_backup_age_hours()
    if age is None:
        return [checks.Warning("还没有任何备份。", hint="运行 jiedao backup，或设置 JIEDAO_BACKUP_EVERY_HOURS 让后台任务定时备份。",
                               id="jiedao.W007")]
    if age > allowed:
        return [checks.Warning(f"最近一次备份是 {age:.0f} 小时前：太久了。",
                               hint="运行 jiedao backup，并检查定时备份的日志。", id="jiedao.W007")]
    return []


@checks.register(TAG, deploy=True)
def debug_check(app_configs=None, **kwargs):
    if settings.DEBUG:
        return [checks.Error("调试模式（JIEDAO_DEBUG=1）开着：出错时会把内部信息显示给任何人。",
                             hint="生产环境去掉 JIEDAO_DEBUG 或设为 0。", id="jiedao.E008")]
    return []
