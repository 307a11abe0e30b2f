"""The test street with two residents of 东湖社区 (王大妈, 李先生), three more neighbours
and one resident of 西园社区; the committee handler of 东湖 runs its meetings."""

from types import SimpleNamespace

import pytest

from jiedao.participation import services
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _chinese(in_chinese):
    """Messages are checked in Chinese, whatever language an earlier request switched to."""


@pytest.fixture
def people(street, settings):
    settings.PARTICIPATION_SUPPORT_THRESHOLD = 3
    dong, xi = street.communities
    u = street.users
    neighbours = [make_user(f"neighbour{i}", "resident", display_name=f"邻居{i}") for i in range(3)]
    west = make_user("west", "resident", display_name="赵阿姨")
    for user in [u.resident, u.resident_other, *neighbours]:
        services.join_community(user, user=user, community=dong)
    services.join_community(west, user=west, community=xi)
    return SimpleNamespace(
        dong=dong,
        xi=xi,
        wang=u.resident,
        li=u.resident_other,
        neighbours=neighbours,
        west=west,
        staff=u.handler_committee,
        leader=u.leader,
    )
