"""GET /api/v1/duties and /api/v1/duties/{code}: the public list, searchable, with history."""

import pytest
from django.test import Client

from jiedao.duties import services

from .conftest import item

API = "/api/v1"


@pytest.fixture
def anonymous():
    return Client()


def codes(response):
    assert response.status_code == 200
    return [row["code"] for row in response.json()]


def test_the_list_needs_no_sign_in_and_holds_every_list(anonymous, duties):
    body = anonymous.get(f"{API}/duties").json()
    assert {row["code"]: row["current"]["list_type"] for row in body} == {
        "JD-001": "street",
        "JD-002": "community",
        "JD-003": "negative",
    }
    first = next(row["current"] for row in body if row["code"] == "JD-001")
    assert first["responsible_unit"] == {"code": "ZHZF", "name": "综合执法队"}
    assert first["basis_statute"] == "《城市市容和环境卫生管理条例》" and first["completion_workdays"] == 3
    assert first["power_type_label"] == "处罚" and first["level_label"] == "街道"


def test_search_by_a_problem_in_chinese(anonymous, duties):
    assert codes(anonymous.get(f"{API}/duties", {"q": "楼道堆物"}))[0] == "JD-002"
    assert codes(anonymous.get(f"{API}/duties", {"q": "航天发射"})) == []


def test_filters_by_category_and_unit(anonymous, duties):
    services.save_duty(
        duties.users.admin,
        code="JD-004",
        raw=item(name="路灯维修", responsible_unit="ZJ", collaborating_units=["ZHZF"]),
        reason="新增",
    )
    assert codes(anonymous.get(f"{API}/duties", {"category": "02"})) == ["JD-003"]
    assert codes(anonymous.get(f"{API}/duties", {"category": "010101"})) == ["JD-002"]
    assert codes(anonymous.get(f"{API}/duties", {"unit": "ZJ"})) == ["JD-004"]
    assert codes(anonymous.get(f"{API}/duties", {"unit": "ZHZF"})) == ["JD-001", "JD-004"]
    assert codes(anonymous.get(f"{API}/duties", {"unit": "ZHZF", "q": "路灯"})) == ["JD-004"]


def test_an_item_with_its_versions(anonymous, duties):
    services.save_duty(
        duties.users.admin,
        code="JD-001",
        raw=item(responsible_unit="ZJ", completion_workdays=2),
        reason="职责调整",
        approval_doc="示范街发〔2026〕3号",
    )
    body = anonymous.get(f"{API}/duties/JD-001").json()
    assert body["code"] == "JD-001" and body["current"]["number"] == 2
    assert [v["number"] for v in body["versions"]] == [2, 1]
    new, old = body["versions"]
    assert new["responsible_unit"]["code"] == "ZJ" and new["approval_doc"] == "示范街发〔2026〕3号"
    assert new["reason"] == "职责调整"
    assert old["responsible_unit"]["code"] == "ZHZF" and old["completion_workdays"] == 3


def test_an_unknown_item_is_a_404_with_a_message(anonymous, duties):
    response = anonymous.get(f"{API}/duties/NOPE-1")
    assert response.status_code == 404
    assert "NOPE-1" in response.json()["errors"][0]["message"]
