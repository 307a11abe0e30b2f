"""In a real headless Chromium: take a ticket, get called, apply with one non-core
material missing, supply it, get approved, have the result issued, rate."""

import pytest

from tests.browser.test_case_loop_e2e import new_page, shot, sign_in
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_ticket_to_rating(live_server, hall, browser):
    from playwright.sync_api import expect

    base = live_server.url
    make_user("hall_handler", "handler", unit=hall["street"].units.service)
    photo = hall["elderly"].materials.get(name="近期一寸免冠照片")

    # The resident takes a priority ticket at the kiosk.
    kiosk = new_page(browser)
    kiosk.goto(f"{base}/hall/ticket/")
    kiosk.check("input[name=group][value=B]")
    kiosk.check("input[name=priority]")
    kiosk.click("form.form button[type=submit]")
    expect(kiosk.locator("[data-ticket]")).to_have_text("B001")

    # The clerk calls it; the hall's screen shows it.
    clerk = new_page(browser)
    sign_in(clerk, base, "operator")
    clerk.goto(f"{base}/hall/window/")
    clerk.fill("#window-no", "3")
    clerk.click("button[value=call]")
    expect(clerk.locator("[data-current]")).to_have_text("B001")
    screen = new_page(browser)
    screen.goto(f"{base}/hall/screen/")
    expect(screen.locator("[data-called]").first).to_have_text("B001")

    # Acceptance with the photo missing (容缺受理).
    clerk.select_option("select[name=action_code]", label="老年人优待证办理")
    clerk.click("text=开始受理")
    clerk.fill("#a-name", "王秀英")
    clerk.fill("#a-id", "110105195001011234")
    clerk.check(f"input[name=material_{photo.pk}][value=missing]")
    clerk.click("form.form button[type=submit]")
    expect(clerk.locator("[data-status]")).to_have_text("已受理·审批中")
    expect(clerk.locator("[data-applicant]")).to_contain_text("110***********1234")
    number_url = clerk.url

    # The photo is supplied at the window (a second visit).
    clerk.click("text=补交：近期一寸免冠照片")
    expect(clerk.locator("[data-visits]")).to_have_text("2")

    # The unit approves.
    handler = new_page(browser)
    sign_in(handler, base, "hall_handler")
    handler.goto(f"{base}/hall/approvals/")
    handler.click(f"a[href='{number_url.removeprefix(base)}']")
    handler.click("button[value=approve]")
    expect(handler.locator("[data-status]")).to_have_text("审批通过·待出件")

    # The window issues by post; the applicant rates on the window device.
    clerk.goto(number_url)
    clerk.select_option("select[name=delivery]", value="post")
    clerk.click("button[value=issue]")
    expect(clerk.locator("[data-status]")).to_have_text("已出件·办结")
    clerk.check("input[name=level][value='5']")
    clerk.click("button[value=rate]")
    expect(clerk.locator("[data-rating]")).to_have_text("非常满意")
    shot(clerk, "hall-rated")
