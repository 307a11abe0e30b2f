"""A shift at the 12345 desk in a real headless Chromium: ten calls — three answered from the
knowledge base, one repeat attached to the open case, one caller found by phone with their
history, five new cases — then five callbacks, one of them not reached. Clicks are counted: a
call takes a handful, never a hunt through pages."""

import pytest

from jiedao.cases import services
from jiedao.cases.models import Case, CaseEvent, Status
from jiedao.knowledge import services as knowledge
from jiedao.knowledge.models import ArticleUse
from tests.browser.test_case_loop_e2e import new_page, shot, sign_in

pytestmark = pytest.mark.browser

ANSWERS = {
    "elderly": ("老年人优待证办理地点和材料", "年满60周岁，带身份证和二寸照片到便民服务中心综合窗口办理。"),
    "residence": ("居住证办理", "在本市居住满半年，可以到便民服务中心申领居住证。"),
    "sorting": ("垃圾分类投放时间", "每天早上7点到9点、晚上6点到8点在小区投放点分类投放。"),
}
KNOWLEDGE_CALLS = [
    ("13700000001", "我妈想办个老年证，要带什么", "elderly"),
    ("13700000002", "外地来的，居住证在哪办", "residence"),
    ("13700000003", "垃圾分类几点可以扔", "sorting"),
]
NEW_CALLS = [
    ("13700000011", "东湖小区3号楼门口垃圾桶满了三天没人清运", "垃圾", "东湖小区3号楼"),
    ("13700000012", "东湖小区5号楼前路灯不亮，晚上很黑", "路灯", "东湖小区5号楼"),
    ("13700000013", "西园小区楼道堆满杂物，堵住了消防通道", "楼道", "西园小区2号楼"),
    ("13700000014", "独居老人家里没人照顾，需要帮助", "养老", "西园小区8号楼"),
    ("13700000015", "东湖小区北门路面有个大坑", "路面", "东湖小区北门"),
]
REPEAT_PHONE, HISTORY_PHONE = "13700000021", "13700000022"


class Clicks:
    """Counts what a person does with the mouse and the keyboard's Enter."""

    def __init__(self, page):
        self.page, self.count = page, 0

    def click(self, selector, **kwargs):
        self.count += 1
        self.page.click(selector, **kwargs)

    def check(self, selector):
        self.count += 1
        self.page.check(selector)


@pytest.fixture
def shift(street, vocabulary):
    """The desk's morning: answers in the knowledge base, an open case whose caller calls again,
    a caller with an earlier finished case, five cases answered by their units."""
    u = street.users
    for question, answer in ANSWERS.values():
        knowledge.save_article(u.operator, question=question, answer=answer)
    open_case, _ = services.submit_case(
        u.operator, channel="12345", description="东湖小区7号楼水管漏水", reporter_phone=REPEAT_PHONE
    )
    earlier, _ = services.submit_case(
        u.operator, channel="12345", description="去年反映过的井盖松动", reporter_phone=HISTORY_PHONE
    )
    services.settle(u.operator, number=earlier.number, outcome="advised", answer="已转物业。")
    waiting = []
    for n in range(5):
        case, _ = services.submit_case(
            u.resident, channel="portal", description=f"回访测试{n}号楼垃圾没人收", reporter_phone=f"1370000003{n}"
        )
        services.classify(u.dispatcher, number=case.number, category_code="010101")
        services.dispatch(u.dispatcher, number=case.number, unit_code=u.handler.unit.code)
        services.respond(u.handler, number=case.number)
        services.resolve(u.handler, number=case.number, result=f"已清运{n}号楼的垃圾。")
        waiting.append(case.number)
    return {"open": open_case, "earlier": earlier, "waiting": waiting}


def test_a_shift_at_the_desk(live_server, street, shift, browser):
    from playwright.sync_api import expect

    base = live_server.url
    page = new_page(browser)
    sign_in(page, base, "operator")
    me = Clicks(page)
    intake = f"{base}/cases/intake/"
    before = Case.objects.count()

    # 1–3. Consultations answered from the knowledge base: phone, words, "用此答复", register.
    for phone, words, key in KNOWLEDGE_CALLS:
        page.goto(intake)
        start = me.count
        page.fill("#id_reporter_phone", phone)
        page.fill("#id_description", words)
        item = page.locator("li.kb-item").first
        expect(item.locator(".kb-question")).to_have_text(ANSWERS[key][0])
        me.click("li.kb-item >> nth=0 >> button.kb-use")
        expect(page.locator("#id_answer")).to_have_value(ANSWERS[key][1])
        expect(page.locator("input[name=outcome][value=answered]")).to_be_checked()
        me.click("form.form button[type=submit].btn-big")
        expect(page.locator(".msg-success")).to_contain_text("已直接答复并办结")
        assert me.count - start <= 2
    shot(page, "desk-answered")
    assert ArticleUse.objects.filter(case__outcome="answered").count() == 3

    # 4. A repeat: the caller's open case shows as soon as the number is typed; attach to it.
    page.goto(intake)
    start = me.count
    page.fill("#id_reporter_phone", REPEAT_PHONE)
    history = page.locator("[data-caller-history]")
    expect(history).to_contain_text("这个号码以前反映过 1 件")
    expect(history).to_contain_text(shift["open"].number)
    page.fill("#id_description", "7号楼漏水还没人来修")
    me.check(f"[data-caller-history] input[name=attach_to][value='{shift['open'].number}']")
    me.click("form.form button[type=submit].btn-big")
    expect(page.locator(".msg-success")).to_contain_text("已并入原工单")
    assert me.count - start <= 2
    repeat = Case.objects.filter(master=shift["open"]).get()
    assert repeat.status == Status.MERGED

    # 5. A caller with history: seen before typing the matter, then a new case.
    page.goto(intake)
    page.fill("#id_reporter_phone", HISTORY_PHONE)
    expect(page.locator("[data-caller-history]")).to_contain_text(shift["earlier"].number)
    expect(page.locator("[data-caller-history]")).to_contain_text("已结案")
    shot(page, "desk-caller-history")
    page.fill("#id_description", "东湖小区2号楼井盖又松了")
    me.click("form.form button[type=submit].btn-big")
    expect(page.locator(".msg-success")).to_contain_text("已受理")

    # 6–10. New cases: the caller's words find the category; the address is typed.
    for phone, words, search, address in NEW_CALLS:
        page.goto(intake)
        start = me.count
        page.fill("#id_reporter_phone", phone)
        page.fill("#id_description", words)
        page.fill("input[name=catq]", search)
        page.press("input[name=catq]", "Enter")  # searches; never submits the call
        options = page.locator("select[name=catpick] option[value]:not([value=''])")
        expect(options.first).to_be_attached()
        page.select_option("select[name=catpick]", index=1)
        expect(page.locator(".picked")).to_be_visible()
        page.fill("#id_address", address)
        me.click("form.form button[type=submit].btn-big")
        expect(page.locator(".msg-success")).to_contain_text("工单编号")
        assert me.count - start <= 2
    shot(page, "desk-new-case")
    assert Case.objects.count() == before + 10
    registered = Case.objects.filter(description__in=[call[1] for call in NEW_CALLS])
    assert registered.count() == 5 and not registered.exclude(outcome="").exists()
    assert all(case.category_id and case.address for case in registered)

    # The callbacks: the unit's reply shown, the verdict entered in one form; one not reached.
    page.goto(f"{base}/cases/desk/")
    expect(page.locator("[data-count=callbacks]")).to_have_text("5")
    shot(page, "desk-callbacks")
    first = shift["waiting"][0]
    card = page.locator(f"[data-callback='{first}']")
    expect(card.locator("[data-reply]")).to_contain_text("已清运0号楼的垃圾。")
    me.click(f"[data-callback='{first}'] button[name=unreached]")
    expect(page.locator(".msg-info")).to_contain_text("回访未接通")
    for number in shift["waiting"][1:]:
        start = me.count
        card = f"[data-callback='{number}']"
        me.check(f"{card} input[name=resolved][value=yes]")
        me.check(f"{card} input[name=satisfaction][value=satisfied]")
        me.click(f"{card} button[name=rate]")
        expect(page.locator(".msg-success")).to_contain_text("回访评价已记录")
        assert me.count - start == 3
    expect(page.locator("[data-count=callbacks]")).to_have_text("0")
    expect(page.locator(f"[data-callback='{first}'] [data-attempts]")).to_have_text("已 1 次未接通")
    assert Case.objects.filter(number__in=shift["waiting"][1:], status=Status.CLOSED).count() == 4
    assert CaseEvent.objects.filter(case__number=first, action="unreached").count() == 1
