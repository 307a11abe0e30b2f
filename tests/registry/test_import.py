"""Importing the sheets street offices keep: all or nothing, row-by-row errors, and a
second source merging into the same person instead of duplicating them."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.registry import importing, selectors, services, sheets
from jiedao.registry.models import (
    Building,
    House,
    Household,
    ImportRun,
    MergeConflict,
    Person,
    PersonTag,
)

from .conftest import PERSON_HEADERS, csv_bytes, make_id, person_row, wrong_check, xlsx_bytes


def test_a_file_with_bad_rows_writes_nothing_and_reports_each_row(registry, street):
    before = (Person.objects.count(), Household.objects.count(), House.objects.count(), PersonTag.objects.count())
    good = make_id("19600101", seq="013")
    rows = [
        person_row("周新", good, "13811112222", "B11", "3", "303", "户主", "独居老人"),  # row 2: fine
        person_row("吴错", wrong_check(make_id("19700101", seq="015")), "13811113333"),  # row 3: check digit
        person_row("郑号", make_id("19710101", seq="017"), "12345"),  # row 4: phone
        person_row("", make_id("19720101", seq="019"), "", "B99", "1", "101"),  # row 5: name, building
        person_row("钱标", make_id("19730101", seq="021"), "", tags="不存在的标签"),  # row 6: tag
        person_row("孙重", good),  # row 7: same person as row 2
    ]
    with pytest.raises(ValidationFailed) as caught:
        importing.import_file(
            street.users.admin,
            kind="persons",
            file=xlsx_bytes(PERSON_HEADERS, rows),
            source="社区走访",
            filename="bad.xlsx",
        )
    errors = {(e["row"], e["column"]) for e in caught.value.errors}
    assert errors == {(3, "身份证号"), (4, "手机号"), (5, "姓名"), (5, "楼栋编码"), (6, "关怀标签"), (7, "身份证号")}
    fields = {e["field"]: e["message"] for e in caught.value.errors}
    assert "校验位错误" in fields["第3行 身份证号"]
    assert "第2行" in fields["第7行 身份证号"]
    # Nothing written: not even row 2, which was fine.
    after = (Person.objects.count(), Household.objects.count(), House.objects.count(), PersonTag.objects.count())
    assert after == before
    assert not Person.objects.filter(name="周新").exists()
    run = ImportRun.objects.get(filename="bad.xlsx")
    assert run.state == ImportRun.State.REFUSED and len(run.errors) == 6
    # The kept report names rows and rules, never the numbers themselves.
    assert good not in str(run.errors) and "13811113333" not in str(run.errors)


def test_a_clean_file_creates_houses_households_heads_and_tags(registry, street):
    head = make_id("19580808", seq="033")
    rows = [
        person_row("周大海", head, "13822223333", "B12", "1", "502", "户主", "慢性病、低保", floor="5"),
        person_row("冯小梅", make_id("19600606", seq="044"), "", "B12", "1", "502", "配偶"),
    ]
    run = importing.import_file(
        street.users.admin,
        kind="persons",
        file=csv_bytes(PERSON_HEADERS, rows),
        source="民政低保名册",
        filename="family.csv",
    )
    assert run.state == ImportRun.State.DONE
    assert run.counts["created"] == 2 and run.counts["households_created"] == 1
    zhou = Person.objects.get(name="周大海")
    assert zhou.household.head == zhou
    assert zhou.household.house.floor == 5
    assert zhou.gender == "male" and zhou.birth_date.isoformat() == "1958-08-08"  # taken from the number
    assert {t.name for t in zhou.tags.all()} == {"慢性病", "低保"}
    assert zhou.sources["phone"]["source"] == "民政低保名册"
    assert Person.objects.get(name="冯小梅").household == zhou.household


def test_a_gbk_csv_from_excel_is_read(registry, street):
    rows = [person_row("陈阿婆", make_id("19380303", seq="046"), "", "B21", "1", "101", "户主")]
    importing.import_file(
        street.users.admin,
        kind="persons",
        file=csv_bytes(PERSON_HEADERS, rows, encoding="gb18030"),
        source="社区走访",
        filename="gbk.csv",
    )
    assert Person.objects.filter(name="陈阿婆").exists()


def test_a_second_source_merges_into_the_same_person(registry, street):
    zhang = registry.people["张桂兰"]
    id_number = zhang.id_number
    first_confirmed = zhang.sources["name"]["at"]
    rows = [
        # Same name (confirmed), a different phone (conflict), a note where there was none (filled).
        ["张桂兰", id_number.lower(), "", "", "13999998888", "", "", "", "", "", "", "", "", "行动不便"],
    ]
    run = importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(PERSON_HEADERS, rows),
        source="社区走访",
        filename="visit.xlsx",
    )
    assert run.counts == {**run.counts, "created": 0, "updated": 1, "conflicts": 1}
    assert Person.objects.filter(name="张桂兰").count() == 1
    zhang.refresh_from_db()
    assert zhang.phone == "13812345678"  # the differing value is kept for now
    assert zhang.note == "行动不便" and zhang.sources["note"]["source"] == "社区走访"
    assert zhang.sources["name"]["at"] > first_confirmed  # equal value: confirmation refreshed
    assert zhang.sources["name"]["source"] == "公安人口库" and zhang.sources["name"]["by"] == "社区走访"
    conflict = MergeConflict.objects.get(person=zhang)
    assert (conflict.field, conflict.current_value, conflict.incoming_value, conflict.source) == (
        "phone",
        "13812345678",
        "13999998888",
        "社区走访",
    )

    # Importing the same file again lists the disagreement once.
    importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(PERSON_HEADERS, rows),
        source="社区走访",
        filename="visit.xlsx",
    )
    assert MergeConflict.objects.filter(person=zhang, choice="").count() == 1

    # A person decides: take the new phone. The blind index follows, so lookup by phone works.
    services.resolve_conflict(street.users.grid, conflict_id=conflict.pk, choice="take")
    zhang.refresh_from_db()
    assert zhang.phone == "13999998888" and zhang.sources["phone"]["source"] == "社区走访"
    found, _cursor = selectors.person_list(street.users.admin, q="13999998888")
    assert [p.pk for p in found] == [zhang.pk]
    conflict.refresh_from_db()
    assert conflict.choice == "take" and conflict.decided_by == street.users.grid


def test_keeping_the_current_value_confirms_it(registry, street):
    li = registry.people["李建国"]
    rows = [["李建国", li.id_number, "", "", "13700001111", "", "", "", "", "", "", "", "", ""]]
    importing.import_file(
        street.users.admin, kind="persons", file=xlsx_bytes(PERSON_HEADERS, rows), source="社区走访", filename="x.xlsx"
    )
    conflict = MergeConflict.objects.get(person=li)
    services.resolve_conflict(street.users.admin, conflict_id=conflict.pk, choice="keep")
    li.refresh_from_db()
    assert li.phone == "13912345678"
    assert "admin" in li.sources["phone"]["by"]
    with pytest.raises(Exception) as again:
        services.resolve_conflict(street.users.admin, conflict_id=conflict.pk, choice="take")
    assert "已由" in str(again.value)


def test_only_people_of_the_place_decide_a_conflict(registry, street):
    zhao = registry.people["赵强"]  # 西园社区 grid 1: grid_other's grid
    rows = [["赵强", zhao.id_number, "", "", "13700002222", "", "", "", "", "", "", "", "", ""]]
    importing.import_file(
        street.users.admin, kind="persons", file=xlsx_bytes(PERSON_HEADERS, rows), source="社区走访", filename="y.xlsx"
    )
    conflict = MergeConflict.objects.get(person=zhao)
    with pytest.raises(NotAllowed):
        services.resolve_conflict(
            street.users.grid, conflict_id=conflict.pk, choice="take"
        )  # grid worker of 东湖 grids
    with pytest.raises(NotAllowed):
        services.resolve_conflict(street.users.leader, conflict_id=conflict.pk, choice="take")
    services.resolve_conflict(street.users.grid_other, conflict_id=conflict.pk, choice="take")


def test_a_different_household_head_is_a_conflict_not_a_silent_change(registry, street):
    xiaoming = registry.people["李小明"]
    rows = [["李小明", xiaoming.id_number, "", "", "", "", "B11", "1", "", "102", "户主", "", "", ""]]
    importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(PERSON_HEADERS, rows),
        source="社区走访",
        filename="head.xlsx",
    )
    household = xiaoming.household
    household.refresh_from_db()
    assert household.head == registry.people["李建国"]
    conflict = MergeConflict.objects.get(person=xiaoming, field="household_head")
    services.resolve_conflict(street.users.admin, conflict_id=conflict.pk, choice="take")
    household.refresh_from_db()
    xiaoming.refresh_from_db()
    assert household.head == xiaoming and xiaoming.relation == "head"


def test_households_and_buildings_import(registry, street):
    g12 = street.grids[1]
    buildings = xlsx_bytes(
        [c.header for c in sheets.BUILDING_COLUMNS],
        [
            ["B13", "东湖家园3号楼", "东湖路3号", "东湖社区", "", 39.905, 116.415, 6, "grid"],  # grid found by position
            ["B11", "东湖家园1号楼", "东湖路1号", "11010500101", "", "", "", "", ""],
        ],
    )
    run = importing.import_file(
        street.users.admin, kind="buildings", file=buildings, source="住建房屋库", filename="b.xlsx"
    )
    assert run.counts["created"] == 1 and run.counts["confirmed"] == 1
    b13 = Building.objects.get(code="B13")
    assert b13.grid == g12 and b13.head == street.users.grid and b13.floors == 6

    head = make_id("19770707", seq="057")
    households = xlsx_bytes(
        [c.header for c in sheets.HOUSEHOLD_COLUMNS],
        [
            ["", "B13", "1", 2, "201", "出租", "林租客", head, "13566667777"],
            ["", "B13", "1", 3, "301", "空置", "", "", ""],
        ],
    )
    run = importing.import_file(
        street.users.admin, kind="households", file=households, source="社区走访", filename="h.xlsx"
    )
    assert run.counts["households_created"] == 2 and run.counts["houses_created"] == 2
    lin = Person.objects.get(name="林租客")
    assert lin.household.head == lin and lin.household.house.use == "rented"
    assert lin.household.number == "B13-1-201"


def test_buildings_refuse_unknown_places(registry, street):
    rows = xlsx_bytes(
        [c.header for c in sheets.BUILDING_COLUMNS],
        [
            ["B31", "某楼", "某路", "不存在社区", "", "", "", "", ""],
            ["B32", "某楼", "某路", "东湖社区", "1101050010201", "", "", "", "nobody"],
        ],
    )
    with pytest.raises(ValidationFailed) as caught:
        importing.import_file(street.users.admin, kind="buildings", file=rows, source="住建", filename="b.xlsx")
    assert {(e["row"], e["column"]) for e in caught.value.errors} == {(2, "社区"), (3, "网格编码"), (3, "楼栋长账号")}
    assert not Building.objects.filter(code__in=["B31", "B32"]).exists()


def test_missing_columns_and_wrong_files_are_refused(registry, street):
    with pytest.raises(ValidationFailed) as caught:
        importing.import_file(
            street.users.admin,
            kind="persons",
            file=xlsx_bytes(["姓名", "手机号"], [["张三", "13800001111"]]),
            source="x",
            filename="x.xlsx",
        )
    assert "身份证号" in caught.value.errors[0]["message"]
    with pytest.raises(ValidationFailed) as caught:
        importing.import_file(
            street.users.admin, kind="persons", file=b"not a spreadsheet", source="x", filename="x.xlsx"
        )
    assert "无法读取" in caught.value.errors[0]["message"]


def test_only_administrators_import(registry, street):
    with pytest.raises(NotAllowed):
        importing.import_file(
            street.users.leader, kind="persons", file=xlsx_bytes(PERSON_HEADERS, []), source="x", filename="x.xlsx"
        )


def test_the_downloadable_template_imports_once_filled(registry, street):
    workbook = load_workbook(io.BytesIO(sheets.template_workbook("persons")))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == [c.header for c in sheets.PERSON_COLUMNS]
    sheet.append(person_row("模板测试", make_id("19991231", seq="061"), "13500001234", "B21", "2", "202", "户主"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    importing.import_file(street.users.admin, kind="persons", file=buffer.getvalue(), source="模板", filename="t.xlsx")
    assert Person.objects.get(name="模板测试").household.house.building.code == "B21"


def test_progress_is_reported_while_checking_and_writing(registry, street):
    rows = [
        person_row(f"测试{i}", make_id("19800101", seq=f"{i:03d}"), "", "B21", "1", f"{100 + i}") for i in range(450)
    ]
    seen = []
    importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(PERSON_HEADERS, rows),
        source="批量",
        filename="big.xlsx",
        progress=lambda phase, done, total: seen.append((phase, done, total)),
    )
    assert ("check", 200, 450) in seen and ("check", 450, 450) in seen
    assert ("write", 400, 450) in seen and seen[-1] == ("write", 450, 450)


def test_a_large_file_on_the_page_is_queued_and_run_by_the_worker(registry, street, settings, tmp_path, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(importing, "SYNC_IMPORT_ROWS", 2)
    rows = [person_row(f"排队{i}", make_id("19810101", seq=f"{i:03d}"), "", "B21", "1", f"{200 + i}") for i in range(3)]
    upload = SimpleUploadedFile("queue.xlsx", xlsx_bytes(PERSON_HEADERS, rows))
    run = importing.start_import(street.users.admin, kind="persons", upload=upload, source="批量")
    assert run.state == ImportRun.State.QUEUED and not Person.objects.filter(name__startswith="排队").exists()
    stored = run.stored_file
    assert stored.startswith(str(tmp_path)) and "media" not in stored
    run = importing.run_queued_import(run.pk)
    assert run.state == ImportRun.State.DONE and run.done_rows == 3
    assert Person.objects.filter(name__startswith="排队").count() == 3
    assert run.stored_file == "" and not list(tmp_path.glob("imports/*"))


def test_a_large_file_sent_on_the_page_waits_in_the_queue_until_the_worker_imports_it(
    registry, street, settings, tmp_path, monkeypatch, login, django_capture_on_commit_callbacks
):
    settings.DATA_DIR = tmp_path
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(importing, "SYNC_IMPORT_ROWS", 2)
    rows = [person_row(f"候导{i}", make_id("19820202", seq=f"{i:03d}"), "", "B21", "2", f"{500 + i}") for i in range(3)]
    upload = SimpleUploadedFile("queue.xlsx", xlsx_bytes(PERSON_HEADERS, rows))
    with django_capture_on_commit_callbacks(execute=True):
        response = login(street.users.admin).post(
            reverse("registry:import"), {"kind": "persons", "file": upload, "source": "批量"}
        )
    run = ImportRun.objects.get(filename="queue.xlsx")
    assert response.status_code == 302 and response["Location"] == reverse("registry:import_run", args=[run.pk])
    assert run.state == ImportRun.State.QUEUED and not Person.objects.filter(name__startswith="候导").exists()

    queued = DBTaskResult.objects.get(status=TaskResultStatus.READY)
    assert queued.args_kwargs == {"args": [run.pk], "kwargs": {}}
    # What the worker does with the queued row: find the task by its path and run it.
    outcome = import_string(queued.task_path).call(*queued.args_kwargs["args"])
    assert outcome["state"] == ImportRun.State.DONE
    assert Person.objects.filter(name__startswith="候导").count() == 3


def test_an_import_queued_under_the_tasks_module_path_is_still_run(registry, street, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    stored = tmp_path / "waiting.xlsx"
    stored.write_bytes(
        xlsx_bytes(PERSON_HEADERS, [person_row("旧队列", make_id("19830303", seq="007"), "", "B21", "3", "601")])
    )
    run = ImportRun.objects.create(
        kind="persons",
        filename="waiting.xlsx",
        source="批量",
        user=street.users.admin,
        state=ImportRun.State.QUEUED,
        total_rows=1,
        stored_file=str(stored),
    )
    import_string("jiedao.registry.tasks.import_file_task").call(run.pk)
    run.refresh_from_db()
    assert run.state == ImportRun.State.DONE and Person.objects.filter(name="旧队列").exists()
    assert not stored.exists()
