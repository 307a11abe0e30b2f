"""街道通, the staff phone app, in a real headless Chromium with its service worker: the grid
worker's pages open without network, a report, a patrol check-in and a verification made
offline wait on the phone and are recorded once each when the network returns; one the server
refuses stays on the phone with the server's message; the same items sent again change nothing."""

import json

import pytest
from django.utils import timezone

from jiedao.cases.models import Case, CaseEvent, CasePhoto, Status
from jiedao.geo.models import PatrolCheckIn
from tests.browser.test_case_loop_e2e import new_page, shot, sign_in
from tests.browser.test_grid_shift import picture
from tests.cases.lifecycle import LAMPS, drive

pytestmark = pytest.mark.browser

WAITING = "已保存在手机上，联网后自动发送"
# Resolves once the page is run through the service worker.
CONTROLLED = """() => new Promise(resolve => {
    if (navigator.serviceWorker.controller) { resolve(true); }
    navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true));
})"""


def queued(page):
    return page.evaluate("JiedaoQueue.all().then(items => items.map(item => item.state))")


def test_manifest_and_service_worker_are_served_for_the_phone(client, street):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest["Content-Type"] == "application/manifest+json"
    data = json.loads(manifest.content)
    assert data["name"] == "街道通" and data["display"] == "standalone" and data["scope"] == "/"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes

    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/"
    assert "no-cache" in worker["Cache-Control"]
    assert "/static/web/app/queue.js" in worker.content.decode()

    # Installable from the staff pages only: a resident's page has no manifest.
    client.force_login(street.users.grid)
    assert 'rel="manifest"' in client.get("/grid/mine/").content.decode()
    client.force_login(street.users.resident)
    assert 'rel="manifest"' not in client.get("/portal/").content.decode()


def test_a_grid_worker_works_offline_and_everything_is_sent_once(live_server, street, browser):
    from playwright.sync_api import expect

    to_verify = drive(street, "verifying", category=LAMPS)
    base = live_server.url
    page = new_page(browser, mobile=True)
    context = page.context
    sign_in(page, base, "grid")

    # Online: the app installs its service worker, which keeps the grid worker's pages.
    page.goto(f"{base}/grid/mine/")
    page.evaluate(CONTROLLED)
    page.goto(f"{base}/grid/patrol/")
    expect(page.locator("[data-locate-status]")).to_contain_text("已定位")

    # The network goes away.
    context.set_offline(True)
    taken_before = timezone.now()
    page.click("[data-patrol=start]")
    expect(page.locator("[data-offline-summary]")).to_have_text(f"{WAITING}（1 条待发送）")
    expect(page.locator("[data-patrol=end]")).to_be_visible()  # the patrol goes on offline

    # The report page opens from the phone; an empty report and a real one are kept.
    page.goto(f"{base}/cases/grid-report/")
    expect(page.locator("#id_description")).to_be_visible()
    expect(page.locator("[data-offline-summary]")).to_contain_text("1 条待发送")
    page.click("form.form button[type=submit]")
    expect(page.locator("[data-offline-summary]")).to_have_text(f"{WAITING}（2 条待发送）")
    page.fill("#id_description", "楼道里堆满杂物，挡住消防通道")
    page.set_input_files("#id_photos", files=[picture("corridor.png")])
    page.click("[data-locate]")
    expect(page.locator("#id_lat")).not_to_have_value("")
    page.click("form.form button[type=submit]")
    expect(page.locator("[data-offline-summary]")).to_have_text(f"{WAITING}（3 条待发送）")

    # 核查 from 我的网格, opened from the phone too: the photo and the position on site.
    page.goto(f"{base}/grid/mine/")
    item = page.locator(f"article[data-case='{to_verify.number}']")
    item.locator("input[name=photos]").set_input_files(files=[picture("lamp.png")])
    item.locator("[data-locate]").click()
    expect(item.locator("[data-locate-status]")).to_contain_text("已定位")
    item.locator("[data-verify=pass]").click()
    expect(page.locator("[data-offline-summary]")).to_have_text(f"{WAITING}（4 条待发送）")
    expect(item.locator("[data-offline-queued]")).to_be_visible()
    shot(page, "offline-waiting")

    # Nothing has reached the server; all four wait on the phone.
    assert PatrolCheckIn.objects.count() == 0
    assert not Case.objects.filter(description__contains="消防通道").exists()
    to_verify.refresh_from_db()
    assert to_verify.status == Status.VERIFYING
    assert queued(page) == ["waiting"] * 4
    page.evaluate("JiedaoQueue.all().then(items => { window.sentBefore = items; })")  # for the replay below

    # The network returns: the queue is sent by itself.
    back_online = timezone.now()
    context.set_offline(False)
    expect(page.locator("[data-offline-item=sent]")).to_have_count(3)
    expect(page.locator("[data-offline-item=refused]")).to_have_count(1)
    shot(page, "offline-sent")
    refused = page.locator("[data-offline-item=refused]")
    expect(refused).to_contain_text("未被接受")
    expect(refused).to_contain_text("发现的问题")  # the server's message names the field

    checkin = PatrolCheckIn.objects.get()
    assert checkin.kind == PatrolCheckIn.Kind.START
    assert taken_before <= checkin.at < back_online  # when it was taken on the phone, not when sent
    report = Case.objects.get(description__contains="消防通道")
    assert report.photos.count() == 1
    expect(page.locator("[data-offline-item=sent]").filter(has_text=report.number)).to_have_count(1)
    to_verify.refresh_from_db()
    assert to_verify.status == Status.RATING
    assert CaseEvent.objects.filter(case=to_verify, action="verify_pass").count() == 1
    assert to_verify.photos.filter(kind=CasePhoto.Kind.VERIFY).count() == 1
    # The same four sent again under their keys (an answer lost on the way): nothing new.
    cases_before = Case.objects.count()
    replayed = page.evaluate("""async () => {
        for (const item of window.sentBefore) { await JiedaoQueue.add(item); }
        const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
        const user = document.querySelector("[data-offline-app]").dataset.offlineUser;
        const answers = [];
        await JiedaoQueue.flush(user, token, (item, outcome) => answers.push(outcome.state + " " + outcome.message));
        return answers;
    }""")
    assert len(replayed) == 4
    assert sum(answer.startswith("sent") for answer in replayed) == 3
    assert any(answer.startswith("sent") and report.number in answer for answer in replayed)
    assert PatrolCheckIn.objects.count() == 1
    assert Case.objects.count() == cases_before
    assert CaseEvent.objects.filter(case=to_verify, action="verify_pass").count() == 1

    # Only the refused one is left on the phone; it survives a reload until the worker removes it.
    assert queued(page) == ["refused"]
    page.reload()
    expect(page.locator("[data-offline-item=refused]")).to_contain_text("发现的问题")
    page.locator("[data-offline-item=refused] button").click()
    expect(page.locator("[data-offline-item=refused]")).to_have_count(0)
    assert queued(page) == []
