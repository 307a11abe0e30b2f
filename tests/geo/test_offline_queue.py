"""What the phone's offline queue sends (docs/mobile.md): a patrol check-in, a grid report and a
verification, each with the key the phone made. The same key sent twice is recorded once and
answered the same; a check-in carries the time it was taken; a refusal answers the field and
the rule in Chinese."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from jiedao.cases.models import Case, CaseEvent, Status
from jiedao.common.models import IdempotencyKey
from jiedao.geo import services
from jiedao.geo.models import PatrolCheckIn
from tests.geo.test_grid_worker import IN_G11, _case_to_verify
from tests.uploads import png_bytes, upload

QUEUE = {"HTTP_X_OFFLINE_QUEUE": "1"}


def sent(client, url, data, key):
    return client.post(url, data, **QUEUE, HTTP_IDEMPOTENCY_KEY=key)


def test_a_check_in_sent_twice_is_recorded_once_at_the_time_it_was_taken(street, login):
    client = login(street.users.grid)
    taken = (timezone.now() - dt.timedelta(minutes=40)).replace(microsecond=0)
    data = {"kind": "start", "taken_at": taken.isoformat(), **IN_G11}
    first = sent(client, reverse("geo:patrol"), data, "2f1c7a3e-0000-4000-8000-000000000001")
    again = sent(client, reverse("geo:patrol"), data, "2f1c7a3e-0000-4000-8000-000000000001")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["ok"] is True and "已开始巡查" in first.json()["message"]
    checkin = PatrolCheckIn.objects.get()
    assert checkin.at == taken
    # A second start under a new key is a new request, refused as the page refuses it.
    other = sent(client, reverse("geo:patrol"), data, "2f1c7a3e-0000-4000-8000-000000000002")
    assert other.status_code == 409 and "请先结束本次巡查" in other.json()["message"]
    assert PatrolCheckIn.objects.count() == 1


def test_the_service_answers_the_first_check_in_for_a_key_it_has_seen(street):
    worker = street.users.grid
    first = services.check_in(worker, kind="start", lat=39.905, lng=116.405, idempotency_key="k-1")
    again = services.check_in(worker, kind="start", lat=39.905, lng=116.405, idempotency_key="k-1")
    assert again.pk == first.pk and PatrolCheckIn.objects.count() == 1


def test_a_check_in_time_from_the_phone_is_checked(street, login):
    client = login(street.users.grid)
    url = reverse("geo:patrol")
    future = sent(
        client, url, {"kind": "start", "taken_at": (timezone.now() + dt.timedelta(hours=2)).isoformat(), **IN_G11}, "a"
    )
    assert future.status_code == 422 and "打卡时间：打卡时间晚于现在" in future.json()["message"]
    old = sent(
        client, url, {"kind": "start", "taken_at": (timezone.now() - dt.timedelta(days=5)).isoformat(), **IN_G11}, "b"
    )
    assert old.status_code == 422 and "已不能补录" in old.json()["message"]
    garbled = sent(client, url, {"kind": "start", "taken_at": "昨天下午", **IN_G11}, "c")
    assert garbled.status_code == 422 and "打卡时间格式无效" in garbled.json()["message"]
    assert not PatrolCheckIn.objects.exists() and not IdempotencyKey.objects.exists()


def test_a_grid_report_sent_twice_makes_one_case(street, login):
    client = login(street.users.grid)
    url = reverse("cases:grid_report")
    data = {"description": "小区门口的路灯不亮了", **IN_G11}
    first = sent(client, url, data, "report-1")
    again = sent(client, url, data, "report-1")
    assert first.json() == again.json() and first.json()["ok"] is True
    case = Case.objects.get(description="小区门口的路灯不亮了")
    assert case.number in first.json()["message"]
    refused = sent(client, url, {"description": "", **IN_G11}, "report-2")
    assert refused.status_code == 422 and refused.json()["ok"] is False
    assert refused.json()["message"].startswith("发现的问题：")
    too_long = sent(client, url, data, "x" * 201)
    assert too_long.status_code == 422 and "Idempotency-Key 不能超过200个字符" in too_long.json()["message"]
    assert Case.objects.filter(description="小区门口的路灯不亮了").count() == 1


def test_a_verification_sent_twice_is_taken_once(street, login):
    case = _case_to_verify(street, lat=39.905, lng=116.405)
    client = login(street.users.grid)
    url = reverse("cases:action", args=[case.number, "verify_pass"])

    def data():
        return {"photos": upload(png_bytes(), "check.png", "image/png"), **IN_G11}

    first = sent(client, url, data(), "verify-1")
    again = sent(client, url, data(), "verify-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and "已核查通过" in first.json()["message"]
    case.refresh_from_db()
    assert case.status == Status.RATING
    assert CaseEvent.objects.filter(case=case, action="verify_pass").count() == 1
    assert case.photos.count() == 1
    # A new key on a case already verified: refused with the reason, nothing changes.
    late = sent(client, url, data(), "verify-2")
    assert late.status_code == 409 and late.json()["ok"] is False and case.number in late.json()["message"]
    assert CaseEvent.objects.filter(case=case, action="verify_pass").count() == 1
