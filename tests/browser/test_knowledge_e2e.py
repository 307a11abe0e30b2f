"""The knowledge base in a real headless Chromium: the operator finds 知识库 in the navigation,
adds an answer (a mistake first), finds it again with a caller's everyday words, corrects it, and
sees the history; the suggestions the intake page fetches carry the answer and its button."""

import pytest

from jiedao.knowledge.models import Article
from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_operator_keeps_and_finds_an_answer(live_server, street, vocabulary, browser):
    from playwright.sync_api import expect

    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()

    page.click("nav.mainnav >> text=知识库")
    expect(page.locator("h1")).to_have_text("知识库")
    page.click("text=新增")

    # A mistake: the answer is missing; nothing is written and the field says so.
    page.fill("#id_question", "老年人优待证办理地点和材料")
    page.click("button[type=submit]")
    expect(page.locator(".has-error .field-error")).to_have_text("请填写答复口径，即接线员答复群众的话。")
    expect(page.locator("#id_question")).to_have_value("老年人优待证办理地点和材料")
    assert Article.objects.count() == 0
    shot(page, "knowledge-new-errors")

    page.fill("#id_answer", "携带身份证和二寸照片到街道便民服务中心综合窗口办理。")
    page.select_option("#id_category", "020101")
    page.fill("#id_source", "《北京市老年人优待办法》")
    page.click("button[type=submit]")
    expect(page.locator(".msg-success")).to_contain_text("已新增知识条目")
    expect(page.locator("[data-answer-text]")).to_have_text("携带身份证和二寸照片到街道便民服务中心综合窗口办理。")

    # Found again by the word callers use.
    page.click(".crumbs >> text=知识库")
    page.fill("#kb-q", "老年证")
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("table.knowledge-list tbody tr")).to_have_count(1)
    shot(page, "knowledge-list")
    page.click("table.knowledge-list >> text=老年人优待证办理地点和材料")

    page.click("text=修改")
    page.fill("#id_answer", "携带身份证和二寸照片到街道便民服务中心综合窗口办理，当场发证。")
    page.click("button[type=submit]")
    expect(page.locator("[data-answer-text]")).to_contain_text("当场发证")
    expect(page.locator("#history li[data-version]")).to_have_count(2)
    expect(page.locator("#history li[data-version='2']")).to_contain_text("修改了：答复口径")
    shot(page, "knowledge-article")

    # What the intake page shows while the caller's words are typed.
    page.goto(f"{base}/knowledge/suggest/?q=我妈想办个老年证")
    item = page.locator("li.kb-item")
    expect(item).to_have_count(1)
    expect(item.locator("button.kb-use")).to_have_text("用此答复")
    answer = item.locator("button.kb-use").get_attribute("data-answer")
    assert answer == "携带身份证和二寸照片到街道便民服务中心综合窗口办理，当场发证。"
    context.close()
