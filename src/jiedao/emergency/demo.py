"""应急管理 on the demo street: the three-level network, rules, devices around the street
with a simulated day of readings (including anomalies), two past emergencies with full
timelines (each acknowledged), the duty roster (值班表) for a week around now, depots with
stock, supply agreements, drills and training.

``build_emergency(street, grids, units, users, now)``: ``units`` and ``users`` are dicts
by code and username as the demo builder makes them. Everything goes through the
services, so the timeline, ledger and alerts are what real use would leave."""

import datetime as dt
import random

from django.utils import timezone
from shapely.geometry import Point, shape

from jiedao.registry.models import Person

from . import services
from .models import Agreement, Alert, Depot, Device, Drill, Emergency, Post, Rule, Stock

SEED = 20261123

RULES = [
    # name, device kind, trigger, metric, threshold, minutes, level, outcome, case category, emergency kind
    ("独居老人中午前无用电", "meter", "no_use", "kwh", None, 0, "red", "emergency", "", "elderly"),
    ("电表离线", "meter", "silence", "", 120, 0, "blue", "none", "", ""),
    ("水位超警戒线", "water_level", "above", "level", 0.30, 10, "red", "emergency", "", "flood"),
    ("水位猛涨", "water_level", "rate", "level", 0.02, 0, "yellow", "none", "", ""),
    ("pH 偏低", "water_quality", "below", "ph", 6.5, 15, "yellow", "case", "", ""),
    ("pH 偏高", "water_quality", "above", "ph", 8.5, 15, "yellow", "case", "", ""),
    ("浊度超标", "water_quality", "above", "turbidity", 3.0, 15, "yellow", "case", "", ""),
    ("水质设备离线", "water_quality", "silence", "", 60, 0, "blue", "none", "", ""),
    ("烟感报警", "smoke", "event", "smoke", None, 0, "red", "emergency", "", "fire"),
    ("井盖位移", "manhole", "above", "tilt", 15, 0, "yellow", "case", "", ""),
    ("违停", "video", "event", "违停", None, 0, "blue", "case", "", ""),
    ("占道经营", "video", "event", "占道经营", None, 0, "blue", "case", "", ""),
]

STOCKS = [
    ("沙袋", "袋", 500),
    ("抽水泵", "台", 4),
    ("口罩", "个", 2000),
    ("应急照明灯", "个", 40),
    ("救生衣", "件", 30),
    ("灭火器", "具", 60),
]


def _centre(grid):
    ring = grid.boundary["coordinates"][0] if grid.boundary and grid.boundary.get("type") == "Polygon" else None
    if not ring:
        return None, None
    lngs = [p[0] for p in ring[:-1]]
    lats = [p[1] for p in ring[:-1]]
    return sum(lats) / len(lats), sum(lngs) / len(lngs)


def _inside(grid, rng):
    """A point well inside the grid (lat, lng): the demo's grids are narrow strips, and a device
    placed around its grid's middle with a fixed spread fell into the next grid, so that its
    alerts named one grid (its address) and were filed under another (its position)."""
    if not grid.boundary:
        return None, None
    area = shape(grid.boundary)
    west, south, east, north = area.bounds
    core = area.buffer(-min(east - west, north - south) * 0.15)  # off the edges
    if core.is_empty:
        core = area
    for _attempt in range(50):
        point = Point(rng.uniform(west, east), rng.uniform(south, north))
        if core.contains(point):
            return point.y, point.x
    point = area.representative_point()
    return point.y, point.x


def build_emergency(street, grids, units, users, now, out=None):
    """Fills 应急管理 for the demo street as of ``now``. Does nothing if devices exist."""
    if Device.objects.exists():
        return {"skipped": True}
    rng = random.Random(SEED)
    grids = list(grids)
    admin, dispatcher, leader = users["admin"], users["dispatcher"], users["leader"]
    handler, operator = users["handler"], users["operator"]
    centre_unit = units.get("YJGL") or units.get("ZHZF")

    # The three-level network.
    centre = Post.objects.create(
        name="街道应急指挥中心", level=Post.Level.CENTRE, unit=centre_unit, phone="010-12345678"
    )
    stations = {}
    for grid in grids:
        community = grid.community
        if community.pk not in stations:
            stations[community.pk] = Post.objects.create(
                name=f"{community.name}应急服务站",
                level=Post.Level.STATION,
                parent=centre,
                community=community,
                unit=units.get(f"JWH{len(stations) + 1:02d}"),
            )
        Post.objects.create(
            name=f"{community.name}{grid.name}应急点",
            level=Post.Level.POINT,
            parent=stations[community.pk],
            community=community,
            grid=grid,
        )

    for name, kind, trigger, metric, threshold, minutes, level, outcome, category, ekind in RULES:
        Rule.objects.create(
            name=name,
            device_kind=kind,
            trigger=trigger,
            metric=metric,
            threshold=threshold,
            duration_minutes=minutes,
            level=level,
            outcome=outcome,
            category_code=category,
            emergency_kind=ekind,
        )

    _duty_roster(users, admin, now)
    devices = _devices(grids, units, rng)
    readings = _simulated_day(devices, now, rng)
    # The day in four-hour windows: the operator decides the alerts of each window before the next,
    # except the last window's, left open for the board.
    readings.sort(key=lambda r: r["at"])
    for hours in range(4, 25, 4):
        end = now - dt.timedelta(hours=24 - hours)
        window = [r for r in readings if end - dt.timedelta(hours=4) < r["at"] <= end]
        if window:
            services.ingest(window, now=now)
        if hours < 24:
            _decide_some(operator, end, keep_open=0)
    services.sweep_sensors(now)

    _agreements(now)
    _past_emergencies(grids, units, dispatcher, handler, leader, now)
    _supplies(street, grids, stations, handler, admin, now, rng)
    _drills(grids, users, leader, admin, now, rng)
    counts = {"devices": len(devices), "readings": len(readings), "emergencies": Emergency.objects.count()}
    if out is not None:
        out.write(
            f"应急管理：{counts['devices']} 台设备、{counts['readings']:,} 条读数、"
            f"{counts['emergencies']} 起突发事件。\n"
        )
    return counts


def _devices(grids, units, rng):

    made = []

    def add(code, name, kind, lat, lng, address, owner, person=None):
        device, token = services.register_device(
            None,
            code=code,
            name=name,
            kind=kind,
            lat=lat,
            lng=lng,
            address=address,
            owner_code=owner,
            person=person,
            _system=True,
        )
        made.append((device, token))

    alone = (
        Person.objects.filter(
            person_tags__tag__code="alone_elderly",
            household__house__building__lat__isnull=False,
            household__house__building__grid__in=grids,
        )
        .select_related("household__house__building")
        .order_by("id")[:8]
    )
    for index, person in enumerate(alone):
        building = person.household.house.building
        add(
            f"EM-{index + 1:03d}",
            f"{person.name}家智能电表",
            "meter",
            building.lat,
            building.lng,
            str(person.household.house),
            "MZ" if "MZ" in units else "",
            person,
        )
    plan = [
        ("water_level", "WL", "积水监测", 3, "ZHZF"),
        ("water_quality", "WQ", "二次供水水质", 2, "ZJ"),
        ("smoke", "SM", "烟感", 4, "YJGL"),
        ("manhole", "MH", "智能井盖", 4, "CG"),
        ("video", "AI", "AI视频", 3, "ZHZF"),
    ]
    for kind, prefix, label, count, owner in plan:
        for index in range(count):
            grid = grids[rng.randrange(len(grids))]
            lat, lng = _inside(grid, rng)
            if lat is None:
                continue
            add(
                f"{prefix}-{index + 1:03d}",
                f"{grid.community.name}{label}{index + 1}号",
                kind,
                lat,
                lng,
                f"{grid.community.name}{grid.name}",
                owner if owner in units else "",
            )
    return made


def _simulated_day(devices, now, rng):
    """One reading every 15 minutes for the last 24 hours, with a few anomalies."""
    start = now - dt.timedelta(hours=24)
    steps = [start + dt.timedelta(minutes=15 * i) for i in range(1, 97)]
    readings = []
    for device, token in devices:
        kind = device.kind
        code = device.code
        for i, at in enumerate(steps):
            local = timezone.localtime(at)

            def item(metric="", value=None, event="", code=code, token=token, at=at):
                readings.append(
                    {"device": code, "token": token, "at": at, "metric": metric, "value": value, "event": event}
                )

            if kind == "meter":
                if code == "EM-001" and local.date() == timezone.localtime(now).date():
                    item("kwh", 0.0)  # no use at all today: the noon check will notice
                elif code == "EM-008" and i > 80:
                    continue  # the meter went silent this evening
                else:
                    busy = 7 <= local.hour <= 22
                    item("kwh", round(rng.uniform(0.05, 0.4) if busy else rng.uniform(0, 0.05), 3))
            elif kind == "water_level":
                level = 0.05 + rng.uniform(0, 0.03)
                if code == "WL-001" and 60 <= i <= 66:
                    level = 0.05 + (i - 59) * 0.06  # a downpour: water rises fast above the line
                item("level", round(level, 3))
            elif kind == "water_quality":
                ph = 7.2 + rng.uniform(-0.3, 0.3)
                if code == "WQ-002" and 40 <= i <= 43:
                    ph = 6.1
                item("ph", round(ph, 2))
                item("turbidity", round(rng.uniform(0.2, 1.0), 2))
            elif kind == "manhole":
                item("tilt", 25.0 if code == "MH-003" and i == 70 else round(rng.uniform(0, 2), 1))
            elif kind == "video" and i % 16 == 5:
                item(event="违停" if code != "AI-002" else "占道经营")
            elif kind == "smoke" and i % 8 == 0:
                item("smoke", 0.0)  # a heartbeat
    return readings


def _decide_some(operator, now, keep_open=3):
    """Alerts that become cases confirmed, one in seven dismissed as false; alerts that
    would open an emergency, and the latest ``keep_open``, left open for the board."""

    open_alerts = list(Alert.objects.filter(status=Alert.Status.OPEN).select_related("rule").order_by("raised_at"))
    for index, alert in enumerate(open_alerts[: len(open_alerts) - keep_open]):
        if alert.rule is None or alert.rule.outcome == Rule.Outcome.EMERGENCY:
            continue
        confirm = index % 7 != 3
        services.decide_alert(
            operator,
            alert_id=alert.pk,
            confirm=confirm,
            note="" if confirm else "现场核实为误报",
            at=min(now, alert.raised_at + dt.timedelta(minutes=10)),
        )


def _duty_roster(users, admin, now):
    """值班表 for a week around ``now``: day shifts 08:00–20:00 (派单员 first, 承办人 second) and
    night shifts 20:00–08:00 (话务员 first, 网格员 second), Beijing time."""
    day_team = [users[name] for name in ("dispatcher", "handler") if name in users]
    night_team = [users[name] for name in ("operator", "grid") if name in users]
    today = timezone.localdate(now)
    for offset in range(-3, 4):
        morning = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=offset), dt.time(8)))
        evening = morning + dt.timedelta(hours=12)
        for team, start in ((day_team, morning), (night_team, evening)):
            for position, person in enumerate(team, start=1):
                services.add_shift(
                    admin,
                    person_id=person.pk,
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=12),
                    position=position,
                    note="白班" if start == morning else "夜班",
                )


def _past_emergencies(grids, units, dispatcher, handler, leader, now):
    minute, second = dt.timedelta(minutes=1), dt.timedelta(seconds=1)
    g = grids[0]
    lat, lng = _centre(g)
    t0 = now - dt.timedelta(days=12, hours=3)
    flood = services.report_emergency(
        dispatcher,
        title="暴雨致东侧路段积水",
        kind="flood",
        level="4",
        description="暴雨后路面积水约30厘米，影响通行。",
        lat=lat,
        lng=lng,
        lead_unit_code="ZHZF" if "ZHZF" in units else "",
        at=t0,
    )
    # Before the roster was kept the leaders were told at once; one of them acknowledged.
    services.acknowledge(leader, number=flood.number, at=t0 + 2 * minute + 10 * second)
    services.transition(
        dispatcher, number=flood.number, action="dispatch", note="通知综合执法队和社区应急服务站", at=t0 + 3 * minute
    )
    services.transition(
        handler, number=flood.number, action="arrive", note="先期处置人员到场设置警示", at=t0 + 11 * minute
    )
    services.transition(
        dispatcher,
        number=flood.number,
        action="engage",
        unit_codes=[c for c in ("ZHZF", "CG") if c in units],
        note="调抽水泵两台",
        at=t0 + 15 * minute,
    )
    shop = Agreement.objects.filter(supplier="东湖便民超市").first()
    if shop is not None:
        call = services.call_off(
            dispatcher, number=flood.number, agreement_id=shop.pk, goods="饮用水30箱、雨衣50件", at=t0 + 18 * minute
        )
        services.mark_delivered(dispatcher, call_id=call.pk, at=t0 + 70 * minute)
    services.transition(
        leader, number=flood.number, action="recover", note="积水排除，道路恢复通行", at=t0 + 52 * minute
    )
    services.transition(leader, number=flood.number, action="close", note="清理完毕，总结归档", at=t0 + 180 * minute)

    g2 = grids[min(5, len(grids) - 1)]
    lat, lng = _centre(g2)
    t1 = now - dt.timedelta(days=30, hours=6)
    gas = services.report_emergency(
        dispatcher,
        title="居民楼燃气泄漏",
        kind="gas",
        level="3",
        description="居民报告楼道内有明显燃气味。",
        lat=lat,
        lng=lng,
        at=t1,
    )
    services.acknowledge(dispatcher, number=gas.number, at=t1 + minute + 35 * second)
    services.transition(dispatcher, number=gas.number, action="dispatch", at=t1 + 2 * minute)
    services.transition(handler, number=gas.number, action="arrive", note="到场疏散居民", at=t1 + 19 * minute)
    services.transition(
        dispatcher, number=gas.number, action="engage", note="燃气公司到场关阀检修", at=t1 + 25 * minute
    )
    for check in gas.checks.all()[:20]:
        services.record_check(dispatcher, check_id=check.pk, result="safe", at=t1 + 40 * minute)
    services.transition(leader, number=gas.number, action="recover", note="管道修复，检测合格", at=t1 + 75 * minute)
    services.transition(leader, number=gas.number, action="close", note="居民返回，回访完毕", at=t1 + 240 * minute)


def _agreements(now):
    today = timezone.localdate(now)
    Agreement.objects.create(
        supplier="东湖便民超市",
        goods="饮用水、方便食品、雨衣",
        contact="刘经理",
        phone="010-65550001",
        delivery_hours=2,
        valid_until=today + dt.timedelta(days=300),
    )
    Agreement.objects.create(
        supplier="华安五金建材",
        goods="沙袋、雨布、抽水泵租赁",
        contact="陈师傅",
        phone="010-65550002",
        delivery_hours=2,
        valid_until=today + dt.timedelta(days=200),
    )


def _supplies(street, grids, stations, handler, admin, now, rng):
    today = timezone.localdate(now)
    depots = [Depot.objects.create(name="街道应急物资库", address="街道办事处地下一层")]
    for station in list(stations.values())[:4]:
        depots.append(
            Depot.objects.create(name=f"{station.community.name}物资点", post=station, community=station.community)
        )
    for index, depot in enumerate(depots):
        scale = 1 if index == 0 else 0.2
        for item, unit_label, required in STOCKS:
            need = max(1, int(required * scale))
            expires = today + dt.timedelta(days=rng.choice([20, 200, 400])) if item in ("口罩", "灭火器") else None
            stock = Stock.objects.create(
                depot=depot, item=item, unit_label=unit_label, required=need, expires_on=expires
            )
            have = need if rng.random() < 0.75 else int(need * rng.uniform(0.4, 0.9))
            if have:
                services.move_stock(
                    admin,
                    stock_id=stock.pk,
                    kind="in",
                    quantity=have,
                    note="年度储备入库",
                    at=now - dt.timedelta(days=60),
                )
    flood = Emergency.objects.filter(kind="flood").first()
    sandbags = depots[0].stocks.get(item="沙袋")
    if flood and sandbags.quantity >= 80:
        services.move_stock(
            handler,
            stock_id=sandbags.pk,
            kind="out",
            quantity=80,
            note="防汛使用",
            emergency_number=flood.number,
            at=flood.reported_at + dt.timedelta(minutes=20),
        )


def _drills(grids, users, leader, admin, now, rng):
    year = timezone.localdate(now).year
    communities = []
    for grid in grids:
        if grid.community not in communities:
            communities.append(grid.community)
    kinds = ["flood", "fire", "gas", "epidemic"]
    for index, community in enumerate(communities):
        planned = dt.date(year, 3 + index % 9, 10)
        drill = services.plan_drill(
            leader,
            title=f"{community.name}{['防汛', '消防', '燃气', '防疫'][index % 4]}演练",
            kind=kinds[index % 4],
            community_id=community.pk,
            planned_on=planned,
        )
        if index < len(communities) - 1 and planned <= timezone.localdate(now):
            services.complete_drill(
                leader,
                drill_id=drill.pk,
                held_on=planned,
                participants=rng.randint(30, 120),
                findings=rng.choice(["疏散路线标识不清", "应急广播音量不足", "物资取用登记慢", ""]),
            )
    staff = [u for name, u in users.items() if name.startswith(("handler", "grid", "dispatcher", "operator"))]
    for index, user in enumerate(staff[:60]):
        services.record_training(admin, trainee=user, year=year, passed=index % 11 != 4)
    return Drill.objects.count()
