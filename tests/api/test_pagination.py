"""Keyset pagination of GET /api/v1/cases: every case once, a fixed number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import WEDNESDAY

from .conftest import dispatched, submit


@pytest.fixture
def many_cases(street):
    """23 cases; several share the same intake time, so ties must be broken by key."""
    cases = []
    for i in range(23):
        at = WEDNESDAY + dt.timedelta(minutes=(i // 4))  # groups of four with equal times
        if i % 3 == 0:
            cases.append(dispatched(street, category="010101", unit="ZHZF", at=at))
        else:
            cases.append(submit(street, at=at, grid_code="1101050010201"))
    return cases


def walk(client, limit, **params):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        body = client.get("/cases", query).json()
        seen.extend(item["number"] for item in body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


@pytest.mark.parametrize("limit", [1, 5, 7, 23, 50])
def test_every_case_exactly_once_newest_first(street, api, many_cases, limit):
    seen, pages = walk(api(street.users.leader), limit)
    assert sorted(seen) == sorted(c.number for c in many_cases)
    assert len(seen) == len(set(seen))
    assert pages == -(-len(many_cases) // limit)  # the last page says there is no next one
    created = [c.created_at for c in sorted(many_cases, key=lambda c: c.number)]
    assert created == sorted(created)
    # Newest first: case numbers of one day grow with time, so they come out descending.
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("limit", [4, 6])
def test_deadline_order_pages_cover_every_case(street, api, many_cases, limit):
    seen, _pages = walk(api(street.users.dispatcher), limit, order="due")
    assert sorted(seen) == sorted(c.number for c in many_cases)
    assert len(seen) == len(set(seen))


def test_a_scoped_list_pages_only_through_visible_cases(street, api, many_cases):
    seen, _pages = walk(api(street.users.handler), 2)
    assert sorted(seen) == sorted(c.number for c in many_cases if c.unit_id == street.units.enforcement.pk)


@pytest.mark.parametrize("who", ["leader", "handler", "grid_other"])
def test_each_page_runs_the_same_number_of_queries_whatever_its_size(street, api, many_cases, who):
    client = api(getattr(street.users, who))
    first = client.get("/cases", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    with CaptureQueriesContext(connection) as small:
        page = client.get("/cases", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(page["items"]) == 2
    with CaptureQueriesContext(connection) as large:
        page = client.get("/cases", {"limit": 6, "cursor": first["next_cursor"]}).json()
    assert len(page["items"]) == 6
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(large.captured_queries) <= 4
