"""jiedao backup / jiedao restore: an encrypted copy that restores every row, and refuses damaged files."""

import sqlite3
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jiedao.ops import backup, services, tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _keys_in_tmp(settings, tmp_path, monkeypatch):
    settings.KEY_DIR = tmp_path / "keys"
    monkeypatch.delenv("JIEDAO_BACKUP_KEY", raising=False)


def _rows_sqlite(db, table):
    return sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)


def _rows_pg(cursor, table):
    cursor.execute(f'SELECT * FROM "{table}"')
    return sorted(cursor.fetchall(), key=repr)


@pytest.fixture
def empty_target(tmp_path):
    """An empty database of the same kind as the one under test."""
    if connection.vendor == "sqlite":
        yield backup.Target.from_url(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
        return
    name = f"jiedao_restore_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    target = backup.Target.from_settings(dict(connection.settings_dict, NAME=name))
    yield target
    connection.close()
    import psycopg

    source = backup.Target.default()
    with psycopg.connect(
        dbname="postgres",
        user=source.settings.get("USER") or None,
        host=source.settings.get("HOST") or None,
        port=source.settings.get("PORT") or None,
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _compare_every_table(target):
    """Every table of the live database and of the restored one hold the same rows."""
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])  # a plain connection: no type converters
        live = sqlite3.connect(name, uri=name.startswith("file:"))
        restored = sqlite3.connect(str(target.settings["NAME"]))
        tables = [
            r[0] for r in live.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        ]
        for table in tables:
            assert _rows_sqlite(restored, table) == _rows_sqlite(live, table), table
        restored.close()
        live.close()
        return tables
    with backup.Target.default().pg_connect() as live_db, target.pg_connect() as restored_db:
        live, restored = live_db.cursor(), restored_db.cursor()
        tables = backup._pg_tables(live)
        assert backup._pg_tables(restored) == tables
        for table in tables:
            assert _rows_pg(restored, table) == _rows_pg(live, table), table
        return tables


def test_a_backup_restores_into_an_empty_database_with_every_row_of_every_table(
    street, make_case, tmp_path, empty_target, capsys
):
    make_case(description="楼道灯坏了，晚上看不见")
    make_case(description="小区门口垃圾满了")
    call_command("backup", "--out", str(tmp_path / "b"))
    printed = capsys.readouterr().out.strip().splitlines()
    path = tmp_path / "b" / printed[-1].split("/")[-1]
    assert path.exists() and path.suffix == ".jdbk"
    assert "已备份" in printed[0]
    # The file does not show the data in clear: a reporter's words are not in it.
    assert "楼道灯坏了".encode() not in path.read_bytes()
    header = backup.read_header(path)
    assert header["tables"]["cases_case"] == 2

    result = backup.restore_backup(path, empty_target)
    tables = _compare_every_table(empty_target)
    assert "cases_case" in tables and "cases_caseevent" in tables and len(tables) > 30
    assert result["tables"]["cases_case"] == 2


def test_restore_refuses_a_target_that_has_data_unless_told_to_replace(street, tmp_path):
    path, _header = backup.take_backup(tmp_path)
    with pytest.raises(backup.BackupError, match="不是空的"):
        backup.restore_backup(path, backup.Target.default())


def test_a_damaged_truncated_or_foreign_backup_is_refused_before_anything_is_written(
    street, tmp_path, empty_target, settings
):
    path, _header = backup.take_backup(tmp_path)
    data = path.read_bytes()

    flipped = tmp_path / "flipped.jdbk"
    middle = len(data) - 100
    flipped.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :])
    with pytest.raises(backup.BackupError, match="校验失败"):
        backup.restore_backup(flipped, empty_target)

    cut = tmp_path / "cut.jdbk"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(backup.BackupError, match=r"截断|校验失败"):
        backup.restore_backup(cut, empty_target)

    settings.KEY_DIR = tmp_path / "other-keys"  # another installation's key
    with pytest.raises(backup.BackupError, match=r"backup\.key"):
        backup.restore_backup(path, empty_target)
    if empty_target.engine == "sqlite":
        assert not (tmp_path / "restored.sqlite3").exists()


def test_the_restore_command_reports_the_checked_tables(street, tmp_path, empty_target, capsys):
    path, header = backup.take_backup(tmp_path)
    url = (
        f"sqlite:///{empty_target.settings['NAME']}"
        if empty_target.engine == "sqlite"
        else "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**empty_target.settings)
    )
    call_command("restore", str(path), "--database-url", url)
    assert f"已恢复 {len(header['tables'])} 张表、{header['rows']} 行" in capsys.readouterr().out
    with pytest.raises(CommandError, match="找不到备份文件"):
        call_command("restore", str(tmp_path / "missing.jdbk"), "--database-url", url)


def test_keep_deletes_all_but_the_newest_backups(street, tmp_path, capsys):
    for _ in range(3):
        backup.take_backup(tmp_path)
    call_command("backup", "--out", str(tmp_path), "--keep", "2")
    names = [p.name for p in backup.list_backups(tmp_path)]
    assert len(names) == 2
    assert "已删除旧备份" in capsys.readouterr().out
    call_command("backup", "--out", str(tmp_path), "--list")
    listed = capsys.readouterr().out
    assert all(name in listed for name in names)


def test_the_worker_queues_a_backup_only_when_one_is_due(street, tmp_path, settings):
    settings.JIEDAO = dict(settings.JIEDAO, BACKUP_DIR=str(tmp_path), BACKUP_EVERY_HOURS=0, BACKUP_KEEP=2)
    assert tasks.enqueue_backup_if_due() is None  # scheduled backups off
    settings.JIEDAO = dict(settings.JIEDAO, BACKUP_EVERY_HOURS=24)
    assert tasks.enqueue_backup_if_due() is not None
    assert tasks.enqueue_backup_if_due() is None  # already queued
    for _ in range(3):
        result = services.take_scheduled_backup()
    assert len(backup.list_backups(tmp_path)) == 2 and len(result["removed"]) == 1
