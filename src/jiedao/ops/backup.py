"""Encrypted backups of the whole database, and their restore.

A backup is one file, ``jiedao-YYYYmmdd-HHMMSS-<engine>.jdbk``:

- a first line ``JIEDAO-BACKUP 1``;
- one line of JSON, in clear, with what the file holds (engine, time, the row count of
  every table, the salt and nonce prefix, the id of the key);
- the database copy (SQLite: an online copy made with SQLite's backup API; PostgreSQL:
  ``pg_dump --format=custom`` of one snapshot), cut into 1 MiB chunks, each encrypted
  with AES-256-GCM under a key derived (HKDF-SHA256, the file's own salt) from the
  installation's backup key. Each chunk's nonce carries its number and whether it is the
  last, and the header line is authenticated with every chunk: a file that was cut short,
  reordered, edited or encrypted under another key is refused, never half restored.

The backup key is ``JIEDAO_BACKUP_KEY`` or the file ``backup.key`` in the key directory,
made at first use. Backups, their directory and a restored SQLite file are owner-only (0600,
0700). Keep a copy of the key directory apart from the backups: without it no
backup can be read (docs/operations.md).
"""

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connection
from django.utils import timezone

from jiedao.common import crypto
from jiedao.common.errors import ValidationFailed
from jiedao.common.filemodes import create_private_file, private_directory

MAGIC = b"JIEDAO-BACKUP 1\n"
CHUNK = 1 << 20
SUFFIX = ".jdbk"
_INFO = b"jiedao backup v1"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why in plain words."""


# --- the key ---------------------------------------------------------------------------


def backup_key_file() -> Path:
    return Path(settings.KEY_DIR) / "backup.key"


def backup_key() -> bytes:
    configured = os.environ.get("JIEDAO_BACKUP_KEY", "").strip()
    if configured:
        text = configured
    else:
        path = backup_key_file()
        if not path.exists():
            crypto.write_key_file(
                path,
                [crypto.generate_index_key()],
                header="# Jiedao backup key: keep a copy apart from the backups.\n",
                exclusive=True,
            )
        lines = [
            line.strip()
            for line in path.read_text(encoding="ascii").splitlines()
            if line.strip() and not line.startswith("#")
        ]
        if not lines:
            raise BackupError(f"备份密钥文件 {path} 是空的。")
        text = lines[0]
    try:
        key = base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        key = b""
    if len(key) != 32:
        raise BackupError("备份密钥应为 32 字节的 base64 文本（jiedao keys generate 可生成）。")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"jiedao backup key id" + key).hexdigest()[:16]


# --- the encrypted stream ----------------------------------------------------------------


def _cipher(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(key)
    return AESGCM(derived)


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def encrypt_file(source: Path, target, header: dict, key: bytes):
    """Write ``source`` encrypted into the open binary file ``target``."""
    salt, prefix = secrets.token_bytes(16), secrets.token_bytes(7)
    header = dict(
        header,
        salt=base64.b64encode(salt).decode(),
        nonce_prefix=base64.b64encode(prefix).decode(),
        key_id=key_id(key),
        chunk=CHUNK,
    )
    header_line = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    target.write(MAGIC + header_line + b"\n")
    cipher = _cipher(key, salt)
    with open(source, "rb") as plain:
        number, chunk = 0, plain.read(CHUNK)
        while True:
            following = plain.read(CHUNK)
            last = not following
            sealed = cipher.encrypt(_nonce(prefix, number, last), chunk, header_line)
            target.write(len(sealed).to_bytes(4, "big") + sealed)
            if last:
                break
            number, chunk = number + 1, following
    return header


def read_header(path) -> dict:
    with open(path, "rb") as handle:
        header, _line = _read_header(handle, path)
    return header


def _read_header(handle, path):
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupError(f"{path} 不是 Jiedao 备份文件。")
    line = handle.readline(1 << 20)
    try:
        header = json.loads(line)
    except ValueError:
        raise BackupError(f"{path} 的文件头已损坏。") from None
    return header, line.rstrip(b"\n")


def decrypt_file(path, target: Path, key: bytes) -> dict:
    """Decrypt the backup at ``path`` into the file ``target``; refuse anything not intact."""
    with open(path, "rb") as handle:
        header, header_line = _read_header(handle, path)
        if header.get("key_id") != key_id(key):
            raise BackupError(
                "这份备份不是用本机的备份密钥加密的：请把当初的 backup.key 放回密钥目录"
                "（或设置 JIEDAO_BACKUP_KEY）后再恢复。"
            )
        cipher = _cipher(key, base64.b64decode(header["salt"]))
        prefix = base64.b64decode(header["nonce_prefix"])
        number = 0
        create_private_file(target)  # the clear copy is the database itself: owner-only
        with open(target, "wb") as plain:
            while True:
                size_bytes = handle.read(4)
                if len(size_bytes) < 4:
                    raise BackupError(f"{path} 不完整（文件被截断），无法恢复。")
                sealed = handle.read(int.from_bytes(size_bytes, "big"))
                chunk, last = None, False
                for last in (False, True):
                    try:
                        chunk = cipher.decrypt(_nonce(prefix, number, last), sealed, header_line)
                        break
                    except InvalidTag:
                        continue
                if chunk is None:
                    raise BackupError(f"{path} 第 {number + 1} 段校验失败：文件已损坏或被改动，无法恢复。")
                plain.write(chunk)
                number += 1
                if last:
                    break
            if handle.read(1):
                raise BackupError(f"{path} 在结尾之后还有多余的数据：文件已被改动，无法恢复。")
    return header


# --- databases ---------------------------------------------------------------------------


@dataclass
class Target:
    """A database to back up or restore into, from Django's settings or a DATABASE_URL."""

    engine: str  # "sqlite" or "postgresql"
    settings: dict

    @classmethod
    def default(cls):
        return cls.from_settings(connection.settings_dict)

    @classmethod
    def from_url(cls, url):

        return cls.from_settings(dj_database_url.parse(url))

    @classmethod
    def from_settings(cls, settings_dict):
        engine = settings_dict["ENGINE"]
        if "sqlite" in engine or engine == "jiedao.common.sqlite":
            return cls("sqlite", dict(settings_dict))
        if "postgresql" in engine:
            return cls("postgresql", dict(settings_dict))
        raise BackupError(f"不支持的数据库：{engine}")

    def pg_env(self):
        env = dict(os.environ)
        s = self.settings
        for variable, key in (
            ("PGHOST", "HOST"),
            ("PGPORT", "PORT"),
            ("PGUSER", "USER"),
            ("PGPASSWORD", "PASSWORD"),
            ("PGDATABASE", "NAME"),
        ):
            if s.get(key):
                env[variable] = str(s[key])
        return env

    def pg_connect(self):

        s = self.settings
        return psycopg.connect(
            dbname=s["NAME"],
            user=s.get("USER") or None,
            password=s.get("PASSWORD") or None,
            host=s.get("HOST") or None,
            port=s.get("PORT") or None,
        )


def _sqlite_counts(db: sqlite3.Connection) -> dict:
    names = [
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return {name: db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}


def _pg_tables(cursor) -> list:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _pg_counts(cursor) -> dict:
    counts = {}
    for name in _pg_tables(cursor):
        cursor.execute(f'SELECT COUNT(*) FROM "{name}"')
        counts[name] = cursor.fetchone()[0]
    return counts


def _require(program):
    path = shutil.which(program)
    if not path:
        raise BackupError(
            f"找不到 {program}：请安装与数据库服务器同一版本的 PostgreSQL 客户端（Debian：postgresql-client）。"
        )
    return path


def _dump(target: Target, plain: Path) -> dict:
    """Copy the database into ``plain``; return the row count of every table in that copy."""
    if target.engine == "sqlite":
        name = str(target.settings["NAME"])
        if target.settings is connection.settings_dict or name == str(connection.settings_dict.get("NAME")):
            connection.ensure_connection()
            source = connection.connection  # the live connection: also right for an in-memory database
            close_source = False
        else:
            source = sqlite3.connect(name)
            close_source = True
        copy = sqlite3.connect(plain)
        try:
            source.backup(copy)
            return _sqlite_counts(copy)
        finally:
            copy.close()
            if close_source:
                source.close()
    # PostgreSQL: one snapshot for the counts and for pg_dump, so they agree under load.
    pg_dump = _require("pg_dump")
    with target.pg_connect() as db, db.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _pg_counts(cursor)
        result = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "--file",
                str(plain),
            ],
            env=target.pg_env(),
            capture_output=True,
            text=True,
        )
        cursor.execute("COMMIT")
    if result.returncode != 0:
        raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")
    return counts


def backup_directory() -> Path:
    return Path(settings.JIEDAO.get("BACKUP_DIR") or Path(settings.DATA_DIR) / "backups")


def list_backups(directory=None) -> list:
    """The backup files in ``directory``, newest first."""
    directory = Path(directory or backup_directory())
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"jiedao-*{SUFFIX}"), key=lambda p: p.name, reverse=True)


def take_backup(directory=None, target=None, now=None) -> tuple:
    """Write one encrypted backup into ``directory``; return (path, header).

    The file appears under its final name only when complete (written as ``.part``, synced,
    renamed)."""
    target = target or Target.default()
    directory = private_directory(directory or backup_directory())
    now = now or timezone.now()
    key = backup_key()
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
    final = directory / f"jiedao-{stamp}-{target.engine}{SUFFIX}"
    number = 1
    while final.exists():
        number += 1
        final = directory / f"jiedao-{stamp}-{number}-{target.engine}{SUFFIX}"
    with tempfile.TemporaryDirectory(prefix="jiedao-backup-", dir=directory) as work:
        plain = Path(work) / "copy"
        counts = _dump(target, plain)
        header = {
            "format": 1,
            "engine": target.engine,
            "created_at": now.isoformat(),
            "host": socket.gethostname(),
            "tables": counts,
            "rows": sum(counts.values()),
        }
        part = final.with_name(final.name + ".part")
        create_private_file(part)
        with open(part, "wb") as handle:
            header = encrypt_file(plain, handle, header, key)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(part, 0o600)
        os.replace(part, final)
    return final, header


def prune_backups(keep: int, directory=None) -> list:
    """Delete all but the ``keep`` newest backups; return the deleted paths."""
    if keep < 1:
        raise ValidationFailed("keep", "至少保留 1 份备份。")
    removed = []
    for path in list_backups(directory)[keep:]:
        path.unlink()
        removed.append(path)
    return removed


def _sqlite_in_memory(target: Target) -> bool:
    name = str(target.settings["NAME"])
    return name == ":memory:" or "mode=memory" in name


def _is_empty(target: Target) -> bool:
    if target.engine == "sqlite":
        if _sqlite_in_memory(target):
            name = str(target.settings["NAME"])
            with sqlite3.connect(name, uri=name.startswith("file:")) as db:
                return not _sqlite_counts(db)
        path = Path(str(target.settings["NAME"]))
        if not path.exists() or path.stat().st_size == 0:
            return True
        with sqlite3.connect(path) as db:
            return not _sqlite_counts(db)
    with target.pg_connect() as db, db.cursor() as cursor:
        return not _pg_tables(cursor)


def restore_backup(path, target=None, replace=False) -> dict:
    """Restore the backup at ``path`` into ``target`` (by default the configured database).

    The target must be empty unless ``replace`` is given. After the restore every table's
    row count is compared with the counts the backup recorded; returns
    ``{"header": ..., "tables": {name: rows}}``."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件 {path}。")
    target = target or Target.default()
    header = read_header(path)
    if header.get("engine") != target.engine:
        raise BackupError(f"这是 {header.get('engine')} 数据库的备份，不能恢复到 {target.engine} 数据库。")
    if not replace and not _is_empty(target):
        raise BackupError("目标数据库不是空的：确认要用备份覆盖它时，加上 --replace。")
    key = backup_key()
    if target.engine == "sqlite":
        if _sqlite_in_memory(target):
            raise BackupError("不能恢复到内存数据库：请用 --database-url 指定一个数据库文件。")
        destination = Path(str(target.settings["NAME"]))
        destination.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="jiedao-restore-", dir=destination.parent) as work:
            plain = Path(work) / "restored.sqlite3"
            decrypt_file(path, plain, key)
            with sqlite3.connect(plain) as db:
                if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise BackupError("备份中的数据库未通过完整性检查，没有恢复。")
                counts = _sqlite_counts(db)
            _check_counts(header, counts)
            for suffix in ("-wal", "-shm"):
                Path(str(destination) + suffix).unlink(missing_ok=True)
            os.replace(plain, destination)
        return {"header": header, "tables": counts}
    pg_restore = _require("pg_restore")
    with tempfile.TemporaryDirectory(prefix="jiedao-restore-") as work:
        plain = Path(work) / "dump"
        decrypt_file(path, plain, key)
        command = [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(target.settings["NAME"]),
        ]
        if replace:
            command += ["--clean", "--if-exists"]
        result = subprocess.run([*command, str(plain)], env=target.pg_env(), capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_restore 失败，目标数据库未改动：{result.stderr.strip()}")
    with target.pg_connect() as db, db.cursor() as cursor:
        counts = _pg_counts(cursor)
    _check_counts(header, counts)
    return {"header": header, "tables": counts}


def _check_counts(header, counts):
    expected = header.get("tables", {})
    wrong = {name: (rows, counts.get(name)) for name, rows in expected.items() if counts.get(name) != rows}
    if wrong:
        details = "；".join(f"{name}: 备份 {a} 行，恢复后 {b} 行" for name, (a, b) in sorted(wrong.items())[:5])
        raise BackupError(f"恢复后的行数与备份记录不一致：{details}")
