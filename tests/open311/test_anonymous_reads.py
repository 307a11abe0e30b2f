"""Open311 reads without a key cannot overload the server: they are limited per address and
answered in the standard's error list when refused, the lists come one page at a time, and the
same list asked again within the cache time is answered from the shared cache. A key holder or
signed-in street staff gets fresh data and is not limited per address."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.cases.models import Case
from tests.factories import PASSWORD

from .conftest import BASE, errors_of, items_of

FORMATS = ["xml", "json"]


def report(street, description="路灯不亮"):
    case, _created = case_services.submit_case(
        street.users.operator,
        channel="phone",
        description=description,
        reporter_phone="13812345678",
        category_code="010101",
    )
    return case


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_sixty_first_anonymous_read_in_a_minute_is_refused_in_the_standard_error_list(client, street, fmt):
    for _ in range(60):
        assert client.get(f"{BASE}/requests.{fmt}", REMOTE_ADDR="198.51.100.60").status_code == 200
    refused = client.get(f"{BASE}/requests.{fmt}", REMOTE_ADDR="198.51.100.60")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    [(code, description)] = errors_of(refused, fmt)  # also checks the content type and the XML declaration
    assert code == 429 and "请求过于频繁" in description
    # Every read of that address is refused, not only the list; another address is answered.
    assert client.get(f"{BASE}/services.{fmt}", REMOTE_ADDR="198.51.100.60").status_code == 429
    assert client.get(f"{BASE}/requests.{fmt}", REMOTE_ADDR="198.51.100.61").status_code == 200


def test_a_key_holder_and_signed_in_staff_are_not_limited_per_address(client, street, key, settings):
    settings.JIEDAO = dict(settings.JIEDAO, OPEN311_READ_RATE="2/m")
    for _ in range(2):
        assert client.get(f"{BASE}/requests.json").status_code == 200
    assert client.get(f"{BASE}/requests.json").status_code == 429
    assert client.get(f"{BASE}/requests.json", {"api_key": "not-a-key"}).status_code == 429
    for _ in range(5):
        assert client.get(f"{BASE}/requests.json", {"api_key": key[1]}).status_code == 200
    assert client.login(username=street.users.dispatcher.username, password=PASSWORD)
    assert client.get(f"{BASE}/requests.json").status_code == 200


def test_the_anonymous_list_is_one_page_answered_from_the_cache(client, street, key):
    now = timezone.now()
    Case.objects.bulk_create(
        [
            Case(number=f"T{i:06d}", channel="phone", description="x", created_at=now - dt.timedelta(minutes=i + 1))
            for i in range(120)
        ]
    )
    first = client.get(f"{BASE}/requests.json")
    assert len(first.json()) == 50 and 'rel="next"' in first["Link"]
    new = report(street, "新来的诉求")
    again = client.get(f"{BASE}/requests.json")
    assert again.content == first.content and again["Link"] == first["Link"]
    assert new.number not in again.content.decode()
    # The key holder sees it at once, at the top of the list.
    fresh = client.get(f"{BASE}/requests.json", {"api_key": key[1]}).json()
    assert fresh[0]["service_request_id"] == new.number
    # The same list in the other format, or another page, is its own entry.
    assert items_of(client.get(f"{BASE}/requests.xml"), "xml")[0]["service_request_id"] == new.number


def test_the_cached_list_is_renewed_after_the_cache_time(client, street, settings):
    # Long enough that a busy machine reports and asks again within it.
    settings.JIEDAO = dict(settings.JIEDAO, OPEN311_CACHE_SECONDS=3)
    assert client.get(f"{BASE}/requests.json").json() == []
    new = report(street)
    assert client.get(f"{BASE}/requests.json").json() == []
    time.sleep(3.2)
    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()] == [new.number]


def test_updates_come_in_pages_too(client, street, key):
    cases = [report(street, f"第{i}件") for i in range(3)]
    for case in cases:
        case_services.dispatch(street.users.dispatcher, number=case.number)
    first = client.get(f"{BASE}/servicerequestupdates.json", {"page_size": 2})
    assert [u["service_request_id"] for u in first.json()] == [c.number for c in cases[:2]]
    assert "page=2" in first["Link"]
    second = client.get(f"{BASE}/servicerequestupdates.json", {"page_size": 2, "page": 2})
    assert [u["service_request_id"] for u in second.json()] == [cases[2].number]
    assert "Link" not in second


@pytest.mark.parametrize("fmt", FORMATS)
def test_guessing_tokens_is_refused_after_twenty_failures(client, street, key, fmt):
    token = client.post(
        f"{BASE}/requests.json",
        {"api_key": key[1], "service_code": "010101", "lat": "39.905", "long": "116.405", "description": "井盖松动"},
    ).json()[0]["token"]
    assert client.get(f"{BASE}/tokens/{token}.{fmt}").status_code == 200
    for i in range(20):
        assert client.get(f"{BASE}/tokens/guess{i}.{fmt}").status_code == 404
    refused = client.get(f"{BASE}/tokens/{token}.{fmt}")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert errors_of(refused, fmt)[0][0] == 429
    assert client.get(f"{BASE}/tokens/{token}.{fmt}", REMOTE_ADDR="198.51.100.70").status_code == 200
