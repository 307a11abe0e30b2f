"""The pages of the responsibility list: the public lookup (no sign-in), an item with its
history, the measures from history, the administrators' import, and what the dispatcher
and the case page show about the list."""

import datetime as dt
import io
import re
from pathlib import Path

import polib
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

import jiedao
from jiedao.cases import services as case_services
from jiedao.cases.models import RoutingRule
from jiedao.duties import excel, selectors, services
from jiedao.duties.demo import KEYWORDS
from jiedao.duties.models import DutyItem, DutyVersion
from tests.factories import WEDNESDAY

from .conftest import REASON, item

SRC = Path(jiedao.__file__).resolve().parent
PO = SRC / "locale" / "en" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def public_list(duties):
    """The fixture list plus a street-lamp item worded the way the demo words it for residents."""
    services.save_duty(
        duties.users.admin,
        code="JD-005",
        raw=item(
            name="城市道路照明设施维护",
            categories=["010102"],
            responsible_unit="ZJ",
            collaborating_units=["ZHZF"],
            power_type="处置",
            full_enforcement=False,
            keywords=KEYWORDS["城市公共设施"],
            basis_statute="《城市道路照明设施管理规定》",
            basis_article="第五条",
            response_hours=4,
            completion_workdays=2,
            how_to="拨打12345或在居民网页上报，住建派驻组安排维修。",
        ),
        reason=REASON,
    )
    return duties


def section(html, element_id):
    match = re.search(rf'<section[^>]*id="{element_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match, f"no section #{element_id}"
    return match.group(1)


@pytest.mark.parametrize(
    "problem, code, unit",
    [
        ("楼道堆物", "JD-002", "问题所在社区的居委会"),
        ("路灯不亮", "JD-005", "区住建委派驻组"),
    ],
)
def test_a_resident_without_an_account_finds_who_is_responsible(client, public_list, problem, code, unit):
    response = client.get(reverse("duties:public"), {"q": problem})
    assert response.status_code == 200
    answer = section(response.content.decode(), "answer")
    version = DutyItem.objects.get(code=code).current
    assert "最可能负责的单位" in answer and unit in answer and version.name in answer
    assert reverse("duties:detail", args=[code]) in answer
    assert f"{version.completion_workdays} 个工作日内办结" in answer
    assert version.basis_statute in answer


def test_the_answer_says_how_to_get_it_handled(client, public_list):
    answer = section(client.get(reverse("duties:public"), {"q": "路灯不亮"}).content.decode(), "answer")
    assert "住建派驻组安排维修" in answer and "4 小时内联系您" in answer


def test_an_unknown_problem_says_so_and_points_to_the_portal(client, public_list):
    answer = section(client.get(reverse("duties:public"), {"q": "航天发射"}).content.decode(), "answer")
    assert "没有找到" in answer and reverse("web:portal") in answer


def test_the_list_is_grouped_and_explains_the_negative_list(client, public_list):
    html = client.get(reverse("duties:public")).content.decode()
    street_list, assist, negative = (section(html, s) for s in ("street-list", "assist-list", "negative-list"))
    assert 'data-code="JD-001"' in street_list and 'data-code="JD-005"' in street_list
    assert 'data-code="JD-002"' in assist and 'data-code="JD-002"' not in street_list
    assert 'data-code="JD-003"' in negative and 'data-code="JD-003"' not in street_list
    assert "不得下派给街道或社区" in negative and "区级部门" in negative
    # Each item: unit, collaborators, basis and limits.
    lamp = re.search(r'data-code="JD-005".*?</li>', street_list, re.S).group(0)
    for text in (
        "区住建委派驻组",
        "综合执法队",
        "《城市道路照明设施管理规定》 第五条",
        "响应 4 小时",
        "办结 2 个工作日",
    ):
        assert text in lamp
    assert reverse("duties:export") in html and reverse("duties:stats") in html
    assert reverse("duties:import") not in html  # only administrators see the import link


def test_filters_by_top_category_and_by_unit(client, public_list):
    civil = client.get(reverse("duties:public"), {"category": "02"}).context["versions"]
    assert [v.item.code for v in civil] == ["JD-003"]
    enforcement = client.get(reverse("duties:public"), {"unit": "ZHZF"}).context["versions"]
    # 综合执法队 hosts JD-001 and collaborates on JD-005.
    assert [v.item.code for v in enforcement] == ["JD-001", "JD-005"]


def _public_page_queries(client):
    client.get(reverse("duties:public"))  # the first request after a change reloads the cached list
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("duties:public"), {"q": "占道"})
    assert response.status_code == 200
    return len(queries), len(response.context["versions"])


def test_the_public_page_costs_the_same_number_of_queries_for_few_and_many_items(client, public_list):
    few, shown_few = _public_page_queries(client)
    for n in range(20):
        services.save_duty(
            public_list.users.admin,
            code=f"JD-1{n:02d}",
            raw=item(name=f"占道经营第{n}类", collaborating_units=["ZJ"]),
            reason=REASON,
        )
    many, shown_many = _public_page_queries(client)
    assert shown_many == shown_few + 20
    assert few == many


def test_everyone_has_the_list_in_the_navigation(client, public_list):
    assert reverse("duties:public") in client.get(reverse("web:home")).content.decode()
    client.force_login(public_list.users.handler)
    assert reverse("duties:public") in client.get(reverse("cases:workbench")).content.decode()


def test_the_page_works_in_elderly_mode(client, public_list):
    client.cookies["jiedao_elderly"] = "1"
    html = client.get(reverse("duties:public"), {"q": "楼道堆物"}).content.decode()
    assert '<body class="elderly duties-page' in html
    assert re.search(r'<div class="filters optional">', html)
    assert "问题所在社区的居委会" in section(html, "answer")


def test_detail_shows_the_current_version_and_every_earlier_one(client, public_list):
    services.save_duty(
        public_list.users.admin,
        code="JD-001",
        raw=item(name="占道经营的查处（调整）", responsible_unit="ZJ", completion_workdays=2, basis_article="第十五条"),
        reason="职责调整",
        approval_doc="示范街发〔2026〕3号",
    )
    response = client.get(reverse("duties:detail", args=["JD-001"]))
    assert response.status_code == 200
    html = response.content.decode()
    current = section(html, "current")
    assert "占道经营的查处（调整）" in current and "区住建委派驻组" in current and "第 2 版" in current
    assert "示范街发〔2026〕3号" in current and "职责调整" in current
    history = section(html, "history")
    rows = dict(re.findall(r'<tr data-version="(\d+)"[^>]*>(.*?)</tr>', history, re.S))
    assert set(rows) == {"1", "2"}
    first = rows["1"]
    assert "占道经营的查处" in first and "综合执法队" in first and "办结 3 个工作日" in first
    assert "第十四条" in first and REASON in first and "示范街发〔2025〕1号" in first
    assert "区住建委派驻组" in rows["2"] and "第十五条" in rows["2"]
    # The public sees no staff names; street staff see who made each change.
    assert "变更人" not in history
    client.force_login(public_list.users.dispatcher)
    assert "变更人" in section(client.get(reverse("duties:detail", args=["JD-001"])).content.decode(), "history")


def test_an_unknown_item_is_a_404(client, public_list):
    assert client.get(reverse("duties:detail", args=["NOPE-1"])).status_code == 404


def kpi(html, key):
    block = re.search(rf'data-kpi="{key}".*?class="kpi-value">([^<]*)<', html, re.S)
    return block.group(1).strip()


def test_stats_show_the_measures_from_history(client, duties):
    admin = duties.users.admin
    jan = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    for n in range(10, 20):
        services.save_duty(
            admin,
            code=f"OLD-{n}",
            raw=item(name=f"旧事项{n}", effective_from=dt.date(2024, 1, 1), full_enforcement=n % 2 == 0),
            reason=REASON,
            at=jan,
        )
    july = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    for n in range(10, 14):
        services.repeal_duty(admin, code=f"OLD-{n}", reason="精简", effective_to=dt.date(2025, 7, 1), at=july)
    before, after = dt.date(2025, 6, 30), dt.date(2025, 7, 2)
    response = client.get(reverse("duties:stats"), {"before": before.isoformat(), "after": after.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    count_before, count_after, share = selectors.reduction(before, after)
    enforcement = selectors.full_enforcement_share(after)
    assert kpi(html, "count_before") == str(count_before)
    assert kpi(html, "count_after") == str(count_after)
    assert kpi(html, "reduction") == f"{round(share * 100, 1)}%"
    assert kpi(html, "enforcement") == f"{round(enforcement * 100, 1)}%"
    assert kpi(html, "assist") == str(selectors.count_in_force(after, ("community",)))
    assert kpi(html, "negative") == str(selectors.count_in_force(after, ("negative",)))
    reduction_block = re.search(r'data-kpi="reduction".*?</div>', html, re.S).group(0)
    assert ("达标" in reduction_block) == (share >= 0.3)
    # The picture draws one bar per date, labelled with its count.
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert f">{count_before}</text>" in svg and f">{count_after}</text>" in svg


def test_stats_survive_a_bad_date(client, duties):
    assert client.get(reverse("duties:stats"), {"before": "昨天", "after": "2025-13-45"}).status_code == 200


def sheet(rows):
    workbook = Workbook()
    headers = [h for h, _f in excel.COLUMNS]
    workbook.active.append(headers)
    for row in rows:
        workbook.active.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "清单.xlsx"
    return buffer


GOOD = {
    "事项编码": "IMP-1",
    "事项名称": "违法建设查处",
    "清单类型": "街道权责清单",
    "权力类型": "处罚",
    "层级": "街道",
    "主办单位": "综合执法队",
    "对应工单分类": "010102",
    "设定依据": "《城乡规划法》",
    "条款": "第六十五条",
    "响应时限(小时)": 24,
    "办结时限(工作日)": 3,
    "完整执法权": "是",
    "生效日期": "2026-01-01",
}


def test_a_bad_file_shows_each_error_by_row_and_imports_nothing(client, street):
    client.force_login(street.users.admin)
    bad = sheet(
        [GOOD, {**GOOD, "事项编码": "IMP-2", "主办单位": "不存在的单位"}, {**GOOD, "事项编码": "IMP-3", "设定依据": ""}]
    )
    response = client.post(reverse("duties:import"), {"file": bad, "reason": "年度调整"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "没有导入任何事项" in html
    rows = re.findall(r'<tr data-row="(\d+)" data-field="(\w+)">(.*?)</tr>', html, re.S)
    found = {(row, field) for row, field, _cells in rows}
    assert found == {("3", "responsible_unit"), ("4", "basis_statute")}
    unit_row = next(cells for row, field, cells in rows if field == "responsible_unit")
    assert "第 3 行" in unit_row and "主办单位" in unit_row and "不存在的单位" in unit_row
    assert DutyVersion.objects.count() == 0


def test_a_good_file_shows_what_changed(client, duties):
    client.force_login(duties.users.admin)
    response = client.post(
        reverse("duties:import"), {"file": sheet([GOOD]), "reason": "年度调整", "approval_doc": "示范街发〔2026〕9号"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-count="created">1<', html) and re.search(r'data-count="unchanged">0<', html)
    assert DutyItem.objects.get(code="IMP-1").current.approval_doc == "示范街发〔2026〕9号"
    again = client.post(reverse("duties:import"), {"file": sheet([GOOD]), "reason": "核对"}).content.decode()
    assert re.search(r'data-count="unchanged">1<', again) and re.search(r'data-count="created">0<', again)


def test_the_import_asks_for_a_reason_and_offers_the_list_as_a_template(client, duties):
    client.force_login(duties.users.admin)
    page = client.get(reverse("duties:import")).content.decode()
    assert reverse("duties:export") in page and 'name="approval_doc"' in page
    response = client.post(reverse("duties:import"), {"file": sheet([GOOD]), "reason": ""})
    assert response.status_code == 422 and "请填写调整理由" in response.content.decode()
    assert not DutyItem.objects.filter(code="IMP-1").exists()


def test_only_administrators_import(client, duties):
    client.force_login(duties.users.dispatcher)
    assert client.get(reverse("duties:import")).status_code == 403
    assert client.post(reverse("duties:import"), {"file": sheet([GOOD]), "reason": "x"}).status_code == 403
    assert not DutyItem.objects.filter(code="IMP-1").exists()
    client.logout()
    assert client.get(reverse("duties:import")).status_code == 302


# --- the dispatcher and the case page ---------------------------------------------------


def new_case(street, category):
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="12345",
        description="企业咨询招商政策",
        reporter_phone="13800138000",
        category_code=category,
        at=WEDNESDAY,
    )
    return case


def test_the_dispatcher_sees_why_a_case_is_blocked_and_can_send_it_to_the_district(client, duties, district):
    case = new_case(duties, "020101")
    client.force_login(duties.users.dispatcher)
    html = client.get(reverse("cases:dispatch"), {"tab": "new"}).content.decode()
    block = re.search(rf'data-case="{case.number}".*?</article>', html, re.S).group(0)
    assert 'data-negative="JD-003"' in block
    assert (
        "负面清单" in block and "《关于街道职责准入的规定》 第三条" in block and "招商引资等职责不得下派街道" in block
    )
    assert re.search(r'<option value="QFGW" selected>区发展改革委</option>', block)
    assert "上报区级部门" in block
    # A street unit is not offered as the suggestion for this case.
    assert "派给 " not in block
    response = client.post(reverse("cases:action", args=[case.number, "dispatch"]), {"unit": "QFGW"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.unit == district and case.duty_version.item.code == "JD-003"


def test_the_case_page_offers_only_district_units_for_a_blocked_case(client, duties, district):
    case = new_case(duties, "020101")
    client.force_login(duties.users.dispatcher)
    html = client.get(reverse("cases:case", args=[case.number])).content.decode()
    form = re.search(r'<details class="action action-dispatch".*?</details>', html, re.S).group(0)
    assert "关于街道职责准入的规定" in form and "上报区级部门" in form
    assert re.findall(r'<option value="([^"]*)"', form) == ["QFGW"]


def test_the_case_page_shows_the_duty_item_version_that_routed_it(client, duties):
    RoutingRule.objects.update(active=False)
    case = case_services.dispatch(duties.users.dispatcher, number=new_case(duties, "010102").number, at=WEDNESDAY)
    services.save_duty(duties.users.admin, code="JD-001", raw=item(responsible_unit="ZJ"), reason="职责调整")
    client.force_login(duties.users.dispatcher)
    html = client.get(reverse("cases:case", args=[case.number])).content.decode()
    duty = re.search(r'<dd data-duty="JD-001">(.*?)</dd>', html, re.S).group(1)
    assert reverse("duties:detail", args=["JD-001"]) in duty and "占道经营的查处" in duty
    assert "第 1 版" in duty and "第 2 版" not in duty


# --- translations --------------------------------------------------------------------------


def _msgids(text):
    """The msgids of a template: {% translate %} strings and simple {% blocktranslate %} blocks."""
    found = set(re.findall(r"{% translate '([^']+)' %}", text)) | set(re.findall(r'{% translate "([^"]+)" %}', text))
    for body in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", text, re.S):
        singular = body.split("{% plural %}")[0]
        found.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", singular.replace("%", "%%")))
    return found


def test_every_string_of_the_list_pages_has_an_english_translation():
    catalogue = {entry.msgid: entry for entry in polib.pofile(str(PO))}
    strings = set()
    for path in (SRC / "duties" / "templates").rglob("*.html"):
        strings |= _msgids(path.read_text())
    for name in ("dispatch.html", "case.html", "_action_form.html"):
        strings |= {
            s
            for s in _msgids((SRC / "cases" / "templates" / "cases" / name).read_text())
            if "清单" in s or "区级" in s or "版" in s or "依据" in s
        }
    assert len(strings) > 60
    missing = sorted(s for s in strings if s not in catalogue or not catalogue[s].translated())
    assert missing == []


def test_stats_compare_the_first_list_with_today_by_default(client, duties):
    admin = duties.users.admin
    first = dt.datetime(2024, 3, 1, 1, 0, tzinfo=dt.UTC)
    for n in range(10, 14):
        services.save_duty(
            admin,
            code=f"OLD-{n}",
            raw=item(name=f"旧事项{n}", effective_from=dt.date(2024, 3, 1)),
            reason=REASON,
            at=first,
        )
    services.repeal_duty(
        admin, code="OLD-10", reason="精简", effective_to=dt.date(2025, 7, 1), at=dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    )
    context = client.get(reverse("duties:stats")).context
    assert context["before"] == dt.date(2024, 3, 1)
    assert context["count_before"] == selectors.count_in_force(dt.date(2024, 3, 1))
    assert context["count_after"] == selectors.count_in_force(context["after"])
