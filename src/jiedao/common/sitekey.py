"""The site's secret key (Django's ``SECRET_KEY``): it signs sessions, CSRF tokens and the
service hall's rating links, so whoever knows it can forge them.

- ``JIEDAO_SECRET_KEY`` when set (the same on every host of a deployment);
- else a random key made at first use in the key directory (``secret.key``, mode 0600 in a
  0700 directory), so that no two installations share one.

``PUBLIC_KEY`` is the key earlier versions shipped in their source: anyone can read it. A
server (``jiedao serve``, the WSGI entry) or the worker refuses to start with it, except the
processes ``jiedao demo`` starts on this machine's own address; ``jiedao check`` fails on it
and on a key shorter than ``MIN_LENGTH`` characters.

``read_or_create`` is used by the settings, before Django is set up; the rest reads them."""

import os
import secrets

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .filemodes import read_lines, write_private_file

PUBLIC_KEY = "jiedao-demo-secret-key-do-not-use-in-production-0123456789"
MIN_LENGTH = 50
# Set by `jiedao demo` for the server and worker it starts on 127.0.0.1, and by nothing else.
DEMO_MARK = "JIEDAO_DEMO_SERVER"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
FILE_HEADER = (
    "# Jiedao: the site's secret key (signs sessions, forms and links). Made at first use.\n"
    "# Several hosts of one deployment need one key: set JIEDAO_SECRET_KEY on each instead.\n"
)
HOW_TO_MAKE = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def read_or_create(path) -> str:
    """The key kept in ``path``, made (random, 0600) the first time."""
    try:
        try:
            lines = read_lines(path)
        except FileNotFoundError:
            write_private_file(path, [secrets.token_urlsafe(MIN_LENGTH)], header=FILE_HEADER, exclusive=True)
            lines = read_lines(path)
    except PermissionError:
        raise ImproperlyConfigured(
            f"无法读取或生成网站密钥文件 {path}：请以本系统的用户（如 jiedao）运行，或设置 JIEDAO_SECRET_KEY。"
        ) from None
    if not lines:
        raise ImproperlyConfigured(f"网站密钥文件 {path} 里没有密钥：删除它，系统会生成新的。")
    return lines[0]


def from_file() -> bool:
    """Whether the key in use is the one kept in this host's key directory."""
    try:
        lines = read_lines(settings.SECRET_KEY_FILE)
    except OSError:
        return False
    return bool(lines) and lines[0] == settings.SECRET_KEY


def weakness(key=None) -> str:
    """What is wrong with the key in use, in plain words; empty when nothing is."""
    key = settings.SECRET_KEY if key is None else key
    if key == PUBLIC_KEY:
        return "网站密钥 JIEDAO_SECRET_KEY 是源代码里公开的演示密钥：任何人都能用它伪造登录会话和评价链接。"
    if len(key) < MIN_LENGTH:
        return f"网站密钥 JIEDAO_SECRET_KEY 只有 {len(key)} 个字符，太短（至少 {MIN_LENGTH} 个），容易被猜出。"
    return ""


def how_to_fix() -> str:
    return (
        "删去 JIEDAO_SECRET_KEY（系统会在密钥目录里生成随机密钥文件 secret.key；多台服务器共用一个数据库时不要这样做），"
        f"或把它换成一个新的随机串，例如用这条命令生成：{HOW_TO_MAKE}"
    )


def refusal(host=None, demo=False) -> str:
    """Why a server bound to ``host`` (when known) or the worker must not start with the key in
    use; empty when it may. Only the public key stops a start, and not in ``jiedao demo``
    (``demo``) or the processes it starts, on this machine's own address."""
    if settings.SECRET_KEY != PUBLIC_KEY:
        return ""
    started_by_demo = demo or os.environ.get(DEMO_MARK) == "1"
    if started_by_demo and (host is None or host in LOOPBACK):
        return ""
    return f"拒绝启动：{weakness()} {how_to_fix()}"
