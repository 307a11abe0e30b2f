"""督办 in a real headless Chromium: the leader issues one on the case page (refused without a
reply deadline, then with it), the unit replies on the same page, the leader returns the reply
(refused without a reason, then with it and a new deadline), the unit replies again and the
leader accepts; the leader's overview lists the 督办 as accepted and counts it for the unit."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.workcal.calendar import SHANGHAI
from tests.browser.test_case_loop_e2e import new_page, shot, sign_in
from tests.cases.lifecycle import drive

pytestmark = pytest.mark.browser


def test_leader_supervises_and_the_unit_replies(live_server, street, browser):
    from playwright.sync_api import expect

    base = live_server.url
    case = drive(street, "in_progress")  # held by 东湖社区居委会 (handler_jwh)

    leader = new_page(browser)
    sign_in(leader, base, "leader")
    leader.goto(f"{base}/cases/{case.number}/")
    form = leader.locator("#action-supervise")
    form.locator("summary").click()
    form.locator("#id_supervise_note").fill("请于明天中午前说明清运安排")
    form.locator("[data-action=supervise]").click()
    # No deadline: refused on the field, nothing saved.
    expect(leader.locator("#action-supervise")).to_contain_text("请填写答复时限（日期和时间）。")
    due = (timezone.now() + dt.timedelta(days=1)).astimezone(SHANGHAI)
    leader.locator("#id_supervise_due").fill(due.strftime("%Y-%m-%dT%H:%M"))
    leader.locator("#id_supervise_note").fill("请于明天中午前说明清运安排")
    leader.locator("[data-action=supervise]").click()
    expect(leader.locator("[data-supervised]")).to_be_visible()
    expect(leader.locator("#supervisions")).to_contain_text("待答复")
    expect(leader.locator("#supervisions")).to_contain_text(due.strftime("%Y-%m-%d %H:%M"))
    shot(leader, "supervise-issued")

    handler = new_page(browser)
    sign_in(handler, base, "handler_jwh")
    handler.goto(f"{base}/cases/{case.number}/")
    expect(handler.locator("#supervisions")).to_contain_text("请于明天中午前说明清运安排")
    handler.locator("#id_supervise_reply_reply").fill("已联系环卫所，明早8点前清运完毕")
    handler.locator("[data-action=supervise_reply]").click()
    expect(handler.locator("#supervisions")).to_contain_text("待认可")
    expect(handler.locator("#supervisions")).to_contain_text("已联系环卫所，明早8点前清运完毕")
    expect(handler.locator("#action-supervise_reply")).to_have_count(0)
    expect(handler.locator("#action-supervise_accept")).to_have_count(0)
    shot(handler, "supervise-replied")

    # The leader returns the reply: a reason is required, then it waits again by the new deadline.
    leader.goto(f"{base}/cases/{case.number}/")
    form = leader.locator("#action-supervise_return")
    form.locator("summary").click()
    new_due = (timezone.now() + dt.timedelta(days=2)).astimezone(SHANGHAI)
    form.locator("#id_supervise_return_due").fill(new_due.strftime("%Y-%m-%dT%H:%M"))
    form.locator("[data-action=supervise_return]").click()
    expect(leader.locator("#action-supervise_return")).to_contain_text("退回重答必须填写理由。")
    leader.locator("#id_supervise_return_reason").fill("请写明清运车辆和到场时间")
    leader.locator("#id_supervise_return_due").fill(new_due.strftime("%Y-%m-%dT%H:%M"))
    leader.locator("[data-action=supervise_return]").click()
    expect(leader.locator("#supervisions")).to_contain_text("待答复")
    expect(leader.locator("#supervisions")).to_contain_text(new_due.strftime("%Y-%m-%d %H:%M"))
    expect(leader.locator("#supervisions")).to_contain_text("答复已被退回 1 次")

    handler.goto(f"{base}/cases/{case.number}/")
    handler.locator("#id_supervise_reply_reply").fill("明早7点环卫车到场，8点前清运完毕")
    handler.locator("[data-action=supervise_reply]").click()
    expect(handler.locator("#supervisions")).to_contain_text("待认可")

    leader.goto(f"{base}/cases/{case.number}/")
    leader.locator("#action-supervise_accept summary").click()
    leader.locator("[data-action=supervise_accept]").click()
    expect(leader.locator("#supervisions")).to_contain_text("已认可")
    expect(leader.locator("#action-supervise_accept")).to_have_count(0)
    shot(leader, "supervise-accepted")

    leader.goto(f"{base}/cases/overview/")
    row = leader.locator(f"#supervisions tr:has(a:text('{case.number}'))")
    expect(row).to_contain_text("已认可")
    expect(row).to_contain_text("明早7点环卫车到场")
    expect(leader.locator("[data-supervision-counts]")).to_contain_text("按时答复 1 件")
    unit_row = leader.locator("[data-supervision-units] tr[data-unit='东湖社区居委会'] td")
    expect(unit_row).to_have_text(["东湖社区居委会", "1", "1", "0", "0", "1", "1"])
