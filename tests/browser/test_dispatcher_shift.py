"""A dispatcher's shift in a real headless Chromium: the queue holds a case a unit returned, a
camera that alerted three times about the same illegal parking (one case, counted), a resident's
unclassified report and cases waiting for a unit. The dispatcher reads why the case came back and
sends it on — never back to the unit that refused it — classifies the two unclassified cases at
once, narrows the queue to the camera's case, and dispatches the rest at once: the summary names
the one the routing cannot place, which is then sent by hand. The queue is empty at the end."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.cases import services
from jiedao.cases.models import Case
from jiedao.emergency import services as emergency_services
from jiedao.emergency.models import Alert, Rule
from tests.browser.test_case_loop_e2e import new_page, shot, sign_in

pytestmark = pytest.mark.browser

MINUTE = dt.timedelta(minutes=1)


def camera_alerts(street, times):
    """A camera in 西园社区 that sees illegal parking at each of ``times``; the operator confirms
    each alert a few minutes later. Returns the number of the case they lead to."""
    u = street.users
    Rule.objects.create(name="违停", device_kind="video", trigger="event", metric="违停", level="blue", outcome="case")
    camera, token = emergency_services.register_device(
        u.admin, code="AI-001", name="西园路口AI视频1号", kind="video", lat=39.915, lng=116.405, address="西园路口"
    )
    numbers = set()
    for at in times:
        reading = {"device": camera.code, "token": token, "at": at, "event": "违停"}
        emergency_services.ingest([reading], now=at)
        alert = Alert.objects.get(status="open")
        decided = emergency_services.decide_alert(u.operator, alert_id=alert.pk, confirm=True, at=at + 5 * MINUTE)
        numbers.add(decided.case.number)
    assert len(numbers) == 1
    return numbers.pop()


def test_the_dispatcher_clears_a_queue_with_a_returned_case_and_merged_alerts(live_server, street, browser):
    from playwright.sync_api import expect

    u = street.users
    now = timezone.now()
    street.street.default_unit = None  # a category without a rule goes nowhere by itself
    street.street.save()

    def reported(text, category=None, at=now, lat=39.905):
        case, _ = services.submit_case(u.resident, channel="portal", description=text, lat=lat, lng=116.405, at=at)
        if category:
            services.classify(u.dispatcher, number=case.number, category_code=category, at=at)
        return case.number

    refused = reported("东湖小区北门垃圾桶满了三天没人清运", "010101", at=now - 3 * dt.timedelta(hours=1))
    services.dispatch(u.dispatcher, number=refused, at=now - 2 * dt.timedelta(hours=1))
    services.return_case(
        u.handler_committee, number=refused, reason="垃圾桶归物业管理，请派综合执法队督促", at=now - 20 * MINUTE
    )
    last_alert = now - 10 * MINUTE
    camera = camera_alerts(street, [now - 8 * dt.timedelta(hours=1), now - 4 * dt.timedelta(hours=1), last_alert])
    unclassified = reported("东湖家园楼下有一堆建筑垃圾没人管")
    lamp = reported("西园北里路灯不亮，晚上很黑", "010102", lat=39.915)
    elderly = reported("东湖小区独居老人想申请助餐服务", "020101")

    base = live_server.url
    page = new_page(browser)
    sign_in(page, base, "dispatcher")
    page.goto(f"{base}/cases/dispatch/?tab=returned")

    def count(tab):
        return page.locator(f"a[data-tab={tab}] [data-count]")

    expect(count("new")).to_have_text("2")
    expect(count("unclassified")).to_have_text("2")
    expect(count("returned")).to_have_text("1")

    # 1. The returned case: why, by whom and when — and the next unit, not the one that refused.
    item = page.locator(f"article[data-case='{refused}']")
    expect(item.locator("[data-return-reason]")).to_contain_text("垃圾桶归物业管理，请派综合执法队督促")
    back_at = timezone.localtime(now - 20 * MINUTE).strftime("%m-%d %H:%M")
    expect(item.locator("[data-return-reason]")).to_contain_text(f"东湖社区居委会 · {back_at} 退回")
    expect(item.locator("[data-dispatch]")).to_have_text("派给 综合执法队")
    item.locator("details.override summary").click()
    reassign = item.locator("select[data-reassign]")
    expect(reassign).to_have_value("ZHZF")
    expect(reassign.locator("option[value=JWH01]")).to_have_text("东湖社区居委会（刚退回）")
    shot(page, "dispatcher-returned")
    item.locator("[data-dispatch]").click()
    expect(page.locator(".msg-success")).to_contain_text(refused)
    expect(count("returned")).to_have_text("0")

    # 2. 未分类: the camera's three alerts are one case, counted.
    page.locator("a[data-tab=unclassified]").click()
    expect(page.locator("article.queue-item")).to_have_count(2)
    expect(page.locator(f"article[data-case='{camera}'] [data-alerts]")).to_contain_text(
        f"同一设备已告警 3 次，最近 {timezone.localtime(last_alert):%H:%M}"
    )
    shot(page, "dispatcher-unclassified")
    # Both classified at once: ticked, one category picked level by level.
    for number in (camera, unclassified):
        page.locator(f"article[data-case='{number}'] [data-pick]").check()
    picker = page.locator("#bulk-picker")
    picker.locator("select[name=cat1]").select_option("01")
    picker.locator("select[name=cat2]").select_option("0101")
    picker.locator("select[name=cat3]").select_option("010101")
    expect(picker.locator(".picked")).to_contain_text("环境卫生")
    page.click("[data-bulk-classify]")
    expect(page.locator(".msg-success")).to_have_text("已分类 2 张。")
    expect(count("unclassified")).to_have_text("0")
    expect(count("new")).to_have_text("4")

    # 3. 待派单, narrowed to the camera's case by its channel; the filter stays in the address.
    page.locator("a[data-tab=new]").click()
    page.select_option("select[name=channel]", "sensor")
    page.click("[data-filter]")
    expect(page.locator("article.queue-item")).to_have_count(1)
    expect(page.locator(f"article[data-case='{camera}']")).to_be_visible()
    expect(count("new")).to_have_text("1")
    assert "channel=sensor" in page.url
    page.click("[data-clear-filters]")
    expect(page.locator("article.queue-item")).to_have_count(4)

    # 4. All four at once by their routing: the summary names the one no rule places.
    page.click("[data-select-all]")
    expect(page.locator("[data-pick]:checked")).to_have_count(4)
    page.click("[data-bulk-dispatch]")
    summary = page.locator(".msg-warning")
    expect(summary).to_contain_text("已派 3 张，1 张未派：")
    expect(summary).to_contain_text(f"{elderly} 没有派单规则匹配此工单，请手动选择承办单位。")
    expect(page.locator("article.queue-item")).to_have_count(1)
    shot(page, "dispatcher-bulk")
    # That one is sent by hand, to the unit chosen in its list.
    item = page.locator(f"article[data-case='{elderly}']")
    expect(item.locator("select[data-reassign]")).to_have_value("")
    item.locator("select[data-reassign]").select_option("GGFW")
    item.locator("details.override button").click()
    expect(page.locator(".msg-success")).to_contain_text(elderly)

    # The queue is clear.
    for tab in ("new", "unclassified", "returned"):
        expect(count(tab)).to_have_text("0")
    expect(page.locator("#queue .empty")).to_have_text("这个队列里没有工单。")
    sent = {
        c.number: c.unit.code for c in Case.objects.filter(number__in=[refused, camera, unclassified, lamp, elderly])
    }
    assert sent == {refused: "ZHZF", camera: "ZHZF", unclassified: "JWH01", lamp: "ZHZF", elderly: "GGFW"}
