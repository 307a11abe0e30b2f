"""A small registry on the test street: two buildings in 东湖社区 (grids 1 and 2), one in
西园社区, households with persons, special-care tags, and helpers for files."""

import csv
import io
from types import SimpleNamespace

import pytest
from openpyxl import Workbook

from jiedao.registry import importing, services
from jiedao.registry.models import Building, Person
from jiedao.registry.validation import id_check_char


def make_id(birth="19480312", region="110105", seq="123"):
    """A resident identity number with a correct check character."""
    first17 = f"{region}{birth}{seq}"
    return first17 + id_check_char(first17)


def wrong_check(id_number):
    """The same number with a wrong check character."""
    last = id_number[-1]
    return id_number[:-1] + ("1" if last != "1" else "2")


def xlsx_bytes(headers, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers, rows, encoding="utf-8-sig"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


PERSON_HEADERS = [
    "姓名",
    "身份证号",
    "性别",
    "出生日期",
    "手机号",
    "户编号",
    "楼栋编码",
    "单元",
    "楼层",
    "房号",
    "与户主关系",
    "居住状态",
    "关怀标签",
    "备注",
]


def person_row(
    name,
    id_number,
    phone="",
    building="B11",
    unit="1",
    room="101",
    relation="",
    tags="",
    floor="1",
    gender="",
    birth="",
):
    return [name, id_number, gender, birth, phone, "", building, unit, floor, room, relation, "", tags, ""]


@pytest.fixture(autouse=True)
def _chinese(in_chinese):
    """Messages are checked in Chinese, whatever language an earlier request switched to."""


@pytest.fixture
def registry(street):
    """Buildings B11 (grid 1 of 东湖), B12 (grid 2 of 东湖), B21 (grid 1 of 西园); three
    households; five persons, three of them special-care."""
    services.ensure_default_tags()
    g11, g12, g21, _g22 = street.grids
    c1, c2 = street.communities
    admin = street.users.admin
    b11 = Building.objects.create(
        code="B11", name="东湖家园1号楼", address="东湖路1号", community=c1, grid=g11, lat=39.905, lng=116.405
    )
    b12 = Building.objects.create(
        code="B12", name="东湖家园2号楼", address="东湖路2号", community=c1, grid=g12, lat=39.905, lng=116.415
    )
    b21 = Building.objects.create(
        code="B21", name="西园新村1号楼", address="西园路1号", community=c2, grid=g21, lat=39.915, lng=116.405
    )
    rows = [
        person_row(
            "张桂兰", make_id("19400101", seq="022"), "13812345678", "B11", "1", "101", "户主", "独居老人、慢性病"
        ),
        person_row("李建国", make_id("19520202", seq="031"), "13912345678", "B11", "1", "102", "户主", "低保"),
        person_row("李小明", make_id("19850505", seq="051"), "13712345678", "B11", "1", "102", "子女"),
        person_row("王秀英", make_id("19450303", seq="042"), "13612345678", "B12", "2", "201", "户主", "空巢老人"),
        person_row("赵强", make_id("19900909", seq="091"), "13512345678", "B21", "1", "301", "户主"),
    ]
    importing.import_file(
        admin, kind="persons", file=xlsx_bytes(PERSON_HEADERS, rows), source="公安人口库", filename="seed.xlsx"
    )
    people = {p.name: p for p in Person.objects.all()}
    return SimpleNamespace(
        buildings=SimpleNamespace(b11=b11, b12=b12, b21=b21), people=people, rows=rows, grids=street.grids
    )
