"""The year's cases as they arrive: a channel by the hour (no window or letters at night, grid
workers by day), a category from the month's mix, a place in a grid with an address and
maybe a point, the text a resident would write, and who reported it — a caller, a grid
worker on patrol, or now and then the demo resident through the portal."""

import datetime as dt

from jiedao.cases.bulk import CaseDraft
from jiedao.cases.models import Channel
from jiedao.workcal.calendar import is_workday

from .. import places, texts
from ..builder import RESIDENT_PHONE
from .rhythm import CHANNELS, CLASSIFIED_AT_INTAKE, HAS_LOCATION, OPERATOR_CHANNELS, local


class SimulatedCase(CaseDraft):
    """A case of the simulation: a draft that also knows which texts it was written from."""

    __slots__ = ("leaf_key",)


def new_case(world, at) -> tuple:
    """``(case, category)``: the case as taken in at ``at``, and its matter's category (which
    the case carries already when the intake classified it)."""
    rng = world.rng
    channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
    moment = local(at)
    workday = is_workday(moment.date())
    if channel in (Channel.WINDOW, Channel.LETTER, Channel.LEADER_MAILBOX) and not (workday and 9 <= moment.hour < 17):
        channel = Channel.HOTLINE_12345
    if channel == Channel.GRID and not (8 <= moment.hour < 19):
        channel = Channel.HOTLINE_12345
    patrol = channel == Channel.GRID
    leaves, cumulative = world.mix[(moment.month, patrol)]
    category = rng.choices(leaves, cum_weights=cumulative)[0]
    key = world.leaf_key[category.pk]

    grid = rng.choices(world.grids, world.grid_weights)[0]
    community = grid.community
    estates, roads = world.community_info[community.pk]
    estate, road = rng.choice(estates), rng.choice(roads)
    building = f"{estate}{rng.randint(1, 24)}号楼"
    fill = {
        "place": building,
        "estate": estate,
        "road": road,
        "spot": rng.choice(places.PUBLIC_PLACES),
        "n": rng.randint(2, 9),
        "days": rng.randint(2, 7),
        "leaf": category.name,
    }
    templates = texts.MIX.get(key, (0, "", texts.GENERIC))[2] or texts.GENERIC
    description = rng.choice(templates).format(**fill)

    lat = lng = None
    if rng.random() < HAS_LOCATION[channel]:
        west, south, east, north = world.grid_rects[grid.pk]
        margin_x, margin_y = (east - west) * 0.05, (north - south) * 0.05
        lng = round(rng.uniform(west + margin_x, east - margin_x), 6)
        lat = round(rng.uniform(south + margin_y, north - margin_y), 6)
    elif channel in OPERATOR_CHANNELS and rng.random() < 0.6:
        grid = None  # the operator knows the community, not the grid
    else:
        grid = community = None
    address = (
        f"{road}{rng.randint(1, 120)}号{building}{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}"
        if rng.random() < 0.8
        else f"{road}{fill['spot']}"
    )

    reporter = created_by = None
    name = phone = ""
    if channel in OPERATOR_CHANNELS:
        created_by = world.operator
    elif channel == Channel.GRID:
        workers = world.grid_workers.get(grid.pk) if grid else None
        created_by = rng.choice(workers) if workers else None
    resident_share = 0.05 if world.now - at < dt.timedelta(days=20) else 0.012
    if channel == Channel.PORTAL and rng.random() < resident_share:
        reporter = created_by = world.resident
        name, phone = world.resident.display_name, RESIDENT_PHONE
        grid = world.grids[0]
        community = grid.community
        west, south, east, north = world.grid_rects[grid.pk]
        lng, lat = (
            round(rng.uniform(west + 0.0002, east - 0.0002), 6),
            round(rng.uniform(south + 0.0002, north - 0.0002), 6),
        )
    elif channel != Channel.GRID:
        surname = rng.choice(places.SURNAMES)
        if rng.random() < 0.7:
            name = surname + rng.choice(["女士", "先生"])
        else:
            name = surname + "".join(rng.choice(places.GIVEN_CHARS) for _ in range(rng.randint(1, 2)))
        phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))

    classified = rng.random() < CLASSIFIED_AT_INTAKE.get(channel, 0.0)
    case = SimulatedCase(
        channel=channel,
        description=description,
        created_at=at,
        street_id=world.street_id,
        created_by=created_by,
        reporter=reporter,
        reporter_name=name,
        reporter_phone=phone,
        address=address,
        lat=lat,
        lng=lng,
        community=community,
        grid=grid,
        category=category if classified else None,
    )
    case.leaf_key = key
    return case, category
