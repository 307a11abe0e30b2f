"""The cockpit in a real headless Chromium: the counters and charts fill from the API,
clicking a counter opens the cases behind it, and the large screen is dark at 1920×1080."""

import pytest

from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def signed_in(browser, base, username, size):
    context = browser.new_context(locale="zh-CN", viewport=size)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    return page


def test_cockpit_and_large_screen(live_server, november, browser):
    from playwright.sync_api import expect

    from jiedao.evaluation import compute, periods

    from .conftest import MONTH_END

    for key in ("2026-10", "2026-11"):
        compute.compute_period(periods.parse(key), now=MONTH_END)
    # The worker last stored the hot issues two hours ago (it is late): the cockpit says so.
    import datetime as dt

    from django.utils import timezone

    from jiedao.evaluation import services
    from jiedao.evaluation.models import Snapshot

    services.store_hot_issues()
    Snapshot.objects.update(computed_at=timezone.now() - dt.timedelta(hours=2))
    errors = []
    page = signed_in(browser, live_server.url, "leader", {"width": 1400, "height": 1000})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/cockpit/")
    expect(page.locator("#cockpit[data-loaded='1']")).to_have_count(1)
    expect(page.locator('[data-counter="open"] .counter-value')).to_have_text("2")
    assert page.locator("[data-chart='rates'] canvas").count() == 1
    assert page.locator("[data-chart='categories'] canvas").count() == 1
    expect(page.locator("[data-list='hot'] [data-stale]")).to_contain_text("热点问题更新于")
    expect(page.locator("[data-map] .leaflet-heatmap-layer")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cockpit.png"), full_page=True)
    page.click('[data-counter="overdue"]')
    page.wait_for_url("**/evaluation/records/**")
    expect(page.locator("table.records")).to_contain_text(november.cases["C"].number)
    assert errors == []

    screen = signed_in(browser, live_server.url, "leader", {"width": 1920, "height": 1080})
    screen.goto(f"{live_server.url}/cockpit/screen/")
    expect(screen.locator("#cockpit[data-loaded='1']")).to_have_count(1)
    background = screen.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 17, 32)"
    assert screen.evaluate("document.documentElement.scrollHeight") <= 1080
    screen.screenshot(path=str(ARTIFACTS / "cockpit-screen.png"))
