import pytest

from jiedao.cases import services


@pytest.fixture
def make_case(street):
    """A case reported by the street's resident through the portal, classified and dispatched."""

    def _make(description="楼下垃圾桶满了没人清运"):
        case, _ = services.submit_case(street.users.resident, channel="portal", description=description,
                                       lat=39.905, lng=116.405, reporter_phone="13800138000")
        services.classify(street.users.dispatcher, case.number, "010101")
        services.dispatch(street.users.dispatcher, case.number)
        return case

    return _make
