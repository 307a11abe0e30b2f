"""The monthly report (月通报): ``jiedao report monthly`` writes an Excel and a PDF; the
Excel's cells hold the rankings and indicators, the PDF's text has the Chinese titles."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from jiedao.evaluation import compute, periods, services

from .conftest import MONTH_END, bj

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(november, evaluator):
    services.enter_evidence_score(
        evaluator, scope_kind="community", scope_code="11010500101", month="2026-11", score=80, evidence="楼门议事会"
    )
    compute.refresh_daily_counts(periods.parse("2026-11").start.date(), periods.parse("2026-11").end.date())
    compute.compute_period(periods.parse("2026-11"), now=MONTH_END)
    services.issue_rectification(
        evaluator,
        unit=november.units.enforcement,
        title="满意率偏低整改",
        requirement="分析原因并整改",
        now=bj("2026-11-30 10:00"),
    )
    return november


def test_report_command_writes_excel_and_pdf(computed, tmp_path):
    out = io.StringIO()
    call_command("report", "monthly", "2026-11", "--out", str(tmp_path), stdout=out)
    paths = [Path(p) for p in out.getvalue().split()]
    assert [p.suffix for p in paths] == [".xlsx", ".pdf"] and all(p.exists() for p in paths)

    book = load_workbook(paths[0])
    assert book.sheetnames == ["考核排名", "指标完成情况", "预警与整改", "突出问题"]
    ranking = book["考核排名"]
    assert "2026-11 效能评价月通报" in ranking["A1"].value
    cells = [[c.value for c in row] for row in ranking.iter_rows()]
    # 东湖: 满意率 95 %, 解决率 100 %, 创新 80 → 40 + 30 + 30 × 80/90 = 96.67, first.
    east = next(r for r in cells if r[1] == "东湖社区")
    assert east[0] == 1 and east[2] == pytest.approx(96.67) and east[3] == "优秀"
    assert ranking._charts, "the ranking sheet has a chart"
    indicators = {row[0]: row for row in book["指标完成情况"].iter_rows(values_only=True)}
    assert indicators["response_rate"][3] == pytest.approx(0.5)
    assert indicators["satisfaction_rate"][5] == "未达标"
    warn = list(book["预警与整改"].iter_rows(values_only=True))
    assert any(r[2] == "满意率偏低整改" for r in warn)
    problems = list(book["突出问题"].iter_rows(values_only=True))
    assert problems[2] == ("城乡建设 / 城市建设和市政管理 / 环境卫生", 4)

    from pypdf import PdfReader

    # pypdf reads the embedded font's two-byte codes with a NUL before each character; the
    # characters themselves come from the PDF's ToUnicode map.
    text = "".join(page.extract_text() for page in PdfReader(paths[1]).pages).replace("\x00", "")
    for title in (
        "效能评价月通报",
        "一、考核排名",
        "二、指标完成情况",
        "三、预警与整改",
        "四、突出问题",
        "东湖社区",
        "环境卫生",
    ):
        assert title in text, title


def test_a_bad_month_is_refused(db, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("report", "monthly", "2026-13", "--out", str(tmp_path))
    assert error.value.returncode == 2 and "2026-10" in str(error.value)


def test_compute_command_back_fills_periods(november):
    out = io.StringIO()
    call_command("evaluation", "compute", "--period", "month", "--at", "2026-10", "--to", "2026-11", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("2026-10") and lines[1].startswith("2026-11")
    from jiedao.evaluation.models import Result

    assert Result.objects.get(indicator="cases_received", scope_kind="street", period_key="2026-11").value == 4
    with pytest.raises(CommandError):
        call_command("evaluation", "compute", "--period", "week", "--at", "2026-10")
