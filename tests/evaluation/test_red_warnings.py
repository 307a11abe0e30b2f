"""Red warnings: a case flagged 舆情 or 群体事件 while it is open, and a hot issue with at least
HOT_RED_THRESHOLD cases. Opened once by the sweep, the leaders told once, kept while it lasts,
recovered when the flag is taken off, the case closes, or the issue falls back."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.evaluation import services
from jiedao.evaluation.models import Warning
from jiedao.messaging.models import Notification
from tests.cases.lifecycle import HOUR, drive

pytestmark = pytest.mark.django_db


def told(user, kind="sensitive"):
    return list(Notification.objects.filter(user=user, kind=kind).values_list("message", flat=True))


def test_a_flagged_open_case_is_red_until_the_flag_is_taken_off(street, login):
    u = street.users
    now = timezone.now()
    case = drive(street, "in_progress", at=now - 5 * HOUR)
    case_services.flag(u.dispatcher, number=case.number, kind="opinion", note="微博转发较多", at=now - 4 * HOUR)
    services.check_surges(now)
    warning = Warning.objects.get(kind="sensitive")
    assert (warning.level, warning.status) == ("red", "active")
    assert case.number in warning.title and "舆情" in warning.title
    assert warning.detail == "微博转发较多"
    assert warning.url == f"/cases/{case.number}/"
    assert len(told(u.leader)) == 1 and case.number in told(u.leader)[0]
    assert told(u.dispatcher) == []  # the leaders are told, not everybody
    # The next sweeps keep the one warning and do not tell the leaders again.
    services.check_surges(now + HOUR)
    assert Warning.objects.filter(kind="sensitive").count() == 1 and len(told(u.leader)) == 1
    page = login(u.leader).get("/evaluation/warnings/").content.decode()
    assert f"{case.number}" in page
    case_services.flag(u.leader, number=case.number, kind="", note="经核实已平息", at=now + 2 * HOUR)
    services.check_surges(now + 3 * HOUR)
    warning.refresh_from_db()
    assert warning.status == "recovered" and warning.recovered_at == now + 3 * HOUR


def test_a_flagged_case_that_closes_recovers_and_a_new_flag_warns_again(street):
    u = street.users
    now = timezone.now()
    case = drive(street, "in_progress", at=now - 5 * HOUR)
    case_services.flag(u.dispatcher, number=case.number, kind="mass", note="二十余名居民聚集", at=now - 4 * HOUR)
    services.check_surges(now - 3 * HOUR)
    assert "群体事件" in Warning.objects.get(kind="sensitive").title
    case_services.resolve(u.handler_committee, number=case.number, result="已协调解决", at=now - 2 * HOUR)
    assert Warning.objects.get(kind="sensitive").status == "active"  # resolved, not closed yet
    case_services.rate(u.resident, number=case.number, resolved=True, satisfaction="satisfied", at=now - HOUR)
    result = services.check_surges(now)
    assert result["sensitive_recovered"] == 1
    assert Warning.objects.get(kind="sensitive").status == "recovered"
    other = drive(street, "dispatched", at=now - HOUR)
    case_services.flag(u.dispatcher, number=other.number, kind="opinion", note="媒体来电询问", at=now)
    assert services.check_surges(now + HOUR)["sensitive"] == 1
    assert Warning.objects.filter(kind="sensitive", status="active").get().title.endswith(other.number)
    assert len(told(u.leader)) == 2


TEXTS = [
    "东湖小区北门夜间施工噪音扰民，凌晨还在施工",
    "北门工地夜间施工噪音太大，凌晨睡不着",
    "东湖小区北门工地凌晨施工噪音扰民",
    "北门夜间施工噪音扰民，请管一管",
]


def test_a_hot_issue_reaching_the_threshold_turns_red_and_recovers_when_it_cools(street, settings):
    settings.JIEDAO = dict(settings.JIEDAO, HOT_RED_THRESHOLD=4)
    now = timezone.now()

    def report(i):
        case_services.submit_case(
            street.users.operator,
            channel="12345",
            description=TEXTS[i % len(TEXTS)],
            reporter_phone=f"1380000000{i}",
            grid_code=street.grids[0].code,
            category_code="010101",
            at=now - dt.timedelta(hours=i + 1),
        )

    for i in range(3):
        report(i)
    services.check_surges(now)
    assert not Warning.objects.filter(kind="hot_large").exists()  # 3 cases, below 4
    report(3)
    assert services.check_surges(now)["hot_red"] == 1
    warning = Warning.objects.get(kind="hot_large")
    assert (warning.level, warning.value, warning.baseline) == ("red", 4, 4)
    assert "4 件" in warning.detail
    assert len(told(street.users.leader)) == 1
    assert services.check_surges(now + HOUR).get("hot_red", 0) == 0  # the same issue: no second warning
    # A week later the reports are no longer hot.
    assert services.check_surges(now + dt.timedelta(days=8))["hot_red_recovered"] == 1
    warning.refresh_from_db()
    assert warning.status == "recovered"
