"""A grid worker's shift on a phone, in a real headless Chromium with the position allowed: the
patrol starts at the phone's position (no coordinates to type), a small matter fixed on the spot is
reported closed with its photo (已自行处置), and a case is verified on site from 我的网格 with a
photo and the phone's position."""

import pytest

from jiedao.cases.models import Case, CaseEvent, CasePhoto, Outcome, Status
from jiedao.geo.models import PatrolCheckIn
from tests.browser.test_case_loop_e2e import new_page, shot, sign_in
from tests.cases.lifecycle import LAMPS, drive
from tests.uploads import png_bytes

pytestmark = pytest.mark.browser


def picture(name):
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes(size=(40, 30))}


def test_the_grid_worker_patrols_fixes_a_small_matter_and_verifies_on_site(live_server, street, browser):
    from playwright.sync_api import expect

    # A street lamp at the phone's position, resolved by the enforcement team, waiting for 核查.
    to_verify = drive(street, "verifying", category=LAMPS)
    base = live_server.url
    page = new_page(browser, mobile=True)
    sign_in(page, base, "grid")

    # 1. 巡查打卡: the page takes the phone's position by itself; there is nothing to type.
    page.goto(f"{base}/grid/patrol/")
    expect(page.locator("[data-locate-status]")).to_contain_text("已定位：39.9")
    assert page.locator("input[name=lat]").get_attribute("type") == "hidden"
    assert page.locator("input[name=lng]").get_attribute("type") == "hidden"
    shot(page, "grid-patrol")
    page.click("[data-patrol=start]")
    expect(page.locator(".msg-success")).to_contain_text("已开始巡查")
    checkin = PatrolCheckIn.objects.get()
    assert (round(checkin.lat, 3), round(checkin.lng, 3), checkin.inside) == (39.905, 116.405, True)

    # 2. 现场上报: a bicycle lying on the tactile path, set right there and then.
    page.goto(f"{base}/cases/grid-report/")
    page.fill("#id_description", "共享单车倒在盲道上")
    page.set_input_files("#id_photos", files=[picture("fixed.png")])
    page.click("[data-locate]")
    expect(page.locator("#id_lat")).not_to_have_value("")
    page.check("input[name=outcome][value=self_resolved]")
    page.fill("#id_answer", "已扶正并移到停放区")
    shot(page, "grid-self-resolve")
    page.click("form.form button[type=submit]")
    expect(page.locator(".msg-success")).to_contain_text("已记为当场处置并办结")
    fixed = Case.objects.get(description="共享单车倒在盲道上")
    assert (fixed.status, fixed.outcome) == (Status.CLOSED, Outcome.SELF_RESOLVED)
    assert fixed.photos.filter(kind=CasePhoto.Kind.RESULT).count() == 1

    # 3. 核查 from 我的网格: a photo and the phone's position next to the lamp.
    page.goto(f"{base}/grid/mine/")
    item = page.locator(f"article[data-case='{to_verify.number}']")
    item.locator("input[name=photos]").set_input_files(files=[picture("lamp.png")])
    item.locator("[data-locate]").click()
    expect(item.locator("[data-locate-status]")).to_contain_text("已定位")
    shot(page, "grid-verify-on-site")
    item.locator("[data-verify=pass]").click()
    expect(page.locator(".msg-success")).to_contain_text(to_verify.number)
    expect(page.locator(f"article[data-case='{to_verify.number}']")).to_have_count(0)
    to_verify.refresh_from_db()
    assert to_verify.status == Status.RATING
    event = CaseEvent.objects.filter(case=to_verify).order_by("-seq").first()
    assert event.action == "verify_pass" and event.data["on_site"] is True and event.data["photos"] == 1
    assert event.data["distance_m"] == 0  # the phone stands where the case was reported
    assert to_verify.photos.filter(kind=CasePhoto.Kind.VERIFY).count() == 1
