"""Builds the demo street 示范街道: 8 communities, 40 grids with boundaries, the handling
units, the category tree with time limits, the responsibility list that routes cases, and
a user for every role."""

import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape

from jiedao.cases.models import Category
from jiedao.cases.taxonomy import load_taxonomy
from jiedao.duties.demo import DISTRICT_UNITS, build_duty_list
from jiedao.geo import locate
from jiedao.geo import services as geo_services
from jiedao.geo.models import GridMember, MapFeature
from jiedao.hall.demo import build_hall
from jiedao.knowledge.demo import build_knowledge
from jiedao.org.models import Community, District, Grid, Street, Unit, User
from jiedao.org.roles import (
    ADMIN,
    ALL_ROLES,
    DISPATCHER,
    DISTRICT,
    EVALUATOR,
    GRID_WORKER,
    HANDLER,
    LEADER,
    OPERATOR,
    RESIDENT,
)
from jiedao.registry.demo import build_registry

from . import places

DEMO_PASSWORD = "demo12345"

# (code, name, kind) — street sections and district departments' stationed groups.
UNITS = [
    ("ZHZF", "综合执法队", Unit.Kind.SECTION),
    ("GGFW", "公共服务部（便民服务中心）", Unit.Kind.SECTION),
    ("SQZL", "社区治理部", Unit.Kind.SECTION),
    ("YJGL", "应急管理中心", Unit.Kind.SECTION),
    ("PAJS", "平安建设办", Unit.Kind.SECTION),
    ("CG", "区城管委派驻组", Unit.Kind.DEPARTMENT),
    ("MZ", "区民政局派驻组", Unit.Kind.DEPARTMENT),
    ("ZJ", "区住建委派驻组", Unit.Kind.DEPARTMENT),
    ("SCJG", "区市场监管局派驻所", Unit.Kind.DEPARTMENT),
    ("STHJ", "区生态环境局派驻组", Unit.Kind.DEPARTMENT),
    ("WJ", "区卫健委派驻组", Unit.Kind.DEPARTMENT),
]
DEFAULT_UNIT = "GGFW"

# The demo accounts printed at start: (username, role, display name, description).
DEMO_ACCOUNTS = [
    ("admin", ADMIN, "系统管理员", "系统管理员（组织、分类、权责清单、派单规则、用户）"),
    ("operator", OPERATOR, "话务员小陈", "话务员/窗口受理员（登记诉求、回访）"),
    ("dispatcher", DISPATCHER, "指挥中心派单员老周", "派单员（分类、派单、退单处理、吹哨）"),
    ("handler", HANDLER, "综合执法队张队", "承办人：综合执法队"),
    ("grid", GRID_WORKER, "网格员小李", "网格员：东湖社区第一、第二网格"),
    ("leader", LEADER, "街道办主任", "街道领导（驾驶舱、督办、延期审批）"),
    ("evaluator", EVALUATOR, "考核办小刘", "考核评估员（指标库、创新指数评分、整改验收、月通报）"),
    ("resident", RESIDENT, "王大妈", "居民（东湖社区）"),
    ("district", DISTRICT, "区考核科老孙", "区级用户（各街道三率排名、各街道驾驶舱，只读）"),
]
RESIDENT_PHONE = "13800138000"

# Time limits by category path: the most specific entry wins.
# (response hours, completion working days, response counted in office hours only)
TOP_LIMITS = {
    "城乡建设": (4, 7, False),
    "党务政务": (24, 15, True),
    "国土资源": (24, 15, True),
    "环境保护": (4, 7, False),
    "纪检监察": (24, 15, True),
    "交通运输": (8, 10, False),
    "经济管理": (24, 15, True),
    "科技与信息产业": (24, 15, True),
    "民政": (8, 10, True),
    "农村农业": (24, 15, True),
    "商贸旅游": (8, 10, False),
    "卫生计生": (4, 7, False),
    "政法": (4, 7, False),
    "教育文体": (8, 10, True),
    "劳动和社会保障": (8, 10, True),
}
MID_LIMITS = {
    "城市建设和市政管理": (2, 5, False),
    "安全生产": (1, 3, False),
    "住房保障与房地产": (4, 7, False),
    "环境污染": (2, 5, False),
    "社会治安": (2, 5, False),
    "食品药品监管": (2, 5, False),
    "公共卫生": (1, 3, False),
    "社会救助": (4, 7, True),
    "劳动关系": (4, 10, True),
}
LEAF_LIMITS = {
    ("城乡规划", "违章建筑"): (24, 3, False),
    ("城市建设和市政管理", "环境卫生"): (2, 3, False),
    ("城市建设和市政管理", "城管执法"): (2, 3, False),
    ("城市建设和市政管理", "燃气供应"): (1, 2, False),
    ("城市建设和市政管理", "自来水供应"): (2, 2, False),
    ("城市建设和市政管理", "电力供应"): (2, 2, False),
    ("城市建设和市政管理", "冬季采暖"): (2, 2, False),
    ("环境污染", "噪音污染"): (2, 3, False),
    ("社会治安", "消防安全"): (1, 2, False),
    ("住房保障与房地产", "物业服务"): (4, 5, False),
}
# Leaves whose result a grid worker verifies on site.
VERIFIED = {
    ("城乡规划", "违章建筑"),
    ("城市建设和市政管理", "环境卫生"),
    ("城市建设和市政管理", "城市公共设施"),
    ("城市建设和市政管理", "基础设施"),
    ("城市建设和市政管理", "园林绿化环卫"),
    ("城市建设和市政管理", "城管执法"),
    ("城市建设和市政管理", "居民服务设施"),
    ("环境污染", "噪音污染"),
    ("环境污染", "大气污染"),
    ("社会治安", "消防安全"),
    ("住房保障与房地产", "物业服务"),
}


@dataclass
class DemoStreet:
    street: Street
    communities: list
    grids: list
    units: dict
    users: dict = field(default_factory=dict)


def _limits(path):
    top = path[0]
    response, workdays, office = TOP_LIMITS.get(top, (8, 10, True))
    if len(path) >= 2 and path[1] in MID_LIMITS:
        response, workdays, office = MID_LIMITS[path[1]]
    if len(path) == 3:
        leaf = (path[1], path[2])
        if leaf in LEAF_LIMITS:
            response, workdays, office = LEAF_LIMITS[leaf]
        elif "纠纷" in path[2] or "调解" in path[2]:
            # 邻里纠纷-like matters: respond within a day, settle within three working days.
            response, workdays, office = 24, 3, False
    verify = len(path) == 3 and (path[1], path[2]) in VERIFIED
    return response, workdays, office, verify


def configure_categories():
    """Loads the taxonomy and gives every node its time limits."""
    load_taxonomy()
    nodes = {c.pk: c for c in Category.objects.all()}
    paths = {}

    def path_of(cat):
        if cat.pk not in paths:
            parent = nodes.get(cat.parent_id)
            paths[cat.pk] = (path_of(parent) if parent else ()) + (cat.name,)
        return paths[cat.pk]

    for cat in nodes.values():
        response, workdays, office, verify = _limits(path_of(cat))
        cat.response_hours = Decimal(response)
        cat.completion_workdays = workdays
        cat.office_hours_only = office
        cat.needs_verification = verify
    Category.objects.bulk_update(
        list(nodes.values()),
        ["response_hours", "completion_workdays", "office_hours_only", "needs_verification"],
        batch_size=500,
    )
    return {path_of(c): c for c in nodes.values()}


@transaction.atomic
def build(password=DEMO_PASSWORD) -> DemoStreet:
    """Creates the demo street. Raises if a street with the demo code already exists."""
    for role in ALL_ROLES:
        Group.objects.get_or_create(name=role)
    groups = {g.name: g for g in Group.objects.filter(name__in=ALL_ROLES)}

    district, _ = District.objects.get_or_create(code=places.DISTRICT[0], defaults={"name": places.DISTRICT[1]})
    street = Street.objects.create(district=district, code=places.STREET[0], name=places.STREET[1])

    communities, grids = [], []
    geometry = dict(places.community_geometry())
    for index, (suffix, name, _estates, _roads) in enumerate(places.COMMUNITIES):
        community = Community.objects.create(street=street, code=f"{street.code}{suffix}", name=name)
        communities.append(community)
        for g_index, rect in enumerate(geometry[index]):
            grids.append(
                Grid(
                    community=community,
                    code=f"{community.code}{g_index + 1:02d}",
                    name=places.GRID_NAMES[g_index],
                    boundary=places.polygon(*rect),
                )
            )
    Grid.objects.bulk_create(grids)
    locate.invalidate()  # written without signals: the point index forgets the boundaries it had
    grids = list(Grid.objects.filter(community__street=street).select_related("community").order_by("code"))

    units = {}
    for code, name, kind in UNITS:
        units[code] = Unit.objects.create(street=street, code=code, name=name, kind=kind)
    # District departments that negative-list matters are sent up to (上报区级).
    for code, name in DISTRICT_UNITS.items():
        units[code] = Unit.objects.create(street=street, code=code, name=name, kind=Unit.Kind.DISTRICT)
    for index, community in enumerate(communities):
        code = f"JWH{index + 1:02d}"
        units[code] = Unit.objects.create(
            street=street, code=code, name=f"{community.name}居委会", kind=Unit.Kind.COMMUNITY, community=community
        )
    street.default_unit = units[DEFAULT_UNIT]
    street.save()

    configure_categories()
    # Routing comes from the responsibility list (jiedao.duties.demo), written below with
    # its history; no override rules are needed for the demo street.
    users = _make_users(street, communities, grids, units, groups, password)
    build_duty_list(users["admin"], street)
    build_grid_teams(grids, users)
    build_base_map(street)
    build_registry(street, grids, timezone.now())
    build_hall(street, units, users, timezone.now())
    build_knowledge(street, users, timezone.now())
    return DemoStreet(street=street, communities=communities, grids=grids, units=units, users=users)


def _make_users(street, communities, grids, units, groups, password):
    # One hash for all demo accounts: hashing is slow on purpose, and they share a password.
    hashed = make_password(password)
    users = {}

    def add(username, role, display_name, unit=None, phone="", superuser=False):
        # A district user belongs to the district, not to a street.
        at_district = role == DISTRICT
        user = User(
            username=username,
            password=hashed,
            display_name=display_name,
            street=None if at_district else street,
            district=street.district if at_district else None,
            unit=unit,
            phone=phone,
            is_staff=superuser,
            is_superuser=superuser,
        )
        user.save()
        if role:
            user.groups.add(groups[role])
        users[username] = user
        return user

    for username, role, display_name, _about in DEMO_ACCOUNTS:
        if username == "admin":
            add(username, role, display_name, superuser=True)
        elif username == "handler":
            add(username, role, display_name, unit=units["ZHZF"])
        elif username == "resident":
            add(username, role, display_name, phone=RESIDENT_PHONE)
        else:
            add(username, role, display_name)
    users["grid"].grids.set(grids[:2])

    for code, unit in units.items():
        add(f"handler_{code.lower()}", HANDLER, f"{unit.name}承办人", unit=unit)
    for grid in grids:
        worker = add(f"grid_{grid.code[-4:]}", GRID_WORKER, f"{grid.community.name}{grid.name}网格员")
        worker.grids.set([grid])
    return users


def build_grid_teams(grids, users, seed=7):
    """Each grid's team: its full-time worker (with an account), two part-time workers and
    two 楼门长 (building heads) known by name and phone."""
    rng = random.Random(seed)

    def person():
        name = rng.choice(places.SURNAMES) + "".join(rng.choice(places.GIVEN_CHARS) for _ in range(rng.randint(1, 2)))
        phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        return name, phone

    members = []
    for grid in grids:
        for user in grid.workers.order_by("username"):
            members.append(GridMember(grid=grid, role=GridMember.Role.FULL_TIME, user=user))
        for _ in range(2):
            name, phone = person()
            members.append(GridMember(grid=grid, role=GridMember.Role.PART_TIME, name=name, phone=phone))
        for building in (1, 2):
            name, phone = person()
            members.append(
                GridMember(
                    grid=grid,
                    role=GridMember.Role.BUILDING_HEAD,
                    name=name,
                    phone=phone,
                    buildings=f"{building * 2 - 1}-{building * 2}号楼",
                )
            )
    GridMember.objects.bulk_create(members)


def build_base_map(street):
    """The street's base map (底图): the roads of its communities with their names, the main
    roads, the residents' committees, the street office and the service hall, laid out over
    the communities' grids (``places.base_map_geojson``) and imported like any street's
    base-map file. Replaces what the street had."""
    extents = []
    for community in street.communities.order_by("code"):
        bounds = [shape(b).bounds for b in community.grids.exclude(boundary=None).values_list("boundary", flat=True)]
        if bounds:
            extent = (
                min(b[0] for b in bounds),
                min(b[1] for b in bounds),
                max(b[2] for b in bounds),
                max(b[3] for b in bounds),
            )
            extents.append((community.name, extent))
    data = places.base_map_geojson(street.code, street.name, extents)
    if data["features"]:
        geo_services.import_geojson(None, data=data, level="basemap")


def ensure_base_map(street):
    """Draws the base map of a demo street built before there was one."""
    if not MapFeature.objects.filter(street=street).exists():
        build_base_map(street)


def demo_street():
    """The demo street as built earlier, or None."""
    street = Street.objects.filter(code=places.STREET[0]).first()
    if street is None:
        return None
    communities = list(street.communities.order_by("code"))
    grids = list(Grid.objects.filter(community__street=street).select_related("community").order_by("code"))
    units = {u.code: u for u in Unit.objects.filter(street=street)}
    users = {u.username: u for u in User.objects.filter(street=street).select_related("unit")}
    return DemoStreet(street=street, communities=communities, grids=grids, units=units, users=users)
