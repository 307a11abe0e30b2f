"""舆情 / 群体事件 and 重复投诉 in a real headless Chromium: the dispatcher opens a case the same
caller reported again after the first was closed, sees the 重复投诉 marker with the link to the
first case, flags the case 群体事件 (refused without a reason, then with it) and sees the red
marker and the reason on the timeline."""

import datetime as dt

import pytest

from jiedao.cases import services
from tests.browser.test_case_loop_e2e import new_page, shot, sign_in
from tests.cases.lifecycle import drive

pytestmark = pytest.mark.browser


def test_dispatcher_sees_the_repeat_and_flags_a_mass_incident(live_server, street, browser):
    from playwright.sync_api import expect

    base = live_server.url
    first = drive(street, "closed")  # reported by the resident 王大妈 on the portal
    again, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description="楼下垃圾又堆了三天，几十户居民到社区反映",
        lat=39.905,
        lng=116.405,
        at=first.closed_at + dt.timedelta(days=3),
    )

    page = new_page(browser)
    sign_in(page, base, "dispatcher")
    page.goto(f"{base}/cases/{again.number}/")
    expect(page.locator("[data-repeat-badge]")).to_have_text("重复投诉")
    expect(page.locator("[data-repeat]")).to_contain_text("同一诉求人")
    expect(page.locator(f"[data-repeat] a[href='/cases/{first.number}/']")).to_have_text(first.number)

    form = page.locator("#action-flag")
    form.locator("summary").click()
    form.get_by_label("群体事件").check()
    form.locator("[data-action=flag]").click()
    expect(page.locator("#action-flag")).to_contain_text("标记或取消舆情、群体事件时请写明理由。")
    expect(page.locator("[data-sensitive]")).to_have_count(0)

    page.locator("#action-flag").get_by_label("群体事件").check()
    page.locator("#id_flag_note").fill("几十户居民到社区聚集反映")
    page.locator("#action-flag [data-action=flag]").click()
    expect(page.locator("[data-sensitive=mass]")).to_have_text("群体事件")
    expect(page.locator(".timeline")).to_contain_text("标记舆情/群体事件")
    expect(page.locator(".timeline")).to_contain_text("几十户居民到社区聚集反映")
    shot(page, "case-flagged")
