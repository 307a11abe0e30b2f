import pytest

from jiedao.cases import services


@pytest.fixture
def make_case(street):
    """A case reported by the street's resident, optionally classified and dispatched."""

    def _make(description="楼下垃圾桶满了没人清运", category="010101", dispatch=True, reporter=None,
              lat=39.905, lng=116.405, unit=None, **kwargs):
        reporter = reporter or street.users.resident
        case, _ = services.submit_case(reporter, channel="portal", description=description, lat=lat, lng=lng,
                                       reporter_phone=kwargs.pop("phone", ""), **kwargs)
        if category:
            services.classify(street.users.dispatcher, case.number, category)
            if dispatch:
                services.dispatch(street.users.dispatcher, case.number, unit_code=unit)
        case.refresh_from_db()
        return case

    return _make
