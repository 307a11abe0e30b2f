"""The grid worker's day on a phone (390×844) in a real headless Chromium: sign in,
start a patrol with the phone's position, report an event with a photo on the spot,
and find the report in 我的网格."""

import re

import pytest
from PIL import Image

from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Inside 东湖社区 第一网格 of the test street.
POSITION = {"latitude": 39.905, "longitude": 116.405}


def fits_the_phone(page):
    """Nothing wider than the screen: the page scrolls only up and down."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_grid_worker_patrols_reports_with_a_photo_and_sees_it_in_my_grid(live_server, street, browser, tmp_path):
    from playwright.sync_api import expect

    from jiedao.cases.models import Case

    photo = tmp_path / "manhole.jpg"
    Image.new("RGB", (640, 480), (120, 110, 90)).save(photo, "JPEG")
    base = live_server.url
    context = browser.new_context(
        locale="zh-CN",
        viewport=PHONE,
        geolocation=POSITION,
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(15000)
    page = context.new_page()

    page.goto(f"{base}/login/")
    page.fill("#id_username", "grid")
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()

    # 我的网格: not on patrol yet; the big button starts one.
    page.goto(f"{base}/grid/mine/")
    expect(page.locator("[data-patrol-status]")).to_have_attribute("data-patrol-status", "off")
    assert fits_the_phone(page)
    page.locator(".quick-actions a", has_text="开始巡查").click()

    # The patrol page finds the position by itself; one thumb-sized button checks in.
    expect(page.locator("[data-locate-status]")).to_contain_text("39.905")
    start = page.locator("[data-patrol=start]")
    box = start.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 44
    start.click()
    expect(page.locator(".msg-success")).to_contain_text("已开始巡查")
    expect(page.locator("[data-patrol=end]")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "grid-patrol-phone.png"), full_page=True)

    # An event found on the spot: text, a photo and the phone's position.
    page.goto(f"{base}/grid/mine/")
    page.locator(".quick-actions a", has_text="现场上报").click()
    page.fill("#id_description", "东湖小区3号楼前井盖缺失，有安全隐患")
    page.set_input_files("#id_photos", str(photo))
    page.click("[data-locate]")
    expect(page.locator("#id_lat")).not_to_have_value("")
    assert fits_the_phone(page)
    page.click("form.form button[type=submit]")
    expect(page.locator(".msg-success")).to_contain_text("已上报")
    number = re.search(r"JD\d+", page.locator(".msg-success").inner_text()).group(0)

    # 我的网格 lists the report, and the patrol is still running.
    page.goto(f"{base}/grid/mine/")
    expect(page.locator("#reports")).to_contain_text(number)
    expect(page.locator("#reports")).to_contain_text("井盖缺失")
    expect(page.locator("[data-patrol-status]")).to_have_attribute("data-patrol-status", "on")
    assert fits_the_phone(page)
    page.screenshot(path=str(ARTIFACTS / "grid-my-grid-phone.png"), full_page=True)

    case = Case.objects.get(number=number)
    assert case.channel == "grid" and case.grid.code == "1101050010101"
    assert case.photos.count() == 1
    context.close()
