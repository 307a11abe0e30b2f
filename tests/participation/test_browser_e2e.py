"""The closed loop of 居民议事 in a real headless Chromium: a resident proposes on her
phone in elderly mode, a neighbour supports it, the committee schedules a meeting and puts
it on the agenda, the neighbour registers and is checked in at the door, the meeting
adopts it with a public answer, progress is reported to completion, the resident
evaluates the result, and the public page shows the decision and its progress."""

import pytest

from jiedao.participation import services
from jiedao.participation.models import Proposal
from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def page_for(browser, base, username=None, phone=False):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(locale="zh-CN", viewport=size, is_mobile=phone, has_touch=phone)
    context.set_default_timeout(15000)
    page = context.new_page()
    if username:
        page.goto(f"{base}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_load_state()
    return page


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def submit(page, selector):
    page.locator(selector).click()
    page.wait_for_load_state()


def test_proposal_to_evaluated_result(live_server, people, browser):
    # Imported here as tests/browsing.py does: the suite is collected without Playwright installed.
    from playwright.sync_api import expect

    base = live_server.url

    # 王大妈 proposes on her phone, in elderly mode.
    wang = page_for(browser, base, people.wang.username, phone=True)
    wang.goto(f"{base}/participation/")
    submit(wang, "button.tool[name=on]")
    wang.goto(f"{base}/participation/propose/")
    expect(wang.locator("#id_place")).to_be_hidden()  # optional fields hidden in elderly mode
    wang.fill("#id_title", "小区东门加装休息座椅")
    wang.fill("#id_body", "老人买菜回来没地方歇脚，希望在东门加几张座椅。")
    submit(wang, "#propose-form button[type=submit]")
    expect(wang.locator("[data-status]")).to_have_text("征集附议")
    assert wang.evaluate("document.documentElement.scrollWidth") <= 390
    shot(wang, "participation-proposed")
    proposal = Proposal.objects.get()

    # A neighbour writing the same idea is shown the existing proposal, and supports it instead.
    li = page_for(browser, base, people.li.username)
    li.goto(f"{base}/participation/propose/")
    li.locator("#id_title").press_sequentially("东门休息座椅")
    expect(li.locator("#similar a")).to_have_text("小区东门加装休息座椅")
    li.locator("#similar a").click()
    li.wait_for_load_state()
    submit(li, "#support button")
    expect(li.locator("[data-supports]")).to_contain_text("1")
    for neighbour in people.neighbours[:2]:
        services.support(neighbour, proposal_id=proposal.pk)
    li.reload()
    expect(li.locator("[data-status]")).to_have_text("可以上会")

    # The committee schedules a meeting and puts the proposal on its agenda.
    staff = page_for(browser, base, people.staff.username)
    staff.goto(f"{base}/participation/desk/")
    staff.locator("#meetings summary").click()
    staff.fill("#id_mtitle", "十一月协商议事会")
    staff.fill("#id_mplace", "社区活动室")
    submit(staff, "#new-meeting button")
    submit(staff, "#add-agenda button")
    expect(staff.locator("[data-agenda]")).to_have_count(1)
    meeting_url = staff.url

    # The neighbour registers; at the door the committee checks him in.
    li.goto(f"{base}/participation/meetings/")
    submit(li, "[data-meeting] form button")
    expect(li.locator("[data-meeting] .badge")).to_have_text("已报名")
    staff.reload()
    submit(staff, "#attendance [data-registration] form button")
    expect(staff.locator("#attendance .badge")).to_have_text("已签到")

    # The meeting adopts it with a public answer and a tracked action.
    submit(staff, "#steps button[value=start]")
    form = staff.locator(".decide-form")
    form.locator("select[name=decision]").select_option("adopt")
    form.locator("textarea[name=answer]").fill("同意在东门安装4张座椅，由居委会负责。")
    form.locator("input[name=owner_name]").fill("刘主任")
    submit(staff, ".decide-form button")
    staff.fill("#id_minutes", "议定：东门安装4张座椅，一个月内完成。")
    submit(staff, "#minutes button[value=close]")
    expect(staff.locator("[data-status]")).to_have_text("已结束")
    shot(staff, "participation-meeting")

    # Progress to completion, with evidence.
    staff.goto(f"{base}/participation/proposals/{proposal.pk}/")
    staff.fill("#id_progress", "50")
    staff.fill("#id_note", "座椅已采购")
    submit(staff, "#progress-form button")
    expect(staff.locator("[data-progress]")).to_have_text("50%")
    staff.fill("#id_progress", "100")
    staff.fill("#id_evidence", "4张座椅已安装完毕。")
    submit(staff, "#progress-form button")
    expect(staff.locator("[data-status]")).to_have_text("已办结")

    # 王大妈 was told at each step, and evaluates the result.
    wang.goto(f"{base}/notifications/")
    expect(wang.locator("main")).to_contain_text("已办结")
    wang.goto(f"{base}/participation/proposals/{proposal.pk}/")
    wang.locator("#rating input[value='5']").check()
    submit(wang, "#rating button")
    expect(wang.locator("#rating")).to_contain_text("1 位居民评价，平均 5.0 分")
    shot(wang, "participation-evaluated")

    # Anyone, signed in or not, sees the decision and its progress.
    public = page_for(browser, base)
    public.goto(f"{base}/participation/decisions/")
    row = public.locator(f"[data-proposal='{proposal.pk}']")
    expect(row).to_contain_text("已办结")
    expect(row).to_contain_text("100%")
    assert meeting_url.startswith(f"{base}/participation/desk/meetings/")
