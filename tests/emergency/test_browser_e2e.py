"""An emergency in a real headless Chromium, from a meter's alert to closure: the
operator confirms the red alert on the board, the command centre steps the event
through its stages on the live page (which refreshes itself), the grid worker ticks off
the residents on a phone, and the closed event shows its measured times."""

import datetime as dt

import pytest

from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

from .conftest import reading, rule

pytestmark = pytest.mark.browser


def page_for(browser, base, username, phone=False):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(locale="zh-CN", viewport=size, is_mobile=phone, has_touch=phone)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    return page


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_meter_alert_to_closed_emergency(live_server, street, residents, devices, browser):
    from playwright.sync_api import expect

    from jiedao.emergency import services
    from jiedao.emergency.models import Emergency

    rule(
        "独居老人异常用电",
        "meter",
        "above",
        "kwh",
        threshold=5,
        level="red",
        outcome="emergency",
        emergency_kind="elderly",
    )
    now = dt.datetime.now(dt.UTC)
    services.ingest([reading(devices["EM-01"], now - dt.timedelta(minutes=1), 8.0, "kwh")], now=now)
    base = live_server.url

    # The operator sees the red light and confirms the alert: it becomes an emergency.
    operator = page_for(browser, base, "operator")
    operator.goto(f"{base}/emergency/")
    expect(operator.locator("[data-warnings=red] b")).to_have_text("1")
    shot(operator, "emergency-board")
    operator.locator("#alerts button[value='1']").click()
    operator.wait_for_load_state()
    expect(operator.locator("[data-status]")).to_have_text("监测预警")
    number = Emergency.objects.get().number

    # The command centre opens the live page; the dispatcher's steps appear there by themselves.
    leader = page_for(browser, base, "leader")
    leader.goto(f"{base}/emergency/{number}/")
    dispatcher = page_for(browser, base, "dispatcher")
    dispatcher.goto(f"{base}/emergency/{number}/")
    dispatcher.locator("#actions button[value=dispatch]").click()
    dispatcher.wait_for_load_state()
    expect(leader.locator("[data-status]")).to_have_text("已调度", timeout=15000)

    # The grid worker, on a phone, arrives and checks on both special-care residents.
    grid = page_for(browser, base, "grid", phone=True)
    grid.goto(f"{base}/emergency/{number}/")
    grid.locator("#actions button[value=arrive]").click()
    grid.wait_for_load_state()
    grid.goto(f"{base}/emergency/{number}/checks/")
    for _ in range(2):
        grid.locator(".checklist li.pending button[value=safe]").first.click()
        grid.wait_for_load_state()
    expect(grid.locator(".checklist li.safe")).to_have_count(2)
    assert grid.evaluate("document.documentElement.scrollWidth") <= 390
    shot(grid, "emergency-checklist")

    # Coordinated disposal, then recovery and closure with notes.
    dispatcher.reload()
    dispatcher.locator("#actions button[value=engage]").click()
    dispatcher.wait_for_load_state()
    dispatcher.fill("#actions input[name=note]", "老人因电暖器过载，已断电并检修")
    dispatcher.locator("#actions button[value=recover]").click()
    dispatcher.wait_for_load_state()
    dispatcher.fill("#actions input[name=note]", "回访平安，事件结束")
    dispatcher.locator("#actions button[value=close]").click()
    dispatcher.wait_for_load_state()
    expect(dispatcher.locator("[data-status]")).to_have_text("已结束")
    expect(dispatcher.locator("[data-measure=disposal] .ontime")).to_be_visible()
    expect(dispatcher.locator("[data-checks]")).to_have_text("2/2")
    expect(dispatcher.locator("#timeline li")).to_have_count(8)  # report, 2 checks, 5 steps
    expect(dispatcher.locator("#actions")).to_have_count(0)
    shot(dispatcher, "emergency-closed")
