"""The rating link sent by SMS (好差评短信链接): it cannot be forged with the key published in
the source, and it stops working after RATING_LINK_DAYS, with a page that says so."""

import time

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from jiedao.hall import links, services
from jiedao.hall.models import Rating

from .conftest import NOW, materials

APPLICANT = {"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"}
DAY = 24 * 3600


@pytest.fixture
def issued(hall, street):
    clerk = street.users.operator
    app = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=APPLICANT, materials=materials(hall["elderly"]), now=NOW
    )
    services.approve(street.users.leader, number=app.number, now=NOW)
    return services.issue(clerk, number=app.number, delivery="on_the_spot", now=NOW)


class SignedDaysAgo(signing.TimestampSigner):
    """A signer whose clock reads ``days`` ago: the link as the server made it back then."""

    def __init__(self, days, **kwargs):
        self.days = days
        super().__init__(**kwargs)

    def timestamp(self):
        return signing.b62_encode(int(time.time()) - self.days * DAY)


def _rate_by_link(token, number, street):
    """The link opened signed out (the page), and sent by a signed-in resident's app (the API)."""
    client = Client()
    page = client.get(f"/hall/applications/{number}/", {"t": token})
    post = client.post(f"/hall/applications/{number}/?t={token}", {"action": "rate", "level": "1"})
    app = Client()
    app.force_login(street.users.resident)
    api = app.post(
        f"/api/v1/hall/applications/{number}/actions/rate",
        {"level": 1, "channel": "sms", "token": token},
        content_type="application/json",
    )
    return page, post, api


def test_a_rating_link_forged_with_the_key_from_the_source_is_refused(issued, street):
    assert settings.SECRET_KEY != settings.DEMO_SECRET_KEY  # the server runs with its own key
    forged = signing.dumps(issued.number, key=settings.DEMO_SECRET_KEY, salt=links.RATING_SALT)
    page, post, api = _rate_by_link(forged, issued.number, street)
    assert page.status_code == 404 and "赵" not in page.content.decode()
    assert post.status_code == 404
    assert api.status_code == 404
    assert not Rating.objects.filter(application=issued).exists()


def test_a_genuine_link_opens_the_application_and_rates_it(issued, street):
    page, post, _api = _rate_by_link(services.rating_token(issued), issued.number, street)
    assert page.status_code == 200 and issued.number in page.content.decode()
    assert post.status_code == 302
    assert Rating.objects.get(application=issued).level == 1


def test_an_expired_link_is_refused_with_a_page_that_says_what_to_do(issued, street):
    old = SignedDaysAgo(31, salt=links.RATING_SALT).sign_object(issued.number)
    page, post, api = _rate_by_link(old, issued.number, street)
    text = page.content.decode()
    assert page.status_code == 410
    assert "评价链接已过期" in text and "30 天有效期" in text and "便民服务中心窗口" in text
    assert "赵" not in text  # nothing of the application is shown
    assert post.status_code == 410
    assert api.status_code == 410 and "30 天有效期" in api.json()["errors"][0]["message"]
    assert not Rating.objects.filter(application=issued).exists()


def test_a_link_within_its_days_still_works_and_the_days_are_a_setting(issued, settings):
    recent = SignedDaysAgo(29, salt=links.RATING_SALT).sign_object(issued.number)
    assert Client().get(f"/hall/applications/{issued.number}/", {"t": recent}).status_code == 200
    settings.JIEDAO = dict(settings.JIEDAO, RATING_LINK_DAYS=7)
    refused = Client().get(f"/hall/applications/{issued.number}/", {"t": recent})
    assert refused.status_code == 410 and "7 天有效期" in refused.content.decode()


def test_a_link_of_another_application_opens_nothing(issued, hall, street):
    other = services.accept_at_window(
        street.users.operator,
        item_code="11010500100001",
        applicant=APPLICANT,
        materials=materials(hall["elderly"]),
        now=NOW,
    )
    expired_other = SignedDaysAgo(31, salt=links.RATING_SALT).sign_object(other.number)
    page, _post, _api = _rate_by_link(services.rating_token(other), issued.number, street)
    assert page.status_code == 404
    assert Client().get(f"/hall/applications/{issued.number}/", {"t": expired_other}).status_code == 404
