"""The grid worker on site: verification (核查) needs a photo and the phone's position near the
case, or a written reason; small matters fixed on the spot are closed at once (已自行处置) and
count as 小事不出网格; patrol points come from the phone, never typed."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from jiedao.cases import grid_measures, measures, selectors, services
from jiedao.cases.models import Case, CaseEvent, CasePhoto, Outcome, Status
from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.evaluation import indicators, periods
from jiedao.geo.models import PatrolCheckIn
from tests.cases.lifecycle import HOUR, LAMPS, drive, snapshot
from tests.factories import WEDNESDAY
from tests.uploads import png_bytes, upload

pytestmark = pytest.mark.django_db

# The cases of tests.cases.lifecycle lie at 39.905, 116.405 (东湖社区 第一网格). One thousandth
# of a degree of latitude is 6,371 km × π / 180 / 1000 = 111.2 m: 0.0009° north is 100 m away,
# 0.0027° is 300 m away (the default limit is 200 m).
CASE_AT = (39.905, 116.405)
NEAR = (39.9059, 116.405)  # 100 m north
FAR = (39.9077, 116.405)  # 300 m north


def photo(name="site.png"):
    return upload(png_bytes(), name, content_type="image/png")


def fields(error):
    return [e["field"] for e in error.errors]


def last_event(case):
    return CaseEvent.objects.filter(case=case).order_by("-seq").first()


@pytest.fixture
def to_verify(street):
    """A street-lamp case resolved by the enforcement team, waiting for 核查 in grid g11."""
    return drive(street, "verifying", category=LAMPS)


# --- 核查 verification ----------------------------------------------------------------------------


def test_a_photo_and_the_position_near_the_case_pass_the_check(street, to_verify):
    case = services.verify(
        street.users.grid, number=to_verify.number, passed=True, lat=NEAR[0], lng=NEAR[1], photos=[photo()]
    )
    assert case.status == Status.RATING
    event = last_event(case)
    assert event.action == "verify_pass"
    assert event.data == {
        "photos": 1,
        "lat": NEAR[0],
        "lng": NEAR[1],
        "distance_m": 100,
        "on_site": True,
        "reason": "",
    }
    assert CasePhoto.objects.filter(case=case, kind=CasePhoto.Kind.VERIFY).count() == 1


def test_too_far_without_a_reason_is_refused_and_nothing_is_written(street, to_verify):
    before = snapshot(to_verify.number)
    with pytest.raises(ValidationFailed) as refused:
        services.verify(
            street.users.grid, number=to_verify.number, passed=True, lat=FAR[0], lng=FAR[1], photos=[photo()]
        )
    assert fields(refused.value) == ["reason"]
    message = refused.value.errors[0]["message"]
    assert "约 300 米" in message and "超过 200 米" in message and "请写明理由" in message
    assert snapshot(to_verify.number) == before
    assert not CasePhoto.objects.filter(case=to_verify, kind=CasePhoto.Kind.VERIFY).exists()


def test_too_far_with_a_reason_passes_and_the_event_says_why(street, to_verify):
    reason = "居民在小区门口等，路灯在路口另一侧，已隔街拍照"
    case = services.verify(
        street.users.grid,
        number=to_verify.number,
        passed=True,
        lat=FAR[0],
        lng=FAR[1],
        photos=[photo()],
        reason=reason,
    )
    assert case.status == Status.RATING
    data = last_event(case).data
    assert (data["distance_m"], data["on_site"], data["reason"], data["photos"]) == (300, False, reason, 1)


@pytest.mark.parametrize(
    "with_photo,with_position,told", [(False, True, "没有核查照片"), (True, False, "没有手机定位")]
)
def test_a_missing_photo_or_position_needs_a_reason(street, to_verify, with_photo, with_position, told):
    kwargs = {"photos": [photo()] if with_photo else [], "lat": None, "lng": None}
    if with_position:
        kwargs.update(lat=NEAR[0], lng=NEAR[1])
    with pytest.raises(ValidationFailed) as refused:
        services.verify(street.users.grid, number=to_verify.number, passed=True, **kwargs)
    assert fields(refused.value) == ["reason"] and told in refused.value.errors[0]["message"]
    case = services.verify(street.users.grid, number=to_verify.number, passed=True, reason="手机没有信号", **kwargs)
    assert case.status == Status.RATING and last_event(case).data["on_site"] is False


def test_the_distance_is_a_setting(street, to_verify, settings):
    settings.JIEDAO = dict(settings.JIEDAO, VERIFY_DISTANCE_M=50)
    with pytest.raises(ValidationFailed) as refused:
        services.verify(
            street.users.grid, number=to_verify.number, passed=True, lat=NEAR[0], lng=NEAR[1], photos=[photo()]
        )
    assert "约 100 米，超过 50 米" in refused.value.errors[0]["message"]


def test_a_case_without_a_position_cannot_be_checked_by_distance(street):
    u = street.users
    case, _ = services.submit_case(
        u.operator, channel="12345", description="路灯不亮", reporter_phone="13700137000", grid_code="1101050010101"
    )
    services.classify(u.dispatcher, number=case.number, category_code=LAMPS)
    services.dispatch(u.dispatcher, number=case.number)
    services.respond(u.handler, number=case.number)
    services.resolve(u.handler, number=case.number, result="已更换灯泡")
    with pytest.raises(ValidationFailed) as refused:
        services.verify(u.grid, number=case.number, passed=True, lat=NEAR[0], lng=NEAR[1], photos=[photo()])
    assert fields(refused.value) == ["reason"] and "工单没有位置" in refused.value.errors[0]["message"]


def test_the_dispatcher_verifies_from_the_office_with_a_reason(street, to_verify):
    dispatcher = street.users.dispatcher
    with pytest.raises(ValidationFailed) as refused:
        services.verify(dispatcher, number=to_verify.number, passed=True)
    assert fields(refused.value) == ["reason"]
    case = services.verify(dispatcher, number=to_verify.number, passed=True, reason="已电话回访居民，确认路灯已亮")
    assert case.status == Status.RATING
    data = last_event(case).data
    assert data == {
        "photos": 0,
        "lat": None,
        "lng": None,
        "distance_m": None,
        "on_site": False,
        "reason": "已电话回访居民，确认路灯已亮",
    }


def test_a_failed_check_also_needs_the_photo_and_position_or_a_reason(street, to_verify):
    grid = street.users.grid
    with pytest.raises(ValidationFailed) as refused:
        services.verify(grid, number=to_verify.number, passed=False)
    assert fields(refused.value) == ["note", "reason"]
    case = services.verify(
        grid, number=to_verify.number, passed=False, note="灯还是不亮", lat=NEAR[0], lng=NEAR[1], photos=[photo()]
    )
    assert case.status == Status.IN_PROGRESS and last_event(case).data["on_site"] is True


def test_bad_position_and_photo_are_refused_field_by_field(street, to_verify):
    before = snapshot(to_verify.number)
    not_an_image = upload(b"this is not a picture", "x.png", content_type="image/png")
    with pytest.raises(ValidationFailed) as refused:
        services.verify(street.users.grid, number=to_verify.number, passed=True, lat=95, lng=200, photos=[not_an_image])
    errors = {e["field"]: e["message"] for e in refused.value.errors}
    assert set(errors) == {"lat", "lng", "photos"}
    assert "纬度必须在 -90 到 90 之间" in errors["lat"] and "经度必须在 -180 到 180 之间" in errors["lng"]
    assert "图片" in errors["photos"] or "照片" in errors["photos"]
    assert snapshot(to_verify.number) == before


def test_the_case_page_offers_photo_position_and_reason_and_keeps_what_was_recorded(street, to_verify, login):
    client = login(street.users.grid)
    page = client.get(reverse("cases:case", args=[to_verify.number])).content.decode()
    form = page[page.index('id="action-verify_pass"') :]
    form = form[: form.index("</form>")]
    assert 'name="photos"' in form and "data-locate" in form and 'name="reason"' in form
    assert re.search(r'<input type="hidden" name="lat"', form)
    url = reverse("cases:action", args=[to_verify.number, "verify_pass"])
    refused = client.post(url, {"lat": str(FAR[0]), "lng": str(FAR[1]), "photos": photo()})
    assert refused.status_code == 422 and "超过 200 米" in refused.content.decode()
    done = client.post(url, {"lat": str(NEAR[0]), "lng": str(NEAR[1]), "photos": photo()}, follow=True)
    page = done.content.decode()
    assert 'data-verification="on_site"' in page and "约 100 米" in page and "核查照片" in page


# --- 已自行处置: small matters fixed on the spot -------------------------------------------------


def test_a_small_matter_fixed_on_the_spot_is_registered_closed(street, login):
    client = login(street.users.grid)
    response = client.post(
        reverse("cases:grid_report"),
        {
            "description": "共享单车倒在盲道上",
            "lat": str(CASE_AT[0]),
            "lng": str(CASE_AT[1]),
            "outcome": Outcome.SELF_RESOLVED,
            "answer": "已扶正并移到停放区",
            "photos": photo("done.png"),
        },
        follow=True,
    )
    assert "已记为当场处置并办结" in response.content.decode()
    case = Case.objects.get(description="共享单车倒在盲道上")
    assert (case.status, case.outcome, case.channel) == (Status.CLOSED, Outcome.SELF_RESOLVED, "grid")
    assert case.closed_at is not None and case.unit is None and case.grid.code == "1101050010101"
    assert [(e.action, e.to_status, e.note) for e in case.events.order_by("seq")] == [
        ("create", Status.NEW, ""),
        ("self_resolve", Status.CLOSED, "已扶正并移到停放区"),
    ]
    assert list(case.photos.values_list("kind", flat=True)) == [CasePhoto.Kind.RESULT]
    # Nothing for the dispatcher to do.
    queue = selectors.dispatcher_queue(street.users.dispatcher)
    assert case not in queue["new"] and case not in queue["unclassified"]


def test_fixed_on_the_spot_needs_the_result_and_a_photo(street, login):
    client = login(street.users.grid)
    count = Case.objects.count()
    response = client.post(
        reverse("cases:grid_report"),
        {"description": "楼道堆物", "lat": str(CASE_AT[0]), "lng": str(CASE_AT[1]), "outcome": "self_resolved"},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "请填写当场处置的结果" in form.errors["answer"][0]
    assert "至少上传一张" in form.errors["photos"][0]
    assert Case.objects.count() == count


def test_only_in_ones_own_grid(street):
    # grid_other looks after 西园社区 第一网格; the position lies in 东湖社区.
    with pytest.raises(ValidationFailed) as refused:
        services.submit_case(
            street.users.grid_other,
            channel="grid",
            description="小广告",
            lat=CASE_AT[0],
            lng=CASE_AT[1],
            outcome="self_resolved",
            answer="已清除",
            photos=[photo()],
        )
    assert fields(refused.value) == ["grid"] and "不是您负责的网格" in refused.value.errors[0]["message"]
    assert not Case.objects.filter(description="小广告").exists()


def test_a_case_waiting_for_dispatch_is_self_resolved_by_the_grid_worker_of_its_grid(street):
    case = drive(street, "new")
    with pytest.raises(NotAllowed):
        services.self_resolve(street.users.grid_other, number=case.number, result="已清运", photos=[photo()])
    with pytest.raises(ValidationFailed) as refused:
        services.self_resolve(street.users.grid, number=case.number, result="")
    assert fields(refused.value) == ["result", "photos"]
    case = services.self_resolve(street.users.grid, number=case.number, result="已叫保洁清运", photos=[photo()])
    assert (case.status, case.outcome) == (Status.CLOSED, Outcome.SELF_RESOLVED) and case.closed_at
    assert last_event(case).data == {"photos": 1}


def test_grid_level_share_counts_what_grid_workers_fixed_on_the_spot(street):
    """November 2026, five cases closed:

    A  reported by the grid worker as fixed on the spot (已自行处置)       → grid level
    B  a resident's report, fixed on the spot from the queue (已自行处置)  → grid level
    C  sanitation in 东湖社区, handled by 东湖社区居委会 and rated            → grid level
    D  a street lamp handled by the enforcement team and rated             → not
    E  a consultation the 12345 desk answered (直接答复)                   → not

    小事不出网格 = 3 / 5."""
    u = street.users
    services.submit_case(
        u.grid,
        channel="grid",
        description="A 楼道灯泡松了",
        lat=CASE_AT[0],
        lng=CASE_AT[1],
        outcome="self_resolved",
        answer="已拧紧",
        photos=[photo()],
        at=WEDNESDAY,
    )
    b = drive(street, "new")
    services.self_resolve(u.grid, number=b.number, result="已清运", photos=[photo()], at=WEDNESDAY + HOUR)
    drive(street, "closed")
    drive(street, "closed", category=LAMPS)
    services.submit_case(
        u.operator,
        channel="12345",
        description="E 居住证怎么办理",
        reporter_phone="13700137000",
        outcome="answered",
        answer="带身份证到社区服务站办理。",
        at=WEDNESDAY,
    )
    share = grid_measures.grid_level_share("2026-11")
    assert (share.numerator, share.denominator) == (3, 5)
    indicator = indicators.get("grid_level_share").compute(
        periods.parse("2026-11"), "street", indicators.Run(now=WEDNESDAY + dt.timedelta(days=20))
    )
    assert indicator[street.street.code].value == pytest.approx(3 / 5)
    # The desk's own count (三事分流) stays the desk's.
    assert measures.desk_outcomes("2026-11") == {"answered": 1, "advised": 0, "voided": 0}


# --- 巡查打卡: the patrol's points come from the phone -------------------------------------------------


def test_the_patrol_page_has_no_coordinate_boxes_and_refuses_without_a_position(street, login):
    client = login(street.users.grid)
    page = client.get(reverse("geo:patrol")).content.decode()
    inputs = re.findall(r"<input[^>]*name=\"(?:lat|lng)\"[^>]*>", page)
    assert len(inputs) == 2 and all('type="hidden"' in tag for tag in inputs)
    assert "纬度" not in page and "经度" not in page
    assert "data-auto-locate" in page and "没有定位不能打卡" in page

    refused = client.post(reverse("geo:patrol"), {"kind": "start", "note": "东湖小区3号楼"})
    assert refused.status_code == 422 and "没有获取到手机定位，不能打卡" in refused.content.decode()
    swapped = client.post(reverse("geo:patrol"), {"kind": "start", "lat": "116.405", "lng": "39.905"})
    assert swapped.status_code == 422 and "纬度必须在 -90 到 90 之间" in swapped.content.decode()
    assert not PatrolCheckIn.objects.exists()

    done = client.post(reverse("geo:patrol"), {"kind": "start", "lat": "39.905", "lng": "116.405"}, follow=True)
    assert "已开始巡查" in done.content.decode()
    assert PatrolCheckIn.objects.get().inside is True
