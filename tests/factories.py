"""A small street for tests: 2 communities, 4 grids with square boundaries, 4 units,
a few categories, routing rules and one user for every role (password ``pass12345``)."""

import datetime as dt
from types import SimpleNamespace

from django.contrib.auth.models import Group

from jiedao.cases.models import Category, RoutingRule
from jiedao.org.models import Community, District, Grid, Street, Unit, User
from jiedao.org.roles import ALL_ROLES

PASSWORD = "pass12345"


def square(lng, lat, size=0.01):
    return {
        "type": "Polygon",
        "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]],
    }


def make_user(username, *roles, unit=None, grids=(), phone="", display_name=""):
    user = User.objects.create_user(
        username=username, password=PASSWORD, unit=unit, phone=phone, display_name=display_name or username
    )
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    if grids:
        user.grids.set(grids)
    return user


def build_street():
    for role in ALL_ROLES:
        Group.objects.get_or_create(name=role)
    district = District.objects.create(code="110105", name="朝阳区")
    street = Street.objects.create(district=district, code="110105001", name="示范街道")
    c1 = Community.objects.create(street=street, code="11010500101", name="东湖社区")
    c2 = Community.objects.create(street=street, code="11010500102", name="西园社区")
    g11 = Grid.objects.create(community=c1, code="1101050010101", name="第一网格", boundary=square(116.40, 39.90))
    g12 = Grid.objects.create(community=c1, code="1101050010102", name="第二网格", boundary=square(116.41, 39.90))
    g21 = Grid.objects.create(community=c2, code="1101050010201", name="第一网格", boundary=square(116.40, 39.91))
    g22 = Grid.objects.create(community=c2, code="1101050010202", name="第二网格", boundary=square(116.41, 39.91))
    enforcement = Unit.objects.create(street=street, code="ZHZF", name="综合执法队", kind=Unit.Kind.SECTION)
    housing = Unit.objects.create(street=street, code="ZJ", name="区住建委派驻组", kind=Unit.Kind.DEPARTMENT)
    service = Unit.objects.create(street=street, code="GGFW", name="公共服务部", kind=Unit.Kind.SECTION)
    committee1 = Unit.objects.create(
        street=street, code="JWH01", name="东湖社区居委会", kind=Unit.Kind.COMMUNITY, community=c1
    )
    street.default_unit = service
    street.save()

    city = Category.objects.create(code="01", name="城乡建设", level=1)
    municipal = Category.objects.create(code="0101", name="城市建设和市政管理", level=2, parent=city)
    sanitation = Category.objects.create(
        code="010101", name="环境卫生", level=3, parent=municipal, response_hours=2, completion_workdays=3
    )
    lamps = Category.objects.create(
        code="010102",
        name="城市公共设施",
        level=3,
        parent=municipal,
        response_hours=2,
        completion_workdays=5,
        needs_verification=True,
    )
    housing_cat = Category.objects.create(code="0102", name="住房保障", level=2, parent=city)
    repairs = Category.objects.create(
        code="010201",
        name="房屋维修",
        level=3,
        parent=housing_cat,
        response_hours=4,
        completion_workdays=10,
        office_hours_only=True,
    )
    civil = Category.objects.create(code="02", name="民政", level=1)
    civil_mid = Category.objects.create(code="0201", name="社会救助", level=2, parent=civil)
    elderly = Category.objects.create(
        code="020101", name="养老服务", level=3, parent=civil_mid, response_hours=2, completion_workdays=5
    )

    RoutingRule.objects.create(
        priority=10, name="东湖社区环境卫生归居委会", category=sanitation, community=c1, unit=committee1
    )
    RoutingRule.objects.create(priority=20, name="市政管理归综合执法队", category=municipal, unit=enforcement)
    RoutingRule.objects.create(priority=30, name="住房保障归住建", category=housing_cat, unit=housing)

    users = SimpleNamespace(
        admin=make_user("admin", "admin"),
        operator=make_user("operator", "operator"),
        dispatcher=make_user("dispatcher", "dispatcher"),
        handler=make_user("handler", "handler", unit=enforcement),
        handler_housing=make_user("handler_zj", "handler", unit=housing),
        handler_committee=make_user("handler_jwh", "handler", unit=committee1),
        grid=make_user("grid", "grid", grids=[g11, g12]),
        grid_other=make_user("grid2", "grid", grids=[g21]),
        leader=make_user("leader", "leader"),
        resident=make_user("resident", "resident", phone="13800138000", display_name="王大妈"),
        resident_other=make_user("resident2", "resident", phone="13900139000", display_name="李先生"),
    )
    return SimpleNamespace(
        district=district,
        street=street,
        communities=[c1, c2],
        grids=[g11, g12, g21, g22],
        units=SimpleNamespace(enforcement=enforcement, housing=housing, service=service, committee1=committee1),
        categories=SimpleNamespace(
            sanitation=sanitation, lamps=lamps, repairs=repairs, elderly=elderly, municipal=municipal
        ),
        users=users,
    )


# A Wednesday morning in Beijing, far from holidays: 2026-11-18 09:30 +08:00.
WEDNESDAY = dt.datetime(2026, 11, 18, 1, 30, tzinfo=dt.UTC)
