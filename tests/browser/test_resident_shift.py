"""The resident's side on a small phone in 长辈模式 (360 × 740): report with a typed address,
track the case, read the unit's reply and rate it — every page fits the screen's width."""

import pytest

from jiedao.cases import services
from jiedao.cases.models import Case, Rating, Status
from tests.browsing import ARTIFACTS

pytestmark = pytest.mark.browser

WIDTH = 360
REPLY = "已联系物业清运，并把北门垃圾桶每天清运改为两次。"

# The elements wider than the screen, to say what overflows when a page does not fit.
TOO_WIDE = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 0.5)
  .slice(0, 8)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
       + ' right=' + Math.round(e.getBoundingClientRect().right))"""


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_fits(page, name):
    """No horizontal scrolling: the document is no wider than the screen."""
    page.wait_for_load_state("load")
    shot(page, name)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{name}: {width}px wide: {page.evaluate(TOO_WIDE, WIDTH)}"


def test_resident_reports_tracks_and_rates_in_elderly_mode_on_a_small_phone(live_server, street, browser):
    from playwright.sync_api import expect

    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 740}, device_scale_factor=1)
    context.set_default_timeout(15000)
    page = context.new_page()

    # 长辈模式 is one tap on the portal; the address field stays beside "使用我的位置".
    page.goto(f"{base}/portal/")
    page.click("text=长辈模式")
    expect(page.locator("html")).to_have_class("elderly")
    expect(page.locator("[data-locate]")).to_be_visible()
    expect(page.locator("#id_address")).to_be_visible()
    expect(page.locator("#id_reporter_name")).to_be_hidden()
    assert_fits(page, "elderly-360-portal")

    page.fill("#id_description", "东湖小区北门垃圾桶满了三天没人清运，气味很大")
    page.fill("#id_reporter_phone", "13712345678")
    page.fill("#id_address", "东湖小区北门3号楼东侧")
    page.click("form.form button[type=submit]")
    number = page.locator("[data-case-number]").inner_text().strip()
    case = Case.objects.get(number=number)
    assert case.address == "东湖小区北门3号楼东侧"
    assert_fits(page, "elderly-360-done")

    # Tracking: the number is filled in; the phone finds the case with the resident's own words.
    page.click("text=查询办理进度")
    expect(page.locator("#id_number")).to_have_value(number)
    page.fill("#id_phone", "13712345678")
    page.click("#find button[type=submit]")
    expect(page.locator("[data-status]")).to_have_text("待派单")
    expect(page.locator("[data-request]")).to_contain_text("垃圾桶满了三天没人清运")
    expect(page.locator("[data-steps]")).to_contain_text("已受理")
    expect(page.locator("#rate")).to_have_count(0)
    assert_fits(page, "elderly-360-track-new")

    # The street dispatches it to the community committee, which takes it on and replies.
    u = street.users
    services.classify(u.dispatcher, number=number, category_code="010101")
    services.dispatch(u.dispatcher, number=number, unit_code="JWH01")
    services.respond(u.handler_committee, number=number)
    services.resolve(u.handler_committee, number=number, result=REPLY)

    # The resident looks again later: number and phone are still in the form.
    expect(page.locator("#id_phone")).to_have_value("13712345678")
    page.click("#find button[type=submit]")
    expect(page.locator("[data-status]")).to_have_text("待回访")
    steps = page.locator("[data-steps]")
    for words in ("已受理", "已派给东湖社区居委会", "正在办理", "已办结"):
        expect(steps).to_contain_text(words)
    expect(steps).not_to_contain_text("handler_jwh")
    expect(page.locator("[data-reply]")).to_contain_text(REPLY)
    # The reply comes before the rating form.
    assert page.evaluate(
        "document.querySelector('[data-reply]').compareDocumentPosition(document.querySelector('#rate')) & 4"
    )
    assert_fits(page, "elderly-360-track-reply")

    page.check("input[name=resolved][value=yes]")
    page.check("input[name=satisfaction][value=satisfied]")
    page.click("#rate button[type=submit]")
    expect(page.locator(".msg-success")).to_contain_text("感谢您的评价")
    expect(page.locator("[data-status]")).to_have_text("已结案")
    expect(page.locator("[data-reply]")).to_contain_text(REPLY)
    expect(page.locator("#rate")).to_have_count(0)
    assert_fits(page, "elderly-360-track-closed")

    case.refresh_from_db()
    assert case.status == Status.CLOSED
    rating = Rating.objects.get(case=case)
    assert rating.resolved and rating.satisfaction == "satisfied" and rating.source == "resident"
    context.close()


def test_signed_in_resident_follows_a_staff_link_to_the_tracking_page_on_a_small_phone(
    live_server, street, browser, make_case
):
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    u = street.users
    case = make_case(description="楼道里的灯坏了一个星期，晚上看不见台阶", unit="JWH01")
    services.respond(u.handler_committee, number=case.number)
    services.add_note(u.handler_committee, number=case.number, note="内部：已找电工老刘，明天上午去")
    services.resolve(u.handler_committee, number=case.number, result=REPLY)

    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": WIDTH, "height": 740}, device_scale_factor=1)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", u.resident.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{base}/portal/")
    page.click("text=长辈模式")
    expect(page.locator("html")).to_have_class("elderly")
    expect(page.locator("#mine")).to_contain_text(case.number)
    assert_fits(page, "elderly-360-portal-mine")

    # A message's link leads to the staff case page; the resident lands on the tracking page.
    page.goto(f"{base}/cases/{case.number}/")
    assert "/portal/track/" in page.url
    expect(page.locator("[data-case-number]")).to_have_text(case.number)
    expect(page.locator("[data-reply]")).to_contain_text(REPLY)
    for hidden in ("handler_jwh", "dispatcher", "内部", "老刘", "派单依据"):
        expect(page.locator("main")).not_to_contain_text(hidden)
    assert_fits(page, "elderly-360-track-own")

    page.check("input[name=resolved][value=no]")
    page.check("input[name=satisfaction][value=unsatisfied]")
    page.click("#rate button[type=submit]")
    expect(page.locator(".msg-success")).to_contain_text("感谢您的评价")
    expect(page.locator("[data-status]")).to_have_text("办理中")
    expect(page.locator("[data-steps]")).to_contain_text("重新办理")
    expect(page.locator("#rate")).to_have_count(0)
    assert_fits(page, "elderly-360-track-own-reopened")
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.rework_count == 1
    context.close()
