"""``jiedao import cases``: the two documented examples import as described, keep their
numbers and times, write their steps and ratings, count in the measures of their
months; a re-import changes nothing; bad rows are reported by line and stop the file;
``--dry-run`` writes nothing."""

import datetime as dt
import io
import itertools
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jiedao.cases import measures, states
from jiedao.cases import services as case_services
from jiedao.cases.models import Case, CaseEvent, CaseNumberCounter, Category, Rating
from jiedao.open311.importer import MappingError, import_cases, load_mapping
from jiedao.org.models import Street, Unit
from jiedao.workcal.calendar import SHANGHAI

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
SHEET, SHEET_MAP = EXAMPLES / "12345-cases.xlsx", EXAMPLES / "12345-mapping.yaml"
CSV, CSV_MAP = EXAMPLES / "311-requests.csv", EXAMPLES / "311-mapping.yaml"


def bj(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def run(path, mapping, dry_run=False):
    return import_cases(path, mapping, dry_run=dry_run, out=io.StringIO())


def counts():
    return Case.objects.count(), CaseEvent.objects.count(), Rating.objects.count(), Category.objects.count()


# --- the 12345-style Chinese sheet -------------------------------------------------------------


def test_the_12345_sheet_imports_with_original_numbers_times_and_steps(street):
    report = run(SHEET, SHEET_MAP)
    assert report.ok and report.created == 8 and report.unchanged == 0
    case = Case.objects.get(number="12345202603020001")
    assert case.channel == "12345" and case.status == "closed"
    assert case.unit.code == "ZHZF" and case.category.code == "010101"
    assert case.created_at == bj(2026, 3, 2, 9, 15)
    assert case.dispatched_at == bj(2026, 3, 2, 9, 40)
    assert case.responded_at == bj(2026, 3, 2, 10, 5)
    assert case.closed_at == case.resolved_at == bj(2026, 3, 4, 16, 20)
    assert case.completion_due == bj(2026, 3, 5, 23, 59, 59)  # a date: the end of that day
    events = list(case.events.order_by("seq"))
    assert [e.action for e in events] == ["create", "dispatch", "respond", "resolve", "rate"]
    assert [e.at for e in events] == [
        bj(2026, 3, 2, 9, 15),
        bj(2026, 3, 2, 9, 40),
        bj(2026, 3, 2, 10, 5),
        bj(2026, 3, 4, 16, 20),
        bj(2026, 3, 4, 16, 20),
    ]
    assert [e.to_status for e in events] == ["new", "dispatched", "in_progress", "rating", "closed"]
    assert all(e.data["import"] == "12345-cases.xlsx" and e.data["line"] == 3 for e in events)
    rating = case.ratings.get()
    assert (rating.resolved, rating.satisfaction, rating.unit.code) == (True, "satisfied", "ZHZF")


def test_the_12345_sheet_keeps_open_cases_open_and_files_unknown_categories_under_import(street):
    report = run(SHEET, SHEET_MAP)
    assert sorted(report.new_categories) == sorted(["房屋漏水", "噪音扰民"])
    working = Case.objects.get(number="12345202603100004")
    assert working.status == "in_progress" and working.closed_at is None
    assert [e.action for e in working.events.order_by("seq")] == ["create", "dispatch", "respond"]
    waiting = Case.objects.get(number="12345202603120005")
    assert waiting.status == "new" and waiting.unit is None and waiting.dispatched_at is None
    imported = waiting.category
    assert imported.name == "噪音扰民" and not imported.active
    assert imported.parent.name == "导入"
    unhappy = Case.objects.get(number="12345202603050003").ratings.get()
    assert (unhappy.resolved, unhappy.satisfaction) == (False, "unsatisfied")


def test_imported_cases_count_in_the_measures_of_their_months(street):
    run(SHEET, SHEET_MAP)
    march = measures.three_rates("2026-03", "ZHZF")
    assert march.dispatched == 3 and march.rated == 3
    assert march.response_rate == 1.0
    assert march.resolution_rate == 1.0
    assert march.satisfaction_rate == pytest.approx((2 + 0.9) / 3)
    housing_march = measures.three_rates("2026-03", "ZJ")
    # Dispatched 09:20, answered 12:30: later than the 2 hours of the (new) category.
    assert housing_march.dispatched == 2 and housing_march.response_rate == 0.5
    assert housing_march.resolution_rate == 0.0  # the one March rating says "not solved"
    housing_april = measures.three_rates("2026-04", "ZJ")
    assert housing_april.dispatched == 0 and housing_april.rated == 1 and housing_april.resolution_rate == 1.0
    street_wide = measures.three_rates("2026-03")
    assert street_wide.dispatched == 7


def test_reimporting_the_same_file_changes_nothing(street):
    run(SHEET, SHEET_MAP)
    before = counts()
    updated = dict(Case.objects.values_list("number", "updated_at"))
    again = run(SHEET, SHEET_MAP)
    assert again.ok and again.created == 0 and again.unchanged == 8
    assert counts() == before
    assert dict(Case.objects.values_list("number", "updated_at")) == updated


def test_dry_run_reports_and_writes_nothing(street):
    before = counts()
    report = run(SHEET, SHEET_MAP, dry_run=True)
    assert report.ok and report.created == 8 and sorted(report.new_categories) == ["噪音扰民", "房屋漏水"]
    assert counts() == before


# --- the 311-style English CSV -----------------------------------------------------------------


def test_the_311_csv_imports_with_utc_times_and_locations(street):
    report = run(CSV, CSV_MAP)
    assert report.ok and report.created == 6
    closed = Case.objects.get(number="311-2026-000101")
    assert closed.channel == "api" and closed.status == "closed"
    assert closed.created_at == dt.datetime(2026, 3, 2, 1, 15, tzinfo=dt.UTC)
    assert closed.grid.code == "1101050010101" and closed.community.code == "11010500101"
    # The file gives no response time: an ``import`` step says the history skipped it, and the
    # steps after it are the ones the case lifecycle allows (no response is made up).
    assert [(e.action, e.from_status, e.to_status) for e in closed.events.order_by("seq")] == [
        ("create", "", "new"),
        ("dispatch", "new", "dispatched"),
        ("import", "dispatched", "in_progress"),
        ("resolve", "in_progress", "rating"),
        ("close", "rating", "closed"),
    ]
    assert closed.responded_at is None and closed.resolved_at == closed.closed_at
    assert not closed.ratings.exists()
    still_open = Case.objects.get(number="311-2026-000103")
    assert still_open.status == "dispatched" and still_open.unit.code == "ZJ"
    assert still_open.category.name == "Pothole" and still_open.category.parent.code == "IMP"
    nowhere = Case.objects.get(number="311-2026-000105")
    assert nowhere.status == "new" and nowhere.unit is None and nowhere.lat is None


def test_both_examples_share_the_import_branch(street):
    run(SHEET, SHEET_MAP)
    run(CSV, CSV_MAP)
    branch = Category.objects.get(code="IMP")
    assert sorted(branch.children.values_list("name", flat=True)) == ["Pothole", "噪音扰民", "房屋漏水"]
    assert len(set(branch.children.values_list("code", flat=True))) == 3


# --- bad rows ------------------------------------------------------------------------------------

BAD_LINES = [
    "311-2026-000201,yesterday,,,Street Services,Illegal Dumping,,,,closed,Rubbish",
    "311-2026-000202,2026-03-05T01:00:00Z,,,Parks Department,Illegal Dumping,,,,open,Rubbish",
    "311-2026-000101,2026-03-05T01:00:00Z,,,Street Services,Illegal Dumping,,,,open,A number used above",
    "311-2026-000203,2026-03-05T01:00:00Z,,,Street Services,Illegal Dumping,,,,open,",
    "311-2026-000204,2026-03-05T01:00:00Z,2026-03-01T00:00:00Z,,Street Services,Illegal Dumping,,,,closed,Closed first",
    "311-2026-000205,2026-03-05T01:00:00Z,,,Street Services,Illegal Dumping,,91,116,open,Off the map",
]


@pytest.fixture
def bad_csv(tmp_path):
    path = tmp_path / "311-with-bad-rows.csv"
    shutil.copy(CSV, path)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(BAD_LINES) + "\n")
    return path


def test_bad_rows_are_reported_by_line_and_nothing_is_written(street, bad_csv):
    before = counts()
    report = run(bad_csv, CSV_MAP)
    assert not report.ok
    lines = dict(report.bad)
    assert sorted(lines) == [8, 9, 10, 11, 12, 13]  # the header is line 1, six good rows follow
    assert "requested_datetime" in lines[8] and "yesterday" in lines[8]
    assert "Parks Department" in lines[9]
    assert "311-2026-000101" in lines[10] and "第 2 行" in lines[10]  # the number of line 2 again
    assert "description" in lines[11]
    assert "closed_date" in lines[12]
    assert "经纬度" in lines[13]
    assert counts() == before  # all or nothing


def test_the_command_lists_bad_rows_and_fails(street, bad_csv):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import", "cases", str(bad_csv), "--mapping", str(CSV_MAP), stdout=out, stderr=err)
    assert failure.value.returncode == 1
    assert "第 8 行" in err.getvalue() and "第 13 行" in err.getvalue()
    assert "6" in str(failure.value)
    assert not Case.objects.exists()


def test_the_command_imports_shows_progress_and_a_summary(street):
    out = io.StringIO()
    call_command("import", "cases", str(SHEET), "--mapping", str(SHEET_MAP), stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "100%" in text
    assert "新增工单 8 件" in text
    out = io.StringIO()
    call_command("import", "cases", str(SHEET), "--mapping", str(SHEET_MAP), "--dry-run", stdout=out)
    assert "已存在 8 件" in out.getvalue()


def test_dry_run_with_bad_rows_lists_them_too(street, bad_csv):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import", "cases", str(bad_csv), "--mapping", str(CSV_MAP), "--dry-run", stdout=io.StringIO(), stderr=err
        )
    assert err.getvalue().count("行：") == 6


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({"columns": {"number": "service_request_id", "created": "requested_datetime"}}, "text"),
        ({"columns": {"number": "a", "created": "b", "text": "c", "colour": "d"}}, "colour"),
        (
            {"columns": {"number": "service_request_id", "created": "requested_datetime", "text": "missing column"}},
            "missing column",
        ),
        (
            {
                "columns": {"number": "service_request_id", "created": "requested_datetime", "text": "description"},
                "channel": "pigeon",
            },
            "pigeon",
        ),
        ({"columns": {"number": False, "created": "requested_datetime", "text": "description"}}, "引号"),
    ],
)
def test_an_unusable_mapping_is_refused_before_any_row(street, tmp_path, mapping, message):
    import yaml

    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    with pytest.raises(MappingError) as failure:
        import_cases(CSV, load_mapping(path), out=io.StringIO())
    assert message in str(failure.value)


def test_imported_numbers_in_our_format_move_the_counter(street, tmp_path):
    path = tmp_path / "ours.csv"
    path.write_text(
        "service_request_id,requested_datetime,description\nJD2026111800007,2026-11-18T09:00:00+08:00,旧系统里的工单\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {number: service_request_id, created: requested_datetime, text: description}\n", encoding="utf-8"
    )
    assert run(path, mapping).ok
    assert CaseNumberCounter.objects.get(day=dt.date(2026, 11, 18)).last == 7
    case, _ = case_services.submit_case(
        street.users.operator, channel="phone", description="新工单", at=bj(2026, 11, 18, 10, 0)
    )
    assert case.number == "JD2026111800008"


def test_chinese_dates_and_gbk_files(street, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("编号,时间,内容,状态\nA-1,2026年3月5日 8:30,井盖丢失,已结案\n".encode("gbk"))
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "encoding: gbk\ncolumns: {number: 编号, created: 时间, text: 内容, status: 状态}\n", encoding="utf-8"
    )
    assert run(path, mapping).ok
    case = Case.objects.get(number="A-1")
    assert case.created_at == bj(2026, 3, 5, 8, 30) and case.status == "closed"
    assert case.closed_at == case.created_at


def test_reporters_are_stored_encrypted_and_can_still_track_their_case(street, tmp_path):
    from django.db import connection

    from jiedao.cases.selectors import public_case

    path = tmp_path / "people.csv"
    path.write_text(
        "num,at,text,name,phone,address\nP-1,2026-03-05 08:30,路灯不亮,王小明,138 0013 8001,东湖小区3号楼2单元401\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {number: num, created: at, text: text, reporter_name: name, reporter_phone: phone,"
        " address: address}\n",
        encoding="utf-8",
    )
    assert run(path, mapping).ok
    case = Case.objects.get(number="P-1")
    assert (case.reporter_name, case.reporter_phone, case.address) == ("王小明", "13800138001", "东湖小区3号楼2单元401")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_name, reporter_phone, address FROM cases_case WHERE number = %s", ["P-1"])
        stored = cursor.fetchone()
    assert not any(plain in value for plain, value in zip(("王小明", "13800138001", "东湖小区"), stored, strict=False))
    assert public_case("P-1", "13800138001") == case


def _check_logs_follow_the_lifecycle():
    for case in Case.objects.all():
        previous = ""
        for event in case.events.order_by("seq"):
            assert event.from_status == previous, (case.number, event.action)
            transition = states.TRANSITIONS.get(event.action)
            if transition is None:
                # Intake, and the import's own step into a state the history skipped to.
                assert event.action in ("create", "import"), event.action
            else:
                assert event.from_status in transition.sources, (case.number, event.action)
                targets = transition.target if isinstance(transition.target, tuple) else (transition.target,)
                assert event.to_status in targets or (transition.target is None and event.to_status == previous)
            previous = event.to_status
        assert previous == case.status


def test_every_imported_step_is_one_the_case_lifecycle_allows(street):
    run(SHEET, SHEET_MAP)
    run(CSV, CSV_MAP)
    _check_logs_follow_the_lifecycle()


def test_any_status_with_any_times_and_a_rating_or_none_imports_as_allowed_steps(street, tmp_path):
    lines = ["num,at,dispatched,responded,resolved,closed,unit,status,satisfaction"]
    n = 0
    for status in ("new", "dispatched", "returned", "in_progress", "verifying", "rating", "closed", "merged", "open"):
        for responded, resolved, closed in itertools.product(("", "2026-03-05 10:00"), repeat=3):
            for satisfaction in ("", "满意", "不满意"):
                n += 1
                lines.append(
                    f"M-{n},2026-03-05 08:00,2026-03-05 09:00,{responded},{resolved.replace('10:', '11:')},"
                    f"{closed.replace('10:', '12:')},ZHZF,{status},{satisfaction}"
                )
    path = tmp_path / "all.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {number: num, created: at, dispatched: dispatched, responded: responded, resolved: resolved,"
        " closed: closed, unit: unit, status: status, rating_satisfaction: satisfaction, text: num}\n",
        encoding="utf-8",
    )
    report = run(path, mapping)
    assert report.ok and report.created == n
    _check_logs_follow_the_lifecycle()


def test_a_unit_of_another_street_than_the_place_is_refused(street, tmp_path):
    south = Street.objects.create(district=street.district, code="110105002", name="城南街道")
    Unit.objects.create(street=south, code="CN-GGFW", name="城南公共服务部", kind=Unit.Kind.SECTION)
    path = tmp_path / "streets.csv"
    path.write_text(
        "num,at,text,unit,lat,lng\n"
        "S-1,2026-03-05 08:30,路灯不亮,ZHZF,39.905,116.405\n"
        "S-2,2026-03-05 09:30,井盖丢失,CN-GGFW,39.905,116.405\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {number: num, created: at, text: text, unit: unit, lat: lat, lng: lng}\n", encoding="utf-8"
    )
    report = run(path, mapping)
    assert [line for line, _reason in report.bad] == [3]
    assert "城南公共服务部" in report.bad[0][1] and "街道" in report.bad[0][1]
    assert not Case.objects.exists()
