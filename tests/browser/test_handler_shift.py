"""A handler's shift in a real headless Chromium: the workbench opens on the unit's counts, each
count narrows the list, the handler responds to the late case and resolves it — the reply's
quality is checked while typing, before anything is submitted — and reports to a whistle; the
counts follow, and finished whistles stay folded away."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.cases import services
from tests.browser.test_case_loop_e2e import new_page, shot, sign_in

pytestmark = pytest.mark.browser


def dispatched(street, text, *, at, unit=None):
    """A resident's case in 东湖社区 (环境卫生: response within 2 hours), dispatched at ``at``."""
    u = street.users
    case, _created = services.submit_case(
        u.resident, channel="portal", description=text, lat=39.905, lng=116.405, at=at
    )
    services.classify(u.dispatcher, number=case.number, category_code="010101", at=at)
    services.dispatch(u.dispatcher, number=case.number, unit_code=unit, at=at)
    return case.number


def test_the_handler_responds_and_resolves(live_server, street, browser):
    from playwright.sync_api import expect

    u = street.users
    now = timezone.now()
    late = dispatched(street, "东湖小区北门垃圾桶满了三天没人清运", at=now - dt.timedelta(hours=3))
    fresh = dispatched(street, "东湖小区5号楼楼道堆放杂物", at=now)
    summoned = dispatched(street, "东湖小区外墙广告牌松动", at=now, unit="ZHZF")
    services.blow_whistle(u.dispatcher, number=summoned, unit_codes=["JWH01"], report_hours=4, reason="需社区配合排查")
    earlier = dispatched(street, "东湖小区门前占道经营", at=now, unit="ZHZF")
    services.blow_whistle(u.dispatcher, number=earlier, unit_codes=["JWH01"], report_hours=4, reason="需社区劝导商户")
    services.report_to_whistle(u.handler_committee, number=earlier, part="社区负责劝导")

    base = live_server.url
    page = new_page(browser)
    sign_in(page, base, "handler_jwh")

    def count(key):
        return page.locator(f"[data-count={key}] [data-value]")

    # The first screen: the counts, above the unit's own cases.
    expect(page.locator("h1")).to_contain_text("单位工作台")
    expect(count("dispatched")).to_have_text("2")
    expect(count("in_progress")).to_have_text("0")
    expect(count("due_soon")).to_have_text("0")
    expect(count("overdue")).to_have_text("1")
    expect(count("to_report")).to_have_text("1")
    expect(page.locator("[data-count=overdue]")).to_contain_text("超期")
    counts_box = page.locator("[data-counts]").bounding_box()
    assert counts_box["y"] + counts_box["height"] <= page.locator(f"tr[data-case='{late}']").bounding_box()["y"]
    assert counts_box["y"] < 900  # in the first screen
    # The whistle to report to is listed; the finished one is folded away, with its count.
    expect(page.locator(f"#whistles [data-summons='{summoned}']")).to_be_visible()
    folded = page.locator("[data-finished-whistles]")
    expect(folded.locator("summary")).to_contain_text("1")
    expect(folded.locator(f"[data-summons='{earlier}']")).to_be_hidden()
    shot(page, "handler-workbench")

    # 超期 narrows the list to the late case.
    page.click("[data-count=overdue]")
    expect(page.locator("tr[data-case]")).to_have_count(1)
    expect(page.locator(f"tr[data-case='{late}'] .badge-red")).to_be_visible()
    expect(page.locator("[data-count=overdue]")).to_have_attribute("aria-current", "true")

    # The handler opens it and responds.
    page.locator(f"tr[data-case='{late}'] a.mono").click()
    expect(page.locator("[data-status]")).to_have_text("待响应")
    page.fill("#id_respond_note", "已电话联系居民，今天下午清运")
    page.click("[data-action=respond]")
    expect(page.locator("[data-status]")).to_have_text("办理中")

    # A vague result is flagged while it is typed, before anything is submitted.
    page.fill("#id_resolve_result", "收到，会处理")
    warning = page.locator("[data-reply-check=flagged]")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("未写明具体措施")
    expect(warning).to_contain_text("未写明时间")
    expect(page.locator("[data-status]")).to_have_text("办理中")
    shot(page, "handler-reply-check")
    # A concrete one clears the warning; then it is submitted.
    page.fill("#id_resolve_result", "已安排保洁员今天下午清运垃圾桶，并增加每日清运频次")
    expect(page.locator("[data-reply-check=ok]")).to_be_visible()
    expect(warning).to_have_count(0)
    page.click("[data-action=resolve]")
    expect(page.locator("[data-status]")).to_have_text("待回访")

    # Back on the workbench the counts have followed.
    page.goto(f"{base}/cases/workbench/")
    expect(count("dispatched")).to_have_text("1")
    expect(count("in_progress")).to_have_text("0")
    expect(count("overdue")).to_have_text("0")
    expect(page.locator(f"tr[data-case='{fresh}']")).to_be_visible()

    # 待报到 leads to the whistle; the handler reports in, and it joins the folded ones.
    page.click("[data-count=to_report]")
    assert page.url.endswith("#whistles")
    page.locator(f"[data-summons='{summoned}'] a.mono").click()
    page.fill("#id_report_part", "社区负责排查广告牌并通知业主")
    page.click("[data-action=report]")
    expect(page.locator(".msg-success")).to_contain_text(summoned)
    page.goto(f"{base}/cases/workbench/")
    expect(count("to_report")).to_have_text("0")
    expect(page.locator("#whistles")).to_contain_text("没有需要报到的吹哨")
    folded.locator("summary").click()
    expect(folded.locator("summary")).to_contain_text("2")
    expect(folded.locator(f"[data-summons='{summoned}']")).to_be_visible()
    shot(page, "handler-workbench-after")
