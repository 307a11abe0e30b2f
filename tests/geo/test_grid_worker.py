"""The grid worker's day: patrol check-ins, 我的网格 with the cases to verify (passed or
sent back from the list), the quick report, and the grid page with its team."""

import datetime as dt

import pytest
from django.urls import reverse

from jiedao.cases import services as cs
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.common.models import AccessLog
from jiedao.geo import selectors, services
from jiedao.geo.models import GridMember, PatrolCheckIn
from tests.uploads import png_bytes, upload

IN_G11 = {"lat": "39.905", "lng": "116.405"}


def test_a_patrol_starts_and_ends_once(street):
    worker = street.users.grid
    start = services.check_in(worker, kind="start", lat=39.905, lng=116.405)
    assert start.grid.code == "1101050010101" and start.inside is True

    with pytest.raises(InvalidTransition, match=r"巡查已于 .* 开始"):
        services.check_in(worker, kind="start", lat=39.905, lng=116.405)
    services.check_in(worker, kind="point", lat=39.905, lng=116.415)
    end = services.check_in(worker, kind="end", lat=39.905, lng=116.415)
    assert end.grid.code == "1101050010102"
    with pytest.raises(InvalidTransition, match="还没有开始巡查"):
        services.check_in(worker, kind="end", lat=39.905, lng=116.415)

    status = selectors.patrol_status(worker)
    assert status["on_patrol"] is False and status["patrols_today"] == 1
    assert [c.kind for c in status["checkins"]] == ["end", "point", "start"]


def test_a_patrol_left_open_overnight_does_not_block_the_next_day(street):
    worker = street.users.grid
    yesterday = dt.datetime(2026, 11, 17, 1, 0, tzinfo=dt.UTC)
    services.check_in(worker, kind="start", lat=39.905, lng=116.405, at=yesterday)
    today = yesterday + dt.timedelta(days=1)
    assert selectors.open_patrol_start(worker, today) is None
    services.check_in(worker, kind="start", lat=39.905, lng=116.405, at=today)


def test_without_a_position_there_is_no_check_in(street):
    worker = street.users.grid_other
    for kwargs in ({}, {"note": "西园新村5号楼，手机没有信号"}, {"grid_code": "1101050010201"}):
        with pytest.raises(ValidationFailed) as exc:
            services.check_in(worker, kind="start", **kwargs)
        assert [e["field"] for e in exc.value.errors] == ["position"]
        assert "没有获取到手机定位" in exc.value.errors[0]["message"]
    assert not PatrolCheckIn.objects.exists()
    checkin = services.check_in(worker, kind="start", lat=39.915, lng=116.405)
    assert checkin.grid.code == "1101050010201" and checkin.inside is True


def test_a_position_outside_the_workers_grid_is_recorded_as_outside(street):
    checkin = services.check_in(street.users.grid_other, kind="start", lat=39.905, lng=116.405)
    assert checkin.inside is False and checkin.grid.code == "1101050010201"


def test_only_grid_workers_check_in_and_only_in_their_grids(street):
    with pytest.raises(NotAllowed):
        services.check_in(street.users.handler, kind="start", lat=39.905, lng=116.405)
    with pytest.raises(ValidationFailed) as exc:
        services.check_in(street.users.grid, kind="start", grid_code="1101050010201", note="西园")
    assert "不是您负责的网格" in exc.value.errors[0]["message"]
    assert not PatrolCheckIn.objects.exists()


def test_patrol_page_starts_and_ends_a_patrol(street, login):
    client = login(street.users.grid)
    page = client.get(reverse("geo:patrol")).content.decode()
    assert 'data-patrol="start"' in page and "未在巡查" in page
    response = client.post(reverse("geo:patrol"), {"kind": "start", **IN_G11}, follow=True)
    page = response.content.decode()
    assert "已开始巡查" in page and 'data-patrol="end"' in page and "巡查中" in page
    response = client.post(reverse("geo:patrol"), {"kind": "start", **IN_G11})
    assert response.status_code == 422 and "请先结束本次巡查" in response.content.decode()
    client.post(reverse("geo:patrol"), {"kind": "end", **IN_G11})
    assert PatrolCheckIn.objects.filter(user=street.users.grid).count() == 2
    empty = client.post(reverse("geo:patrol"), {"kind": "start"})
    assert empty.status_code == 422 and "没有获取到手机定位，不能打卡" in empty.content.decode()


def _case_to_verify(street, lat=39.905, lng=116.415):
    """A street-lamp case in g12, resolved by the enforcement team, waiting for 核查."""
    u = street.users
    case, _ = cs.submit_case(u.resident, channel="portal", description="路灯不亮", lat=lat, lng=lng)
    cs.classify(u.dispatcher, number=case.number, category_code="010102")
    cs.dispatch(u.dispatcher, number=case.number)
    cs.respond(u.handler, number=case.number)
    cs.resolve(u.handler, number=case.number, result="已更换灯泡")
    case.refresh_from_db()
    assert case.status == "verifying"
    return case


def test_my_grid_lists_cases_to_verify_and_passes_one_from_the_list(street, login):
    case = _case_to_verify(street)
    other = _case_to_verify(street, lat=39.915, lng=116.405)  # in g21: not this worker's
    client = login(street.users.grid)
    page = client.get(reverse("geo:my_grid")).content.decode()
    assert f'data-case="{case.number}"' in page and "已更换灯泡" in page
    assert other.number not in page

    on_site = {
        "next": reverse("geo:my_grid"),
        "lat": "39.9051",
        "lng": "116.4151",
        "photos": upload(png_bytes(), "a.png"),
    }
    response = client.post(reverse("cases:action", args=[case.number, "verify_pass"]), on_site)
    assert response.status_code == 302 and response["Location"] == reverse("geo:my_grid")
    case.refresh_from_db()
    assert case.status == "rating"
    assert f'data-case="{case.number}"' not in client.get(reverse("geo:my_grid")).content.decode()


def test_a_case_sent_back_from_the_list_needs_a_reason(street, login):
    case = _case_to_verify(street)
    client = login(street.users.grid)
    url = reverse("cases:action", args=[case.number, "verify_fail"])
    missing = client.post(url, {"next": reverse("geo:my_grid"), "note": ""})
    assert missing.status_code == 422 and "核查不通过时请写明原因" in missing.content.decode()
    client.post(url, {"next": reverse("geo:my_grid"), "note": "灯还是不亮", "reason": "晚上电话联系居民核实"})
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_my_grid_shows_my_reports_and_patrol_status(street, login):
    client = login(street.users.grid)
    response = client.post(reverse("cases:grid_report"), {"description": "井盖缺失，有安全隐患", **IN_G11})
    assert response.status_code == 302
    services.check_in(street.users.grid, kind="start", lat=39.905, lng=116.405)
    page = client.get(reverse("geo:my_grid")).content.decode()
    assert "井盖缺失" in page and 'data-patrol-status="on"' in page
    assert reverse("cases:grid_report") in page and reverse("geo:patrol") in page


def test_grid_worker_pages_are_for_grid_workers(street, login):
    for page in ("geo:my_grid", "geo:patrol"):
        assert login(street.users.handler).get(reverse(page)).status_code == 403
        assert login(street.users.grid).get(reverse(page)).status_code == 200


def test_grid_page_shows_the_team_with_masked_phones(street, login):
    grid = street.grids[0]
    GridMember.objects.create(grid=grid, role="full_time", user=street.users.grid)
    GridMember.objects.create(grid=grid, role="part_time", name="赵志刚", phone="13911112222")
    GridMember.objects.create(
        grid=grid, role="building_head", name="孙秀英", phone="13633334444", buildings="3号楼1-2单元"
    )

    page = login(street.users.handler).get(reverse("geo:grid", args=[grid.code])).content.decode()
    for text in ("专职网格员", "兼职网格员", "楼门长", "赵志刚", "孙秀英", "3号楼1-2单元", "139****2222"):
        assert text in page
    assert "13911112222" not in page
    assert not AccessLog.objects.exists()

    page = login(street.users.leader).get(reverse("geo:grid", args=[grid.code])).content.decode()
    assert "13911112222" in page
    assert AccessLog.objects.filter(user=street.users.leader, fields="phone").count() >= 2


def test_grid_list_and_admin(street, login):
    page = login(street.users.dispatcher).get(reverse("geo:grids")).content.decode()
    assert all(f'data-grid="{g.code}"' in page for g in street.grids)
    admin_client = login(street.users.admin)
    street.users.admin.is_staff = street.users.admin.is_superuser = True
    street.users.admin.save()
    assert admin_client.get(reverse("admin:geo_gridmember_add")).status_code == 200
    assert admin_client.get(reverse("admin:geo_patrolcheckin_changelist")).status_code == 200
