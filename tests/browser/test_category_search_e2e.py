"""The category search on the operator's intake screen, in a real headless Chromium: everyday
words find the formal category, and Enter in the search box searches instead of registering the
half-filled call."""

import pytest

from jiedao.cases.models import Case
from jiedao.common.models import SearchTerm
from tests.browser.test_case_loop_e2e import new_page, sign_in

pytestmark = pytest.mark.browser


def test_enter_in_the_category_search_searches_and_registers_nothing(live_server, street, browser):
    from playwright.sync_api import expect

    SearchTerm.objects.update_or_create(word="老人", defaults={"terms": "养老服务"})
    page = new_page(browser)
    sign_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/cases/intake/")
    page.fill("#id_description", "独居老人家里没人照顾")
    search = page.locator("input[name=catq]")
    search.fill("独居老人")
    search.press("Enter")
    expect(page.locator("select[name=catpick] option[value='020101']")).to_have_count(1)
    expect(page.locator("select[name=catpick] option[value='020101']")).to_contain_text("养老服务")
    assert page.url.endswith("/cases/intake/")
    assert not Case.objects.exists()
    page.locator("select[name=catpick]").select_option("020101")
    expect(page.locator(".picked")).to_contain_text("民政 / 社会救助 / 养老服务")
