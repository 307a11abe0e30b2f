"""The whole loop in a real headless Chromium: a resident reports on the portal, the
dispatcher classifies and dispatches, the unit responds and resolves, the resident rates
on the tracking page, and the leader's overview shows the rates change."""

import pytest

from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

# Inside 东湖社区 第一网格 of the test street.
POSITION = {"latitude": 39.905, "longitude": 116.405}


def shot(page, name):
    """A screenshot of a run, for looking into a failure (test-artifacts/, git-ignored). The
    pictures in docs/images come from scripts/screenshots.py on the demo street."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def new_page(browser, mobile=False):
    size = {"width": 412, "height": 900} if mobile else {"width": 1280, "height": 900}
    context = browser.new_context(
        locale="zh-CN", viewport=size, geolocation=POSITION, permissions=["geolocation"], device_scale_factor=1
    )
    context.set_default_timeout(15000)
    return context.new_page()


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def test_resident_to_leader_case_loop(live_server, street, browser):
    from playwright.sync_api import expect

    base = live_server.url

    # The leader's overview starts without data.
    leader = new_page(browser)
    sign_in(leader, base, "leader")
    leader.goto(f"{base}/cases/overview/")
    expect(leader.locator("[data-rate=resolution]")).to_have_text("无数据")
    expect(leader.locator("[data-rate=satisfaction]")).to_have_text("无数据")

    # 1. A resident reports on the portal (no account), using the phone's position.
    resident = new_page(browser, mobile=True)
    resident.goto(f"{base}/portal/")
    resident.fill("#id_description", "东湖小区北门垃圾桶满了三天没人清运，气味很大")
    resident.fill("#id_reporter_phone", "13712345678")
    resident.click("[data-locate]")
    expect(resident.locator("#id_lat")).not_to_have_value("")
    expect(resident.locator("[data-locate-status]")).to_contain_text("39.905")
    shot(resident, "portal")
    resident.click("form.form button[type=submit]")
    number = resident.locator("[data-case-number]").inner_text().strip()
    assert number.startswith("JD")
    shot(resident, "portal-submitted")

    # 2. The dispatcher classifies it with the chained picker and dispatches by the suggestion.
    dispatcher = new_page(browser)
    sign_in(dispatcher, base, "dispatcher")
    dispatcher.goto(f"{base}/cases/dispatch/?tab=unclassified")
    item = dispatcher.locator(f"article[data-case='{number}']")
    # The search box offers matching categories as one types …
    item.locator("input[name=catq]").fill("养老")
    expect(item.locator("select[name=catpick] option[value='020101']")).to_have_count(1)
    # … and the three chained selects narrow down level by level.
    item.locator("select[name=cat1]").select_option("01")
    item.locator("select[name=cat2]").select_option("0101")
    item.locator("select[name=cat3]").select_option("010101")
    expect(item.locator(".picked")).to_contain_text("环境卫生")
    item.locator("[data-classify]").click()
    dispatcher.goto(f"{base}/cases/dispatch/?tab=new")
    item = dispatcher.locator(f"article[data-case='{number}']")
    expect(item.locator("[data-dispatch]")).to_contain_text("东湖社区居委会")
    shot(dispatcher, "dispatch")
    item.locator("[data-dispatch]").click()
    expect(dispatcher.locator(".msg-success")).to_contain_text(number)

    # 3. The community committee responds and resolves on the case page.
    handler = new_page(browser)
    sign_in(handler, base, "handler_jwh")
    handler.goto(f"{base}/cases/workbench/")
    row = handler.locator(f"tr[data-case='{number}']")
    expect(row.locator(".badge-green")).to_be_visible()
    shot(handler, "workbench")
    row.locator("a.mono").click()
    expect(handler.locator("[data-status]")).to_have_text("待响应")
    handler.fill("#id_respond_note", "已电话联系居民，今天下午清运")
    handler.click("[data-action=respond]")
    expect(handler.locator("[data-status]")).to_have_text("办理中")
    shot(handler, "case")
    handler.fill("#id_resolve_result", "")
    handler.click("[data-action=resolve]")
    expect(handler.locator("#action-resolve .field-error")).to_contain_text("请填写办理结果")
    handler.fill("#id_resolve_result", "已清运，并增加了每日清运频次")
    shot(handler, "case-resolve-error")
    handler.click("[data-action=resolve]")
    expect(handler.locator("[data-status]")).to_have_text("待回访")

    # 4. The resident looks the case up with the number and phone, and rates it.
    resident.goto(f"{base}/portal/track/?number={number}")
    resident.fill("#id_phone", "13712345678")
    resident.click("form.form button[type=submit]")
    expect(resident.locator("[data-status]")).to_have_text("待回访")
    resident.check("input[name=resolved][value=yes]")
    resident.check("input[name=satisfaction][value=satisfied]")
    shot(resident, "track-rate")
    resident.click("#rate button[type=submit]")
    expect(resident.locator("[data-status]")).to_have_text("已结案")
    shot(resident, "track")

    # 5. The leader sees the rates change.
    leader.reload()
    expect(leader.locator("[data-rate=resolution]")).to_have_text("100%")
    expect(leader.locator("[data-rate=satisfaction]")).to_have_text("100%")
    expect(leader.locator("[data-rate=response]")).to_have_text("100%")
    expect(leader.locator("tr[data-unit=JWH01]")).to_contain_text("东湖社区居委会")
    shot(leader, "overview")

    # 长辈模式: one tap doubles the type and hides what is optional.
    resident.goto(f"{base}/portal/")
    resident.click("text=长辈模式")
    expect(resident.locator("html")).to_have_class("elderly")
    expect(resident.locator("#id_reporter_name")).to_be_hidden()
    assert resident.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") == 36
    shot(resident, "elderly")
