"""Excel import and export of the catalogue: all or nothing, errors by row."""

import io

from django.test import Client
from openpyxl import Workbook, load_workbook

from jiedao.hall import excel, services
from jiedao.hall.models import ServiceItem


def workbook(item_rows, material_rows):
    wb = Workbook()
    items = wb.active
    items.title = "事项"
    items.append([h for h, _f in excel.ITEM_COLUMNS])
    for row in item_rows:
        items.append(row)
    materials = wb.create_sheet("材料")
    materials.append([h for h, _f in excel.MATERIAL_COLUMNS])
    for row in material_rows:
        materials.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    buffer.name = "items.xlsx"
    return buffer


def item_row(code, name, unit="GGFW", statutory=20, promised=5, kind="公共服务"):
    return [
        code,
        "000",
        name,
        kind,
        "街道（乡镇）级",
        "民政事务",
        unit,
        "《条例》",
        "条件",
        statutory,
        promised,
        5,
        "不收费",
        "",
        "便民服务中心",
        "工作日",
        3,
        1,
        "是",
        "否",
        "自然人",
    ]


def test_export_then_import_round_trips(hall, street):
    data = Client().get("/hall/items.xlsx").content
    sheet = load_workbook(io.BytesIO(data))["材料"]
    rows = [list(r[:4]) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert ["11010500100001", 1, "居民身份证", "是"] in rows and len(rows) == 5
    items, materials = excel.read_workbook(io.BytesIO(data))
    counts = services.import_catalogue(street.users.admin, item_rows=items, material_rows=materials)
    assert counts == {"created": 0, "updated": 3, "materials": 5}


def test_one_bad_row_imports_nothing_and_names_the_row(hall, street):
    upload = workbook(
        [item_row("X001", "新办事项"), item_row("X002", "坏事项", unit="NOPE", promised=30)],
        [["X001", 1, "居民身份证", "是", "原件", "申请人自备", 1, "是", ""]],
    )
    client = Client()
    client.force_login(street.users.admin)
    response = client.post("/hall/import/", {"file": upload})
    assert response.status_code == 422
    page = response.content.decode()
    assert "第3行 unit" in page and "第3行 promised_days" in page
    assert not ServiceItem.objects.filter(code__startswith="X").exists()


def test_import_adds_items_with_materials(hall, street):
    upload = workbook(
        [item_row("X001", "新办事项")],
        [
            ["X001", 1, "居民身份证", "是", "原件", "申请人自备", 1, "是", ""],
            ["X001", 2, "照片", "否", "原件", "申请人自备", 2, "否", ""],
        ],
    )
    client = Client()
    client.force_login(street.users.admin)
    assert client.post("/hall/import/", {"file": upload}).status_code == 200
    item = ServiceItem.objects.get(code="X001")
    assert [(m.name, m.core, m.shared) for m in item.materials.all()] == [
        ("居民身份证", True, True),
        ("照片", False, False),
    ]
    assert Client().get("/hall/?q=新办").content.decode().count("新办事项") == 1


def test_only_administrators_import(hall, street):
    client = Client()
    client.force_login(street.users.operator)
    assert client.get("/hall/import/").status_code == 403
