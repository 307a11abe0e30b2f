"""Operator intake in a real headless Chromium: suggestions and duplicate candidates appear
while typing (htmx, no inline script), and choosing a candidate attaches the new report."""

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_operator_sees_suggestions_and_attaches_a_repeat_report(live_server, street, trained, browser):
    from playwright.sync_api import expect

    from jiedao.cases import services as case_services
    from jiedao.cases.models import Case, Status

    existing, _ = case_services.submit_case(
        street.users.operator,
        channel="12345",
        description="东湖小区3号楼门口垃圾堆积没人清运，已经好几天了",
        reporter_phone="13812345678",
        grid_code=street.grids[0].code,
    )
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", street.users.operator.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/cases/intake/")
    page.select_option("#id_grid", street.grids[0].code)
    page.fill("#id_reporter_phone", "13900001111")
    page.type("#id_description", "3号楼门口垃圾堆积好几天没人清运")
    expect(page.locator("[data-suggestion]")).to_have_count(3)
    expect(page.locator("[data-suggestion]").first).to_contain_text("环境卫生")
    candidate = page.locator(f'[data-candidate="{existing.number}"] input[type=radio]')
    candidate.check()
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    new = Case.objects.exclude(pk=existing.pk).get()
    assert new.status == Status.MERGED and new.master_id == existing.pk
    context.close()
