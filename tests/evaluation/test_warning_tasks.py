"""Every warning opens a rectification task (整改指令) for someone: a flagged emergency (red)
for its lead unit, a system fault (blue) for the unit answering for the installation, a surge
(yellow) for the community's committee; the unit is told; when the warning recovers the task's
timeline says so, once. And an emergency flagged 舆情 or 群体事件 turns red like a case."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.emergency import services as emergency_services
from jiedao.emergency.models import EmergencyEvent
from jiedao.evaluation import services
from jiedao.evaluation.models import Rectification, Warning
from jiedao.messaging.models import Notification
from jiedao.ops import services as ops_services
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def report(street, at, lead=""):
    return emergency_services.report_emergency(
        street.users.dispatcher,
        title="东湖路聚集",
        kind="safety",
        level="4",
        lat=39.905,
        lng=116.405,
        lead_unit_code=lead,
        at=at,
    )


def test_a_flagged_emergency_is_red_with_a_task_for_its_lead_unit_until_it_is_over(street):
    u = street.users
    now = timezone.now()
    emergency = report(street, now - 3 * HOUR, lead=street.units.enforcement.code)
    emergency_services.flag(u.leader, number=emergency.number, kind="mass", note="三十余人聚集", at=now - 2 * HOUR)
    event = EmergencyEvent.objects.filter(emergency=emergency, action="flag").get()
    assert (event.actor, event.note, event.data) == (u.leader, "三十余人聚集", {"from": "", "to": "mass"})

    services.check_surges(now)
    warning = Warning.objects.get(kind="sensitive")
    assert (warning.level, warning.status) == ("red", "active")
    assert emergency.number in warning.title and "群体事件" in warning.title
    assert warning.url == f"/emergency/{emergency.number}/" and warning.detail == "三十余人聚集"
    leader_told = Notification.objects.filter(kind="sensitive", user=u.leader)
    assert leader_told.count() == 1 and emergency.number in leader_told.get().message
    task = Rectification.objects.get(warning=warning)
    assert task.unit == street.units.enforcement and task.status == "issued"
    unit_told = Notification.objects.filter(kind="rectification", unit=street.units.enforcement)
    assert unit_told.filter(message__contains=task.number).count() == 1

    services.check_surges(now + HOUR)  # nothing new: one warning, one task, told once
    assert Warning.objects.filter(kind="sensitive").count() == 1 and Rectification.objects.count() == 1
    assert leader_told.count() == 1

    emergency_services.transition(u.dispatcher, number=emergency.number, action="cancel", note="误报，已散去")
    services.check_surges(now + 2 * HOUR)
    warning.refresh_from_db()
    assert warning.status == "recovered"
    assert list(task.events.values_list("action", flat=True)) == ["issue", "recover"]
    services.check_surges(now + 3 * HOUR)
    assert task.events.filter(action="recover").count() == 1  # said once

    # Without a lead unit the task goes to the committee of the emergency's community.
    other = report(street, now)
    emergency_services.flag(u.dispatcher, number=other.number, kind="opinion", note="网上转发", at=now)
    services.check_surges(now + 4 * HOUR)
    assert Rectification.objects.get(warning__key__endswith=other.number).unit == street.units.committee1


def test_flagging_an_emergency_is_checked_field_by_field(street, client):
    u = street.users
    emergency = report(street, timezone.now() - HOUR)
    with pytest.raises(NotAllowed):
        emergency_services.flag(u.handler, number=emergency.number, kind="opinion", note="转发较多")
    with pytest.raises(ValidationFailed) as caught:
        emergency_services.flag(u.dispatcher, number=emergency.number, kind="rumour", note="")
    assert {e["field"] for e in caught.value.errors} == {"kind", "note"}
    with pytest.raises(ValidationFailed) as caught:
        emergency_services.flag(u.dispatcher, number=emergency.number, kind="", note="取消")
    assert "没有舆情或群体事件标记" in caught.value.errors[0]["message"]
    assert not EmergencyEvent.objects.filter(action="flag").exists()

    client.login(username=u.dispatcher.username, password=PASSWORD)
    page = client.get(f"/emergency/{emergency.number}/").content.decode()
    assert 'id="flag"' in page and "群体事件" in page
    answer = client.post(
        f"/emergency/{emergency.number}/flag/", {"kind": "opinion", "note": "网上转发较多"}, follow=True
    )
    text = answer.content.decode()
    assert answer.status_code == 200 and "已标记为“舆情”" in text
    emergency.refresh_from_db()
    assert emergency.sensitive == "opinion"
    assert "data-flag>舆情</span>" in client.get(f"/emergency/{emergency.number}/").content.decode()
    client.login(username=u.handler.username, password=PASSWORD)
    assert 'id="flag"' not in client.get(f"/emergency/{emergency.number}/").content.decode()


def test_a_system_fault_opens_a_task_for_the_unit_answering_for_the_installation(street, settings):
    settings.JIEDAO = {**settings.JIEDAO, "WORKER_LATE_SECONDS": 180, "SYSTEM_UNIT": street.units.housing.code}
    start = timezone.now()
    ops_services.beat(now=start)
    services.check_surges(now=start + dt.timedelta(seconds=200))
    warning = Warning.objects.get(key="system:worker")
    task = Rectification.objects.get(warning=warning)
    assert task.unit == street.units.housing and task.title == warning.title
    assert "排除系统故障" in task.requirement

    settings.JIEDAO = {**settings.JIEDAO, "SYSTEM_UNIT": ""}
    ops_services.beat(now=start + dt.timedelta(seconds=300))
    services.check_surges(now=start + dt.timedelta(seconds=310))
    services.check_surges(now=start + dt.timedelta(seconds=300 + 200))  # stalled again: a new opening
    second = Rectification.objects.exclude(pk=task.pk).get()
    assert second.unit == street.street.default_unit  # no unit named: the street's default unit
    assert list(task.events.values_list("action", flat=True)) == ["issue", "recover"]
