"""The registry's pages: who may open them, the import page with its error report and
template downloads, the conflicts page, and the navigation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiedao.registry import importing
from jiedao.registry.models import MergeConflict, Person

from .conftest import PERSON_HEADERS, make_id, person_row, wrong_check, xlsx_bytes
from .test_access import _sheet_text

# handler: a street section (综合执法队); handler_committee: 东湖社区居委会; handler_housing: a district
# department's stationed group, which keeps no base data.
READERS = {"admin", "leader", "dispatcher", "grid", "handler", "handler_committee"}
PAGES = {
    "registry:persons": READERS,
    "registry:assistance": READERS,
    "registry:visit": {"admin", "grid", "handler_committee"},
    "registry:conflicts": {"admin", "grid", "handler_committee"},
    "registry:import": {"admin"},
}
ROLES = [
    "admin",
    "operator",
    "dispatcher",
    "handler",
    "handler_committee",
    "handler_housing",
    "grid",
    "leader",
    "resident",
]


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_pages_open_only_for_their_roles(registry, street, login, page, role):
    response = login(getattr(street.users, role)).get(reverse(page))
    assert response.status_code == (200 if role in PAGES[page] else 403)


def test_signed_out_visitors_are_sent_to_sign_in(registry, client):
    response = client.get(reverse("registry:persons"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))


def test_navigation_shows_the_registry_to_its_roles(registry, street, login):
    page = login(street.users.grid).get(reverse("registry:persons")).content.decode()
    assert reverse("registry:assistance") in page and "一户一档" in page
    page = login(street.users.handler_housing).get(reverse("cases:workbench")).content.decode()
    assert reverse("registry:persons") not in page


def test_the_person_list_searches_by_name_and_filters_by_tag(registry, street, login):
    client = login(street.users.leader)
    page = client.get(reverse("registry:persons"), {"q": "李"}).content.decode()
    assert "李建国" in page and "李小明" in page and "张桂兰" not in page
    page = client.get(reverse("registry:persons"), {"tag": "subsistence"}).content.decode()
    assert "李建国" in page and "李小明" not in page


def test_the_person_list_runs_a_fixed_number_of_queries(registry, street, login):
    client = login(street.users.leader)
    client.get(reverse("registry:persons"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("registry:persons"))
    for index in range(30):
        Person.objects.create(name=f"加人{index}", household=registry.people["赵强"].household)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("registry:persons"))
    assert len(many) == len(few)


def test_the_person_and_household_pages_show_members_tags_sources_and_visits(registry, street, login):
    li = registry.people["李建国"]
    client = login(street.users.grid)
    page = client.get(reverse("registry:person", args=[li.pk])).content.decode()
    assert "李小明" in page and "低保" in page and "公安人口库" in page and "登记探访" in page
    page = client.get(reverse("registry:household", args=[li.household_id])).content.decode()
    assert "李建国" in page and "李小明" in page and "东湖家园1号楼" in page


def test_the_import_page_reports_each_bad_row_and_writes_nothing(registry, street, login):
    client = login(street.users.admin)
    before = Person.objects.count()
    upload = SimpleUploadedFile(
        "bad.xlsx",
        xlsx_bytes(
            PERSON_HEADERS,
            [
                person_row("好人", make_id("19660606", seq="081")),
                person_row("坏号", wrong_check(make_id("19660606", seq="083"))),
            ],
        ),
    )
    response = client.post(reverse("registry:import"), {"kind": "persons", "file": upload, "source": "社区走访"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "未写入任何数据" in page and "第3行" in page and "校验位错误" in page
    assert Person.objects.count() == before


def test_the_import_page_imports_a_clean_file_and_shows_what_it_did(registry, street, login):
    client = login(street.users.admin)
    upload = SimpleUploadedFile(
        "ok.csv",
        "\n".join(
            [
                ",".join(PERSON_HEADERS),
                ",".join(
                    person_row("新居民", make_id("19880808", seq="085"), "13800008888", "B21", "1", "701", "户主")
                ),
            ]
        ).encode("utf-8"),
    )
    response = client.post(reverse("registry:import"), {"kind": "persons", "file": upload, "source": ""}, follow=True)
    page = response.content.decode()
    assert "已完成" in page and "新建档案1人" in page
    person = Person.objects.get(name="新居民")
    assert person.sources["name"]["source"] == "ok.csv"  # no source given: the file's name


@pytest.mark.parametrize("kind", ["persons", "households", "buildings"])
def test_templates_download(registry, street, login, kind):
    response = login(street.users.admin).get(reverse("registry:template", args=[kind]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'registry-{kind}-template.xlsx"')


def test_the_conflicts_page_lists_and_decides(registry, street, login):
    zhang = registry.people["张桂兰"]
    importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(
            PERSON_HEADERS, [["张桂兰", zhang.id_number, "", "", "13999998888", "", "", "", "", "", "", "", "", ""]]
        ),
        source="社区走访",
        filename="x.xlsx",
    )
    conflict = MergeConflict.objects.get()
    client = login(street.users.grid)
    page = client.get(reverse("registry:conflicts")).content.decode()
    assert "张桂兰" in page and "139****8888" in page and "13999998888" not in page
    assert (
        login(street.users.grid_other).get(reverse("registry:conflicts")).content.decode().count("data-conflict=") == 0
    )
    client = login(street.users.grid)
    response = client.post(reverse("registry:decide", args=[conflict.pk]), {"choice": "take"})
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.phone == "13999998888"
    assert "没有待决定的冲突" in client.get(reverse("registry:conflicts")).content.decode()
    assert (
        login(street.users.grid_other)
        .post(reverse("registry:decide", args=[conflict.pk]), {"choice": "keep"})
        .status_code
        == 403
    )


def test_the_pages_speak_english_on_request(registry, street, login):
    client = login(street.users.admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("registry:person", args=[registry.people["张桂兰"].pk])).content.decode()
    assert "Show in full" in page and "Household members" in page and "Identity number" in page
    page = client.get(reverse("registry:assistance")).content.decode()
    assert "Visits per person per week" in page and "Export to Excel" in page


def test_a_conflict_decision_other_than_keep_or_take_decides_nothing(registry, street, login):
    zhang = registry.people["张桂兰"]
    importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(
            PERSON_HEADERS, [["张桂兰", zhang.id_number, "", "", "13999998888", "", "", "", "", "", "", "", "", ""]]
        ),
        source="社区走访",
        filename="x.xlsx",
    )
    conflict = MergeConflict.objects.get()
    client = login(street.users.grid)
    for sent in ({"choice": "maybe"}, {}):
        response = client.post(reverse("registry:decide", args=[conflict.pk]), sent, follow=True)
        assert "请选择“保留现有值”或“采用新来源的值”。" in response.content.decode()
    conflict.refresh_from_db()
    zhang.refresh_from_db()
    assert conflict.choice == "" and zhang.phone == "13812345678"


def test_showing_the_assistance_list_in_full_keeps_the_chosen_grids_and_tags(registry, street, login):
    zhang, wang = registry.people["张桂兰"], registry.people["王秀英"]
    g11, g12, _g21, _g22 = street.grids
    client = login(street.users.grid)
    page = client.post(reverse("registry:assistance"), {"grid": [g11.code, ""], "tag": [""]}).content.decode()
    assert zhang.id_number in page and "王秀英" not in page
    assert f'name="grid" value="{g11.code}" checked' in page
    page = client.post(reverse("registry:assistance"), {"grid": g12.code, "tag": "empty_nest"}).content.decode()
    assert wang.id_number in page and "张桂兰" not in page
    text = _sheet_text(client.post(reverse("registry:assistance_export"), {"grid": g12.code, "full": "1"}).content)
    assert wang.id_number in text and "张桂兰" not in text


def test_a_grid_outside_ones_area_is_named_on_the_assistance_page(registry, street, login):
    _g11, _g12, g21, _g22 = street.grids
    response = login(street.users.grid).post(reverse("registry:assistance"), {"grid": g21.code}, follow=True)
    assert f"网格“{g21.code}”不存在或不在您的范围内。" in response.content.decode()
