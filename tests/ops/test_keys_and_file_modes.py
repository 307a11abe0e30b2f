"""The secret key and the files on disk, as a fresh installation makes them: every installation
gets its own random key, nothing starts with the key published in the source, and the data
directory, the database, the keys, backups and uploads are the installation user's alone."""

import json
import os
import runpy
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from jiedao.common import sitekey

PUBLIC_KEY = sitekey.PUBLIC_KEY

# Runs in a fresh process on a fresh data directory: opens the SQLite database (WAL), makes the
# keys, stores an upload and takes a backup, then prints the mode of everything it made.
FRESH_INSTALLATION = r"""
import json, os, stat
os.umask(0o022)  # the usual umask: new files readable by everyone unless made otherwise
import django
django.setup()
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from jiedao.common import crypto
from jiedao.ops import backup

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS sample (x)")
    cursor.execute("INSERT INTO sample VALUES (1)")
crypto.field_keys()
crypto.blind_index("13800138000")
upload = default_storage.save("cases/2026/12/photo.jpg", ContentFile(b"not really a photo"))
path, _header = backup.take_backup()
database = str(settings.DATABASES["default"]["NAME"])
paths = {
    "data": settings.DATA_DIR, "database": database, "wal": database + "-wal", "shm": database + "-shm",
    "keys": settings.KEY_DIR, "field.keys": settings.FIELD_KEY_FILE, "index.key": settings.INDEX_KEY_FILE,
    "secret.key": settings.SECRET_KEY_FILE, "backup.key": backup.backup_key_file(),
    "backups": path.parent, "backup": path, "media": settings.MEDIA_ROOT,
    "upload folder": os.path.dirname(default_storage.path(upload)), "upload": default_storage.path(upload),
}
print(json.dumps({name: oct(stat.S_IMODE(os.stat(p).st_mode)) for name, p in paths.items()}))
print(json.dumps({"secret_key": settings.SECRET_KEY}))
"""


def _environment(data_dir, **extra):
    """The environment of a fresh installation: SQLite in ``data_dir``, nothing else configured."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JIEDAO_") and k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(JIEDAO_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="jiedao.settings", **extra)
    return env


def _run(args, data_dir, **extra):
    return subprocess.run(
        [sys.executable, *args], env=_environment(data_dir, **extra), capture_output=True, text=True, timeout=300
    )


def _fresh(data_dir):
    result = _run(["-c", FRESH_INSTALLATION], data_dir)
    assert result.returncode == 0, result.stderr
    modes, key = result.stdout.strip().splitlines()[-2:]
    return json.loads(modes), json.loads(key)["secret_key"]


@pytest.fixture(scope="module")
def installation():
    """A fresh installation in a directory other users can pass through (as /srv is), so that
    the modes inside it matter."""
    base = Path(tempfile.mkdtemp(prefix="jiedao-modes-"))
    os.chmod(base, 0o755)
    modes, key = _fresh(base / "data")
    yield {"data": base / "data", "modes": modes, "key": key, "base": base}
    subprocess.run(["rm", "-rf", str(base)], check=False)


def test_a_fresh_installation_keeps_its_data_and_keys_to_its_own_user(installation):
    modes = installation["modes"]
    directories = {"data", "keys", "backups", "media", "upload folder"}
    assert {name: mode for name, mode in modes.items() if name in directories} == dict.fromkeys(directories, "0o700")
    assert {name: mode for name, mode in modes.items() if name not in directories} == dict.fromkeys(
        set(modes) - directories, "0o600"
    )


def test_every_installation_makes_its_own_secret_key_and_keeps_it(installation):
    _modes, other = _fresh(installation["base"] / "another")
    first = installation["key"]
    assert first != other and PUBLIC_KEY not in (first, other)
    assert len(first) >= sitekey.MIN_LENGTH
    kept = (installation["data"] / "keys" / "secret.key").read_text().splitlines()
    assert first in kept  # read again at the next start


def test_check_reports_data_that_other_users_can_read_and_a_key_several_hosts_would_not_share(installation):
    data = installation["data"]
    # Shared by several hosts through PostgreSQL: each would make its own key file.
    clean = _run(["-m", "jiedao.cli", "check"], data, DATABASE_URL="postgres://nobody@127.0.0.1:9/none")
    out = clean.stdout + clean.stderr
    assert "(jiedao.W011)" in out and "JIEDAO_SECRET_KEY 设为同一个随机串" in out
    assert "(jiedao.W010)" not in out and "(jiedao.W004)" not in out
    # As an earlier version left them: a database, its folder and a key file open to everyone.
    os.chmod(data, 0o755)
    os.chmod(data / "jiedao.sqlite3", 0o644)
    os.chmod(data / "keys" / "secret.key", 0o644)
    report = _run(["-m", "jiedao.cli", "check"], data)
    out = report.stdout + report.stderr
    assert report.returncode == 1
    database = data / "jiedao.sqlite3"
    assert f"(jiedao.W010) 其他用户也能打开 {database}：" in out and f"chmod 600 {database}" in out
    assert f"(jiedao.W010) 其他用户也能打开 {data}：" in out and f"chmod 700 {data}" in out
    assert f"(jiedao.W004) 密钥文件 {data / 'keys' / 'secret.key'} 其他用户也能读取" in out
    assert "(jiedao.W011)" not in out  # one host on SQLite


def test_a_key_set_in_the_environment_is_not_taken_for_the_hosts_own(settings, tmp_path):
    settings.SECRET_KEY_FILE = tmp_path / "secret.key"
    made = sitekey.read_or_create(settings.SECRET_KEY_FILE)
    settings.SECRET_KEY = made
    assert sitekey.from_file()
    settings.SECRET_KEY = "configured-the-same-on-every-host-" + "k" * 30
    assert not sitekey.from_file()


@pytest.mark.parametrize(
    "command",
    [
        ("serve", "--host", "127.0.0.1", "--port", "9"),
        ("worker", "--once"),
        ("demo", "--host", "0.0.0.0", "--no-serve"),
    ],
    ids=["serve", "worker", "demo on a public address"],
)
def test_nothing_starts_with_the_key_published_in_the_source(settings, monkeypatch, command):
    settings.SECRET_KEY = PUBLIC_KEY  # someone set JIEDAO_SECRET_KEY to it by hand
    monkeypatch.delenv(sitekey.DEMO_MARK, raising=False)
    with pytest.raises(CommandError) as refused:
        call_command(*command)
    message = str(refused.value)
    assert "拒绝启动" in message and "JIEDAO_SECRET_KEY" in message
    assert "secrets.token_urlsafe(50)" in message  # and how to make a key


def test_the_wsgi_entry_refuses_the_key_published_in_the_source(settings, monkeypatch):
    settings.SECRET_KEY = PUBLIC_KEY
    monkeypatch.delenv(sitekey.DEMO_MARK, raising=False)
    with pytest.raises(ImproperlyConfigured) as refused:
        runpy.run_module("jiedao.wsgi")
    assert "JIEDAO_SECRET_KEY" in str(refused.value)
    settings.SECRET_KEY = "a-key-of-this-installation-only-" + "x" * 30
    assert runpy.run_module("jiedao.wsgi")["application"] is not None


def test_a_server_started_by_the_demo_may_use_the_public_key_on_this_machine_only(settings, monkeypatch):
    settings.SECRET_KEY = PUBLIC_KEY
    monkeypatch.setenv(sitekey.DEMO_MARK, "1")  # the server and worker `jiedao demo` starts
    with pytest.raises(CommandError) as refused:
        call_command("serve", "--host", "0.0.0.0", "--port", "9")
    assert "JIEDAO_SECRET_KEY" in str(refused.value)
    assert sitekey.refusal(host="127.0.0.1") == "" and sitekey.refusal() == ""
    monkeypatch.delenv(sitekey.DEMO_MARK)
    assert sitekey.refusal(host="127.0.0.1", demo=True) == ""  # jiedao demo itself, on this machine


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key,problem", [(PUBLIC_KEY, "公开的演示密钥"), ("s" * 49, "只有 49 个字符")], ids=["public key", "short key"]
)
def test_check_fails_on_the_public_key_and_on_a_short_one_and_says_how_to_make_one(settings, capsys, key, problem):
    settings.SECRET_KEY = key
    with pytest.raises(CommandError):
        call_command("check")
    err = capsys.readouterr().err
    assert "jiedao.E001" in err and problem in err and "secrets.token_urlsafe(50)" in err


@pytest.mark.django_db
def test_check_warns_when_https_is_on_but_no_proxy_is_trusted(settings, capsys):
    settings.HTTPS = True
    settings.NINJA_NUM_PROXIES = 0
    with pytest.raises(CommandError):
        call_command("check")
    err = capsys.readouterr().err
    assert "jiedao.W009" in err and "JIEDAO_PROXY_COUNT=1" in err and "登录锁定" in err
    settings.NINJA_NUM_PROXIES = 1
    with pytest.raises(CommandError):  # other problems remain in a test installation
        call_command("check")
    assert "jiedao.W009" not in capsys.readouterr().err


def test_modes_are_owner_only_whatever_the_umask(tmp_path):
    from jiedao.common import filemodes

    previous = os.umask(0o000)
    try:
        directory = filemodes.private_directory(tmp_path / "a" / "b")
        made = filemodes.create_private_file(directory / "db")
    finally:
        os.umask(previous)
    assert made and stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "db").stat().st_mode) == 0o600
