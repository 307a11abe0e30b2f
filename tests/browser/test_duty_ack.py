"""The person on duty in a real headless Chromium: an emergency is reported while the handler is
first on the duty roster; the handler opens the link of their notification, presses the big
收到 button and sees the time it took; the board shows the emergency acknowledged."""

import datetime as dt

import pytest

from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def signed_in(browser, base, username):
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    return page


def test_the_person_on_duty_opens_the_link_and_presses_received(live_server, street, browser):
    from playwright.sync_api import expect

    from jiedao.emergency import services
    from jiedao.emergency.models import EmergencyEvent
    from jiedao.messaging.models import Notification

    u = street.users
    now = dt.datetime.now(dt.UTC)
    services.add_shift(
        u.dispatcher,
        person_id=u.handler.pk,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=11),
    )
    emergency = services.report_emergency(
        u.dispatcher,
        title="东湖路燃气泄漏",
        kind="gas",
        level="3",
        address="东湖路1号",
        at=now - dt.timedelta(seconds=70),
    )
    link = Notification.objects.get(user=u.handler, kind="emergency_duty").link
    base = live_server.url

    page = signed_in(browser, base, "handler")
    page.goto(f"{base}{link}")
    expect(page.locator("#ack")).to_contain_text("东湖路燃气泄漏")
    expect(page.locator("#ack")).to_contain_text("东湖路1号")
    button = page.get_by_role("button", name="收到（确认接警）")
    expect(button).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "emergency-ack.png"), full_page=True)
    button.click()
    page.wait_for_load_state()

    expect(page.locator("[data-ack=done]")).to_contain_text("确认接警")
    took = page.locator("[data-ack-time]").inner_text()
    assert took.endswith("秒") and "分" in took  # a minute and some seconds after the report
    expect(page.get_by_role("button", name="收到（确认接警）")).to_have_count(0)
    ack = EmergencyEvent.objects.get(emergency=emergency, action="ack")
    assert ack.actor == u.handler

    leader = signed_in(browser, base, "leader")
    leader.goto(f"{base}/emergency/")
    expect(leader.locator("#open-emergencies")).to_contain_text(f"已确认 {took}")
