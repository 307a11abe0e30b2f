"""Warnings of every colour: the blue warnings (系统故障) — a stalled worker, failed or old
backups, a full disk, silent sensors, failed message sends — each opened once with the
administrators told once, kept up to date while the fault lasts and recovered when it is gone;
and the yellow surge of a service item's applications, with the item's unit told."""

import datetime as dt
import shutil

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from jiedao.emergency import services as emergency
from jiedao.evaluation import services
from jiedao.evaluation.models import Warning
from jiedao.hall import services as hall_services
from jiedao.messaging.models import Notification
from jiedao.ops import services as ops_services
from jiedao.ops import tasks as ops_tasks
from tests.emergency.conftest import devices, minutes, reading, rule  # noqa: F401 (the devices fixture)
from tests.hall.conftest import hall, materials  # noqa: F401 (the hall fixture)

pytestmark = pytest.mark.django_db


def blue(key):
    return Warning.objects.filter(kind=Warning.Kind.SYSTEM, key=key)


def told(street, key_words):
    """System notifications to the administrator whose message names ``key_words``."""
    return Notification.objects.filter(kind="system", user=street.users.admin, message__contains=key_words).count()


def test_a_stalled_worker_turns_blue_once_and_recovers_when_it_beats_again(street, settings):
    settings.JIEDAO = {**settings.JIEDAO, "WORKER_LATE_SECONDS": 180}
    start = timezone.now()
    services.check_surges(now=start)
    assert not blue("system:worker").exists()  # never seen: not stalled (jiedao check says so)

    ops_services.beat(now=start)
    services.check_surges(now=start + dt.timedelta(seconds=170))
    assert not blue("system:worker").exists()  # 170 s: in time

    services.check_surges(now=start + dt.timedelta(seconds=200))
    warning = blue("system:worker").get()
    assert (warning.level, warning.status) == (Warning.Level.BLUE, Warning.Status.ACTIVE)
    assert "3 分钟没有心跳" in warning.detail and warning.get_kind_display() == "系统故障"
    assert told(street, "后台任务停滞") == 1

    services.check_surges(now=start + dt.timedelta(seconds=460))  # still stalled: updated, not told again
    warning.refresh_from_db()
    assert "7 分钟没有心跳" in warning.detail and told(street, "后台任务停滞") == 1

    ops_services.beat(now=start + dt.timedelta(seconds=470))
    services.check_surges(now=start + dt.timedelta(seconds=480))
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RECOVERED
    # A new stall is a new opening, told again.
    services.check_surges(now=start + dt.timedelta(seconds=470 + 181))
    assert blue("system:worker").filter(status=Warning.Status.ACTIVE).count() == 1
    assert told(street, "后台任务停滞") == 2


@pytest.fixture
def backups(settings, tmp_path, monkeypatch):
    settings.KEY_DIR = tmp_path / "keys"
    monkeypatch.delenv("JIEDAO_BACKUP_KEY", raising=False)
    settings.JIEDAO = {**settings.JIEDAO, "BACKUP_DIR": str(tmp_path / "backups"), "BACKUP_EVERY_HOURS": 6}
    return tmp_path / "backups"


@pytest.mark.django_db(transaction=True)  # a backup reads the database from its own connection
def test_no_backup_then_an_old_one_turns_blue_and_a_fresh_one_recovers(street, backups, settings):
    now = timezone.now()
    services.check_surges(now=now)
    warning = blue("system:backup").get()
    assert warning.detail == "还没有任何备份。" and told(street, "备份失败或过期") == 1

    ops_services.take_scheduled_backup(now=now)
    services.check_surges(now=now + dt.timedelta(minutes=1))
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RECOVERED

    # Scheduled every 6 hours: a backup 25 hours old is more than a day old.
    services.check_surges(now=now + dt.timedelta(hours=25))
    late = blue("system:backup").get(status=Warning.Status.ACTIVE)
    assert "25 小时前" in late.detail and "超过 24 小时" in late.detail
    assert told(street, "备份失败或过期") == 2

    # Backups scheduled off: nothing is expected, nothing is lit.
    settings.JIEDAO = {**settings.JIEDAO, "BACKUP_EVERY_HOURS": 0}
    services.check_surges(now=now + dt.timedelta(hours=26))
    late.refresh_from_db()
    assert late.status == Warning.Status.RECOVERED


@pytest.mark.django_db(transaction=True)
def test_a_failed_scheduled_backup_turns_blue_until_one_succeeds(street, backups, settings, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    settings.JIEDAO = {**settings.JIEDAO, "BACKUP_DIR": str(blocked)}
    assert ops_tasks.enqueue_backup_if_due() is not None
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    services.check_surges(now=timezone.now())
    warning = blue("system:backup").get()
    assert warning.detail == "最近一次自动备份失败。" and told(street, "备份失败或过期") == 1

    settings.JIEDAO = {**settings.JIEDAO, "BACKUP_DIR": str(backups)}
    assert ops_tasks.enqueue_backup_if_due(timezone.now() + dt.timedelta(hours=7)) is not None
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    services.check_surges(now=timezone.now())
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RECOVERED


def test_a_disk_below_the_free_minimum_turns_blue_with_its_free_space(street, settings):
    free = shutil.disk_usage(django_settings.DATA_DIR).free
    settings.JIEDAO = {**settings.JIEDAO, "DISK_MIN_FREE_BYTES": free * 4}
    now = timezone.now()
    services.check_surges(now=now)
    warning = blue("system:disk").get()
    assert warning.value == pytest.approx(free / (1 << 30), abs=0.05)
    assert f"{free * 4 / (1 << 30):.2f} GB" in warning.detail
    assert told(street, "磁盘空间不足") == 1

    settings.JIEDAO = {**settings.JIEDAO, "DISK_MIN_FREE_BYTES": 1}
    services.check_surges(now=now + dt.timedelta(minutes=1))
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RECOVERED


def test_a_silent_sensor_raised_by_the_emergency_rule_turns_blue_until_it_reports(street, devices):  # noqa: F811
    rule("离线", "water_quality", "silence", threshold=60, level="blue")
    probe = devices["WQ-01"]
    start = timezone.now()
    emergency.ingest([reading(probe, start, 7.0, "ph")], now=start)
    emergency.sweep_sensors(start + minutes(30))
    services.check_surges(now=start + minutes(31))
    assert not blue("system:devices").exists()  # 30 minutes: not silent by the rule's 60

    emergency.sweep_sensors(start + minutes(61))
    services.check_surges(now=start + minutes(62))
    warning = blue("system:devices").get()
    assert warning.value == 1 and "设备WQ-01" in warning.detail and warning.url == "/emergency/devices/"
    assert told(street, "感知设备离线") == 1

    emergency.ingest([reading(probe, start + minutes(70), 7.1, "ph")], now=start + minutes(70))
    services.check_surges(now=start + minutes(71))
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RECOVERED and told(street, "感知设备离线") == 1


def test_each_fault_has_its_own_warning_and_failed_sends_keep_theirs(street, settings):
    settings.JIEDAO = {**settings.JIEDAO, "DISK_MIN_FREE_BYTES": 1 << 62}
    now = timezone.now()
    ops_services.beat(now=now - dt.timedelta(hours=1))
    services.check_surges(now=now)
    active = set(
        Warning.objects.filter(kind=Warning.Kind.SYSTEM, status=Warning.Status.ACTIVE).values_list("key", flat=True)
    )
    assert active == {"system:worker", "system:disk"}
    assert Notification.objects.filter(kind="system", user=street.users.admin).count() == 2
    assert not Notification.objects.filter(kind="system").exclude(user=street.users.admin).exists()


STRANGER = {"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"}


def apply(hall, at, n):  # noqa: F811
    for _i in range(n):
        hall_services.accept_at_window(
            hall["street"].users.operator,
            item_code=hall["elderly"].code,
            applicant=STRANGER,
            materials=materials(hall["elderly"]),
            now=at,
        )


def test_a_service_items_applications_surging_turn_yellow_and_tell_its_unit(hall, street):  # noqa: F811
    now = dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC)
    day = dt.timedelta(days=1)
    # The 4 weeks before the last 7 days: 8 applications, 2 a week on average.
    for back in (8, 12, 15, 19, 22, 26, 29, 33):
        apply(hall, now - back * day, 1)
    # The last 7 days: 5 — at least SURGE_MIN_CASES (5) but below 3 × 2 = 6: no warning.
    apply(hall, now - 2 * day, 5)
    services.check_surges(now=now)
    assert not Warning.objects.filter(key__startswith="hall:").exists()

    apply(hall, now - day, 1)  # 6 = 3 × 2: a surge
    services.check_surges(now=now)
    warning = Warning.objects.get(key=f"hall:{hall['elderly'].code}")
    assert (warning.kind, warning.level, warning.value, warning.baseline) == ("surge", "yellow", 6, 2)
    assert warning.title == "一窗受理“老年人优待证办理”申请激增"
    assert warning.get_kind_display() == "数量激增"
    assert (warning.scope_kind, warning.scope_code) == ("street", street.street.code)
    unit_told = Notification.objects.filter(kind="surge", unit=street.units.service)
    assert unit_told.count() == 1 and "近7天 6 件申请" in unit_told.get().message

    apply(hall, now - day, 1)
    services.check_surges(now=now + dt.timedelta(minutes=15))
    warning.refresh_from_db()
    assert warning.value == 7 and unit_told.count() == 1  # updated, told once

    # A week later the 7 recent days hold none of them: recovered.
    services.check_surges(now=now + 7 * day)
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RECOVERED
