"""效能评价 on the demo street: evaluators' innovation scores with evidence, indicator
results for the last 12 months and 6 weeks, warnings checked week
by week (which opens rectification tasks, some already handled), and the surge check.

``build_evaluation(street, grids, units, users, now, out=None)``: ``units`` and ``users``
are dicts by code and username as the demo builder makes them. Everything goes through
the services and the period computation, as the worker would have done."""

import datetime as dt
import random
import time

from django.db import connection
from django.utils import timezone

from jiedao.geo.models import HEAT_DAYS
from jiedao.org.models import Community

from . import compute, periods, services
from .models import EvidenceScore, Rectification, SchemeItem, Warning

SEED = 20261124
EVIDENCE = [
    "建立楼门议事会，解决电动车充电难",
    "“社区合伙人”引入社会组织开展助老服务",
    "网格员随手拍，问题当天闭环",
    "老旧小区加装电梯协商经验",
    "共享工具屋与邻里互助积分",
    "独居老人智能水表关爱机制",
]


def _refresh_planner_statistics():
    """PostgreSQL plans its queries from table statistics. Right after the demo's bulk inserts
    (or inside one transaction) they still describe empty tables, and a join over thousands of
    rows planned for one row takes minutes; ANALYZE makes them true (it also sees the rows of
    the current transaction). SQLite needs nothing."""

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def build_evaluation(street, grids, units, users, now=None, out=None):
    """Fills 效能评价 as of ``now``. Does nothing if scores exist already."""
    if EvidenceScore.objects.exists():
        return
    began = time.monotonic()
    now = now or timezone.now()
    rng = random.Random(SEED)
    _refresh_planner_statistics()
    evaluator = users.get("evaluator") or users.get("admin")
    months = periods.recent("month", 12, now)

    for month in months[-3:]:
        for community in Community.objects.order_by("code"):
            _score(evaluator, "community", community.code, month.key, rng, now)
        for unit in units.values():
            _score(evaluator, "unit", unit.code, month.key, rng, now)
    today = now.astimezone(periods.SHANGHAI).date()
    compute.refresh_daily_counts(months[0].start.date(), today + dt.timedelta(days=1))
    compute.refresh_heat_cells(today - dt.timedelta(days=HEAT_DAYS - 1), today)
    written = 0
    # The last three months in full; before them the figures the cockpit's trends and the
    # rankings read. The worker's first run computes the quarter and the year.

    trend_codes = {"response_rate", "resolution_rate", "satisfaction_rate"} | set(
        SchemeItem.objects.values_list("indicator", flat=True)
    )
    for index, month in enumerate(months):
        if index >= len(months) - 3:
            written += compute.compute_period(month, now)
        else:
            written += compute.compute_period(month, now, codes=trend_codes, scopes=("street", "community", "unit"))
    weeks = periods.recent("week", 6, now)
    for week in weeks:  # what the warnings watch
        written += compute.compute_period(
            week, now, codes=set(services.WATCHED), scopes=("street", "community", "unit")
        )
    for week in weeks[:-1]:
        services.evaluate_indicator_warnings(week, now=min(week.end, now))
    services.check_surges(now)
    _handle_some_tasks(users, rng, now)
    if out is not None:
        out.write(
            f"已计算效能评价指标结果 {written:,} 条（近12个月、近6周），"
            f"预警 {Warning.objects.count()} 个，整改指令 {Rectification.objects.count()} 条"
            f"（用时 {time.monotonic() - began:.1f} 秒）。"
        )


def _score(evaluator, kind, code, month, rng, now):
    EvidenceScore.objects.create(
        scope_kind=kind,
        scope_code=code,
        month=month,
        score=rng.randrange(55, 96),
        evidence=rng.choice(EVIDENCE),
        entered_by=evaluator,
        entered_at=now,
    )


def _handle_some_tasks(users, rng, now):
    """Half of the tasks accepted by their unit, some of those with evidence, one accepted and closed."""

    evaluator = users.get("evaluator") or users.get("admin")
    for index, task in enumerate(Rectification.objects.select_related("unit").order_by("issued_at")):
        handler = next((u for u in users.values() if u.unit_id == task.unit_id and u.has_role("handler")), None)
        if handler is None or index % 2:
            continue
        services.act_on_rectification(handler, number=task.number, action="accept", now=now)
        if index % 4 == 0:
            services.act_on_rectification(
                handler,
                number=task.number,
                action="submit",
                now=now,
                evidence="已召开专题会分析原因，调整人员排班，逐件回访不满意工单。",
            )
            if index % 8 == 0:
                services.act_on_rectification(evaluator, number=task.number, action="approve", now=now)
