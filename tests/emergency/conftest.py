"""The test street with a small registry (special-care residents in 东湖社区 第一网格),
devices with their tokens, and the rules of each kind."""

import datetime as dt
from types import SimpleNamespace

import pytest

from jiedao.emergency import services
from jiedao.emergency.models import Rule
from jiedao.registry import importing as registry_importing
from jiedao.registry import services as registry_services
from jiedao.registry.models import Building, Person
from tests.factories import WEDNESDAY
from tests.registry.conftest import PERSON_HEADERS, make_id, person_row, xlsx_bytes

NOW = WEDNESDAY  # 09:30 in Beijing


@pytest.fixture(autouse=True)
def _chinese(in_chinese):
    """Messages are checked in Chinese, whatever language an earlier request switched to."""


@pytest.fixture
def residents(street):
    """Two special-care residents and one without care in grid 1 of 东湖; one cared-for in 西园."""
    registry_services.ensure_default_tags()
    g11, _g12, g21, _g22 = street.grids
    c1, c2 = street.communities
    Building.objects.create(
        code="B11", name="东湖家园1号楼", address="东湖路1号", community=c1, grid=g11, lat=39.905, lng=116.405
    )
    Building.objects.create(
        code="B21", name="西园新村1号楼", address="西园路1号", community=c2, grid=g21, lat=39.915, lng=116.405
    )
    rows = [
        person_row("张桂兰", make_id("19400101", seq="022"), "13812345678", "B11", "1", "101", "户主", "独居老人"),
        person_row("李建国", make_id("19520202", seq="031"), "13912345678", "B11", "1", "102", "户主", "低保"),
        person_row("李小明", make_id("19850505", seq="051"), "13712345678", "B11", "1", "103", "户主"),
        person_row("赵奶奶", make_id("19420909", seq="062"), "13512345678", "B21", "1", "301", "户主", "独居老人"),
    ]
    registry_importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(PERSON_HEADERS, rows),
        source="公安人口库",
        filename="seed.xlsx",
    )
    return {p.name: p for p in Person.objects.all()}


def rule(name, kind, trigger, metric="", threshold=None, duration=0, level="blue", outcome="none", **extra):
    return Rule.objects.create(
        name=name,
        device_kind=kind,
        trigger=trigger,
        metric=metric,
        threshold=threshold,
        duration_minutes=duration,
        level=level,
        outcome=outcome,
        **extra,
    )


@pytest.fixture
def devices(street):
    """A water-level gauge, a water-quality probe, an elderly person's meter and a video camera."""
    made = {}
    for code, kind, lat, lng in [
        ("WL-01", "water_level", 39.905, 116.405),
        ("WQ-01", "water_quality", 39.905, 116.406),
        ("EM-01", "meter", 39.905, 116.407),
        ("AI-01", "video", 39.915, 116.405),
    ]:
        device, token = services.register_device(
            street.users.admin,
            code=code,
            name=f"设备{code}",
            kind=kind,
            lat=lat,
            lng=lng,
            address="东湖路1号",
            owner_code="ZHZF",
        )
        made[code] = SimpleNamespace(device=device, token=token)
    return made


def reading(dev, at, value=None, metric="", event=""):
    item = {"device": dev.device.code, "token": dev.token, "at": at, "metric": metric, "value": value}
    if event:
        item["event"] = event
    return item


def minutes(n):
    return dt.timedelta(minutes=n)
