"""The dispatcher's queue (派单台): a returned case shows why, by whom and when it was returned,
and never offers the unit that refused it; filters and orders keep their state in the address;
checked cases are classified or dispatched at once, each on its own, with a summary naming those
left and why; bad input changes nothing; an unclassified card shows the classifier's choice with
"采用"."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from jiedao.cases import services
from jiedao.cases.models import Case, CaseEvent, Status
from jiedao.intelligence import selectors as intelligence_selectors
from jiedao.intelligence import services as intelligence_services
from tests.factories import make_user
from tests.intelligence.conftest import labelled, set_auto

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
EAST_LAKE = {"lat": 39.905, "lng": 116.405}  # 东湖社区 第一网格
WEST_GARDEN = {"lat": 39.915, "lng": 116.405}  # 西园社区 第一网格


@pytest.fixture(autouse=True)
def _chinese(in_chinese):
    """Pages and messages are read in Chinese."""


def new_case(street, text, *, category="010101", at=None, channel="portal", place=EAST_LAKE):
    """A case waiting in the queue, received ``at`` (now by default), classified unless ``category`` is None."""
    u = street.users
    at = at or timezone.now()
    if channel == "portal":
        case, _ = services.submit_case(u.resident, channel="portal", description=text, at=at, **place)
    else:
        case, _ = services.submit_case(
            u.operator, channel=channel, description=text, reporter_phone="13700001111", at=at, **place
        )
    if category:
        services.classify(u.dispatcher, number=case.number, category_code=category, at=at)
    return case.number


def returned(street, number, handler, reason, *, at=None, unit=None):
    """Dispatched (to ``unit`` or by the routing), then returned by ``handler``'s unit with ``reason``."""
    at = at or timezone.now()
    services.dispatch(street.users.dispatcher, number=number, unit_code=unit, at=at - dt.timedelta(minutes=30))
    services.return_case(handler, number=number, reason=reason, at=at)


def card(page, number):
    found = re.search(rf'<article class="card queue-item" data-case="{number}">.*?</article>', page, re.S)
    assert found, f"{number} is not on the page"
    return found.group(0)


def text_of(fragment):
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment))).strip()


def numbers_on(page):
    return re.findall(r'<article class="card queue-item" data-case="([^"]+)">', page)


def queue(client, **query):
    response = client.get(reverse("cases:dispatch"), query)
    assert response.status_code == 200
    return response.content.decode()


def state(number):
    """What a bulk action could have changed on a case."""
    case = Case.objects.get(number=number)
    return case.status, case.category_id, case.unit_id, case.events.count()


# --- a returned case ------------------------------------------------------------------------------


def test_a_returned_card_shows_the_reason_and_never_offers_the_refusing_unit(street, login):
    u = street.users
    number = new_case(street, "东湖小区北门垃圾桶满了没人清运")
    returned(street, number, u.handler_committee, "垃圾桶属物业管理，应由综合执法队督促")
    client = login(u.dispatcher)
    page = queue(client, tab="returned")
    item = card(page, number)
    shown = text_of(item)
    # The reason, who returned it and when, on the card itself.
    assert "退回理由：垃圾桶属物业管理，应由综合执法队督促" in shown
    back = CaseEvent.objects.get(case__number=number, action="return").at
    assert f"东湖社区居委会 · {timezone.localtime(back):%m-%d %H:%M} 退回" in shown
    # The big button is the routing's next choice, not the committee that refused it …
    assert "派给 综合执法队" in shown and "派给 东湖社区居委会" not in shown
    # … and the reassign list preselects that choice, marking the committee.
    assert re.search(r'<option value="ZHZF" selected>综合执法队</option>', item)
    assert re.search(r'<option value="JWH01" data-refused>东湖社区居委会（刚退回）</option>', item)
    # The case page says the same.
    case_page = client.get(reverse("cases:case", args=[number])).content.decode()
    assert "建议派给：综合执法队" in text_of(case_page)
    # One click sends it on by the routing, not back.
    response = client.post(
        reverse("cases:action", args=[number, "dispatch"]), {"next": "/cases/dispatch/?tab=returned"}
    )
    assert response.status_code == 302
    case = Case.objects.get(number=number)
    assert case.status == Status.DISPATCHED and case.unit == street.units.enforcement


def test_with_every_routing_choice_refused_nothing_is_preselected(street, login):
    u = street.users
    handler_service = make_user("handler_gg", "handler", unit=street.units.service)
    number = new_case(street, "西园新村3号楼屋顶渗水", category="010201", place=WEST_GARDEN)
    now = timezone.now()
    # 住房保障 goes to the housing group, which returns it; the street's default unit then does too.
    returned(street, number, u.handler_housing, "不是公房，应由产权单位维修", at=now - HOUR)
    returned(street, number, handler_service, "不属于公共服务部职责", at=now, unit="GGFW")
    client = login(u.dispatcher)
    item = card(queue(client, tab="returned"), number)
    shown = text_of(item)
    assert "退回理由：不属于公共服务部职责" in shown and "公共服务部 ·" in shown
    assert "data-dispatch" not in item
    assert "派单规则给出的单位已退回此工单，请手动选择单位。" in shown
    assert re.search(r'<option value="" selected>请选择承办单位</option>', item)
    assert " selected>" not in item.replace('<option value="" selected>', "")
    assert "公共服务部（刚退回）" in item and "区住建委派驻组（曾退回）" in item
    # Dispatching by the routing is refused with the reason; naming a unit sends it.
    before = state(number)
    refused = client.post(reverse("cases:action", args=[number, "dispatch"]), {})
    assert refused.status_code == 422 and "已退回此工单" in refused.content.decode()
    assert state(number) == before
    client.post(reverse("cases:action", args=[number, "dispatch"]), {"unit": "ZHZF"})
    assert Case.objects.get(number=number).unit == street.units.enforcement


# --- filters and orders ------------------------------------------------------------------------------


@pytest.fixture
def waiting(street):
    """Four classified cases: by portal in 东湖 30 h ago, by 12345 in 西园 3 h ago, by portal in
    西园 now (民政), and one by 12345 in 东湖 an hour ago."""
    now = timezone.now()
    return {
        "old": new_case(street, "东湖小区垃圾清运不及时", at=now - 30 * HOUR),
        "hotline": new_case(
            street, "西园北里楼道灯坏了", category="010102", at=now - 3 * HOUR, channel="12345", place=WEST_GARDEN
        ),
        "elderly": new_case(street, "西园新村独居老人需要助餐", category="020101", place=WEST_GARDEN),
        "recent": new_case(street, "东湖家园门口堆放杂物", at=now - HOUR, channel="12345"),
    }


def test_filters_narrow_the_tab_and_its_counts(street, login, waiting):
    client = login(street.users.dispatcher)
    everything = queue(client, tab="new")
    assert set(numbers_on(everything)) == set(waiting.values())
    assert re.search(r'data-tab="new"[^>]*>待派单 <span class="count" data-count>4</span>', everything)
    by_channel = queue(client, tab="new", channel="12345")
    assert set(numbers_on(by_channel)) == {waiting["hotline"], waiting["recent"]}
    assert re.search(r'data-tab="new"[^>]*>待派单 <span class="count" data-count>2</span>', by_channel)
    assert "已按条件筛选" in by_channel
    west = street.communities[1].code
    assert set(numbers_on(queue(client, tab="new", community=west))) == {waiting["hotline"], waiting["elderly"]}
    assert numbers_on(queue(client, tab="new", category="02")) == [waiting["elderly"]]
    assert set(numbers_on(queue(client, tab="new", waited="2h"))) == {waiting["old"], waiting["hotline"]}
    assert numbers_on(queue(client, tab="new", waited="24h")) == [waiting["old"]]
    both = queue(client, tab="new", channel="12345", community=west)
    assert numbers_on(both) == [waiting["hotline"]]


def test_the_filters_stay_in_the_address(street, login, waiting):
    client = login(street.users.dispatcher)
    page = queue(client, tab="new", channel="12345", sort="newest")
    # The form shows what was chosen; the tabs keep it; "清除筛选" drops the filters, not the order.
    assert re.search(r'<option value="12345" selected>', page)
    assert re.search(r'<option value="newest" selected>最新受理</option>', page)
    tab_link = html.unescape(re.search(r'<a href="([^"]+)" data-tab="unclassified"', page).group(1))
    assert "channel=12345" in tab_link and "sort=newest" in tab_link and "tab=unclassified" in tab_link
    clear = html.unescape(re.search(r'<a class="btn btn-secondary" href="([^"]+)" data-clear-filters', page).group(1))
    assert "channel" not in clear and "sort=newest" in clear
    # A card's action comes back to the same filtered list.
    item = card(page, waiting["hotline"])
    assert html.unescape(re.search(r'name="next" value="([^"]+)"', item).group(1)) == html.unescape(
        re.search(r'<form id="bulk"[^>]*>.*?name="next" value="([^"]+)"', page, re.S).group(1)
    )
    assert "channel=12345" in html.unescape(re.search(r'name="next" value="([^"]+)"', item).group(1))


def test_sorting(street, login, waiting):
    client = login(street.users.dispatcher)
    oldest = [waiting[k] for k in ("old", "hotline", "recent", "elderly")]
    assert numbers_on(queue(client, tab="new")) == oldest
    assert numbers_on(queue(client, tab="new", sort="oldest")) == oldest
    assert numbers_on(queue(client, tab="new", sort="newest")) == oldest[::-1]


def test_returned_cases_by_time_waited_and_by_returns(street, login):
    u = street.users
    now = timezone.now()
    # Received two days ago but returned just now; received ten hours ago and returned eight hours ago.
    early = new_case(street, "东湖小区门口垃圾堆放", at=now - 48 * HOUR)
    later = new_case(street, "东湖家园草坪垃圾", at=now - 10 * HOUR)
    twice = new_case(street, "湖光里垃圾桶破损", at=now - 5 * HOUR)
    returned(street, early, u.handler_committee, "不属于本社区", at=now - dt.timedelta(minutes=1))
    returned(street, later, u.handler_committee, "不属于本社区", at=now - 8 * HOUR)
    returned(street, twice, u.handler_committee, "不属于本社区", at=now - 4 * HOUR)
    returned(street, twice, u.handler, "应由居委会处理", at=now - 3 * HOUR, unit="ZHZF")
    client = login(u.dispatcher)
    assert numbers_on(queue(client, tab="returned", sort="oldest")) == [early, later, twice]
    # 最久等待: since the last return.
    assert numbers_on(queue(client, tab="returned", sort="waiting")) == [later, twice, early]
    assert numbers_on(queue(client, tab="returned", sort="returns"))[0] == twice
    assert numbers_on(queue(client, tab="returned", waited="2h")) == [later, twice]
    assert "已等待" in text_of(card(queue(client, tab="returned"), later))


def test_bad_filters_are_said_and_never_fail(street, login, waiting):
    client = login(street.users.dispatcher)
    for query in (
        {"channel": "nope"},
        {"sort": "zzz"},
        {"waited": "3d"},
        {"community": "<b>东湖</b>"},
        {"category": "x" * 5000},
        {"page": "abc"},
        {"page": "-5"},
        {"page": "99999999999999999999"},
        {"tab": "everything"},
    ):
        response = client.get(reverse("cases:dispatch"), query)
        assert response.status_code == 200, query
    page = queue(client, channel="nope")
    assert "选择一个有效的选项" in page  # said by its field; the list is not filtered
    assert set(numbers_on(page)) == set(waiting.values())


# --- bulk ------------------------------------------------------------------------------------------


def bulk(client, action, numbers, **fields):
    url = reverse("cases:dispatch_bulk_classify" if action == "classify" else "cases:dispatch_bulk_dispatch")
    response = client.post(url, {"numbers": numbers, "next": "/cases/dispatch/?tab=new", **fields}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/cases/dispatch/?tab=new"
    return [str(m) for m in response.context["messages"]]


def test_bulk_dispatch_sends_the_routable_and_names_the_rest(street, login):
    u = street.users
    street.street.default_unit = None  # no default unit: a category without a rule goes nowhere
    street.street.save()
    routable = [
        new_case(street, "东湖小区垃圾没人清运"),
        new_case(street, "西园北里路灯不亮", category="010102", place=WEST_GARDEN),
        new_case(street, "西园新村屋顶渗水", category="010201", place=WEST_GARDEN),
    ]
    nowhere = new_case(street, "独居老人需要助餐", category="020101")
    unclassified = new_case(street, "说不清归谁管的事", category=None)
    untouched = {n: state(n) for n in (nowhere, unclassified)}
    said = bulk(login(u.dispatcher), "dispatch", [*routable, nowhere, unclassified])
    assert said == [
        f"已派 3 张，2 张未派：{nowhere} 没有派单规则匹配此工单，请手动选择承办单位。；"
        f"{unclassified} 派单前请先选择分类。"
    ]
    units = {n: Case.objects.get(number=n).unit.code for n in routable}
    assert units == {routable[0]: "JWH01", routable[1]: "ZHZF", routable[2]: "ZJ"}
    assert all(Case.objects.get(number=n).status == Status.DISPATCHED for n in routable)
    assert {n: state(n) for n in untouched} == untouched


def test_bulk_dispatch_to_one_unit_and_never_back_to_the_refusing_one(street, login):
    u = street.users
    first = new_case(street, "东湖小区垃圾没人清运")
    second = new_case(street, "东湖家园垃圾桶满了")
    returned(street, second, u.handler_committee, "应由综合执法队处理")
    client = login(u.dispatcher)
    # By the routing: the first to the committee, the returned one on to the next choice.
    assert bulk(client, "dispatch", [first, second]) == ["已派 2 张。"]
    assert Case.objects.get(number=first).unit.code == "JWH01"
    assert Case.objects.get(number=second).unit.code == "ZHZF"
    third, fourth = new_case(street, "湖光里垃圾"), new_case(street, "东湖路垃圾")
    assert bulk(client, "dispatch", [third, fourth], unit="GGFW") == ["已派 2 张。"]
    assert {Case.objects.get(number=n).unit.code for n in (third, fourth)} == {"GGFW"}


def test_bulk_classify(street, login):
    u = street.users
    numbers = [new_case(street, "路灯不亮", category=None), new_case(street, "井盖松动", category=None)]
    said = bulk(login(u.dispatcher), "classify", numbers, cat1="01", cat2="0101", cat3="010102")
    assert said == ["已分类 2 张。"]
    assert {Case.objects.get(number=n).category.code for n in numbers} == {"010102"}
    # Classified, they wait in 待派单 with their routing.
    page = queue(login(u.dispatcher), tab="new")
    assert set(numbers) <= set(numbers_on(page))


def test_bulk_with_a_case_already_gone_names_it(street, login):
    u = street.users
    waiting_case = new_case(street, "东湖小区垃圾没人清运")
    gone = new_case(street, "东湖家园垃圾桶满了")
    services.dispatch(u.dispatcher, number=gone)
    said = bulk(login(u.dispatcher), "dispatch", [waiting_case, gone, "JD000000000000"])
    assert said[0].startswith("已派 1 张，2 张未派：")
    assert gone in said[0] and "JD000000000000 工单不存在或您无权查看。" in said[0]


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("dispatch", {"numbers": []}, "请先勾选要处理的工单。"),
        ("classify", {}, "分类：请选择分类。"),
        ("classify", {"cat1": "01"}, "请选择最末一级分类"),
        ("classify", {"category": "999999"}, "分类代码“999999”不存在或已停用。"),
        ("dispatch", {"unit": "NOPE"}, "承办单位："),
        ("dispatch", {"numbers": ["<script>"]}, "工单编号“<script>”无效。"),
        ("dispatch", {"numbers": ["JD 2026"]}, "工单编号“JD 2026”无效。"),
        ("dispatch", {"numbers": [f"JD{n:012d}" for n in range(101)]}, "一次最多处理 100 张工单"),
    ],
)
def test_bad_bulk_input_changes_nothing(street, login, action, fields, message):
    u = street.users
    numbers = [new_case(street, "东湖小区垃圾没人清运", category=None), new_case(street, "东湖家园垃圾桶满了")]
    before = {n: state(n) for n in numbers}
    events = CaseEvent.objects.count()
    said = bulk(login(u.dispatcher), action, fields.pop("numbers", numbers), **fields)
    assert len(said) == 1 and message in said[0], said
    assert {n: state(n) for n in numbers} == before
    assert CaseEvent.objects.count() == events


def test_bulk_is_refused_to_those_who_may_not(street, login):
    u = street.users
    number = new_case(street, "东湖小区垃圾没人清运", category=None)
    before = state(number)
    resident = login(u.resident)
    assert resident.post(reverse("cases:dispatch_bulk_dispatch"), {"numbers": [number]}).status_code == 403
    leader = login(u.leader)
    assert (
        leader.post(reverse("cases:dispatch_bulk_classify"), {"numbers": [number], "category": "010101"}).status_code
        == 403
    )
    assert state(number) == before
    # The leader's queue offers dispatching, not classifying.
    page = queue(leader, tab="unclassified")
    assert "data-bulk-dispatch" in page and "data-bulk-classify" not in page


# --- the classifier's choice ---------------------------------------------------------------------------


@pytest.fixture
def trained(street, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    intelligence_selectors.forget()
    intelligence_selectors._cache["model"] = (None, None)
    texts, labels = labelled()
    version = intelligence_services.ModelVersion.objects.create(source="generated", requested_at=timezone.now())
    model = intelligence_services.train_version(version.pk, texts=texts, labels=labels)
    set_auto(False)  # the dispatcher decides: no case is classified at intake by the model
    yield model
    intelligence_selectors.forget()
    intelligence_selectors._cache["model"] = (None, None)


def test_an_unclassified_card_shows_the_models_choice_and_takes_it(street, login, trained):
    number = new_case(street, "东湖小区3号楼路灯不亮，晚上很黑", category=None)
    client = login(street.users.dispatcher)
    item = card(queue(client, tab="unclassified"), number)
    suggestion = re.search(r"data-model-suggestion=\"010102\".*?</div>", item, re.S)
    assert suggestion, item
    shown = text_of(suggestion.group(0))
    assert "城乡建设 / 城市建设和市政管理 / 城市公共设施" in shown and "承办单位：综合执法队" in shown
    percent = int(re.search(r"把握 (\d+)%", shown).group(1))
    top = intelligence_selectors.suggest("东湖小区3号楼路灯不亮，晚上很黑", k=1)[0]
    assert percent == round(top.probability * 100)
    form = re.search(r'<form method="post" action="([^"]+)" class="inline">.*?data-adopt', item, re.S)
    response = client.post(form.group(1), {"category": "010102", "next": "/cases/dispatch/?tab=unclassified"})
    assert response.status_code == 302
    assert Case.objects.get(number=number).category.code == "010102"
    assert number in numbers_on(queue(client, tab="new"))
