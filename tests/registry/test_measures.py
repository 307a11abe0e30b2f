"""The assistance list (帮扶清单), the visits-per-week measure against a hand-computed
example, data freshness, and logging visits."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.org import services as org_services
from jiedao.registry import selectors, services
from jiedao.registry.models import Building, Person, Visit
from tests.factories import PASSWORD, WEDNESDAY

from .test_access import _sheet_text


def names(persons):
    return sorted(p.name for p in persons)


def test_the_assistance_list_selects_special_care_persons_by_grid_and_tag(registry, street):
    admin = street.users.admin
    g11, g12, g21, _g22 = street.grids
    everyone, _g, _t = selectors.assistance_list(admin)
    assert names(everyone) == ["张桂兰", "李建国", "王秀英"]  # 李小明 and 赵强 carry no tag
    by_grid, _g, _t = selectors.assistance_list(admin, grids=[g12.code])
    assert names(by_grid) == ["王秀英"]
    by_tag, _g, _t = selectors.assistance_list(admin, tags=["alone_elderly", "低保"])
    assert names(by_tag) == ["张桂兰", "李建国"]
    both, _g, _t = selectors.assistance_list(admin, grids=[g11.code, g21.code], tags=["empty_nest"])
    assert names(both) == []
    # Moved-out persons leave the list; a grid worker's list is their own grids'.
    Person.objects.filter(name="李建国").update(status=Person.Status.MOVED)
    assert names(selectors.assistance_list(admin)[0]) == ["张桂兰", "王秀英"]
    assert names(selectors.assistance_list(street.users.grid_other)[0]) == []
    with pytest.raises(ValidationFailed):
        selectors.assistance_list(street.users.grid_other, grids=[g11.code])  # not their grid


def _visit(person, worker, at):
    return Visit.objects.create(person=person, worker=worker, at=at, kind=Visit.Kind.HOME)


def test_visits_per_special_care_person_per_week_matches_a_hand_computed_example(registry, street):
    p = registry.people
    worker = street.users.grid
    end = WEDNESDAY
    day = dt.timedelta(days=1)
    # In the two weeks before ``end``: 张桂兰 3 visits, 李建国 1, 王秀英 0.
    for back in (1, 4, 12):
        _visit(p["张桂兰"], worker, end - back * day)
    _visit(p["李建国"], worker, end - 2 * day)
    # Not counted: before the window, at the window's end, and a person without a tag.
    _visit(p["李建国"], worker, end - 15 * day)
    _visit(p["张桂兰"], worker, end)
    _visit(p["李小明"], worker, end - 3 * day)
    rate = selectors.visits_per_week(street.users.admin, weeks=2, end=end)
    # (3 + 1) visits ÷ 3 special-care persons ÷ 2 weeks = 0.667
    assert (rate.visits, rate.persons, rate.weeks) == (4, 3, 2)
    assert rate.rate == pytest.approx(4 / 3 / 2)
    assert rate.as_dict()["visits_per_person_per_week"] == 0.67
    # Only 独居老人: 3 visits ÷ 1 person ÷ 2 weeks.
    assert selectors.visits_per_week(street.users.admin, tags=["alone_elderly"], weeks=2, end=end).rate == 1.5
    # The second 东湖 grid: 王秀英, never visited.
    g12 = street.grids[1]
    assert selectors.visits_per_week(street.users.admin, grids=[g12.code], weeks=2, end=end).rate == 0
    # Nobody on the list: no rate rather than a made-up zero.
    assert selectors.visits_per_week(street.users.grid_other, weeks=2, end=end).rate is None
    # Week by week: the last week holds 张桂兰's visits 1 and 4 days back, and 李建国's 2 days back.
    weekly = selectors.weekly_visit_rates(street.users.admin, weeks=2, end=end)
    assert [w.visits for w in weekly] == [1, 3]


def test_data_freshness_is_the_share_confirmed_within_n_days(registry, street):
    now = timezone.now()
    Person.objects.filter(name__in=["张桂兰", "李建国"]).update(confirmed_at=now - dt.timedelta(days=200))
    Building.objects.filter(code="B21").update(confirmed_at=now - dt.timedelta(days=400))
    rows, _total = selectors.freshness(street.users.admin, days=180, now=now)
    by_kind = {r.kind: r for r in rows}
    assert (by_kind["persons"].fresh, by_kind["persons"].total) == (3, 5)
    assert (by_kind["buildings"].fresh, by_kind["buildings"].total) == (2, 3)
    assert by_kind["persons"].share == pytest.approx(0.6)
    # The grid worker of 西园 sees only their grid: one person, one building (old), one household.
    rows, _total = selectors.freshness(street.users.grid_other, days=180, now=now)
    by_kind = {r.kind: r for r in rows}
    assert (by_kind["persons"].fresh, by_kind["persons"].total) == (1, 1)
    assert (by_kind["buildings"].fresh, by_kind["buildings"].total) == (0, 1)


def test_a_grid_worker_logs_visits_for_their_own_grids_only(registry, street):
    zhang, zhao = registry.people["张桂兰"], registry.people["赵强"]
    visit = services.record_visit(street.users.grid, person_id=zhang.pk, kind="phone", note="电话问候")
    assert visit.worker == street.users.grid and visit.kind == "phone"
    with pytest.raises(NotFound):
        services.record_visit(street.users.grid, person_id=zhao.pk, kind="home")
    with pytest.raises(NotAllowed):
        services.record_visit(street.users.leader, person_id=zhang.pk, kind="home")
    with pytest.raises(ValidationFailed) as caught:
        services.record_visit(
            street.users.grid, person_id=zhang.pk, kind="fly", at=timezone.now() + dt.timedelta(days=1)
        )
    assert {e["field"] for e in caught.value.errors} == {"kind", "at"}


def test_the_visit_form_and_the_api_record_visits(registry, street, login):
    zhang = registry.people["张桂兰"]
    client = login(street.users.grid)
    page = client.get(reverse("registry:visit") + f"?person={zhang.pk}").content.decode()
    assert "张桂兰" in page and "赵强" not in page
    response = client.post(reverse("registry:visit"), {"person": zhang.pk, "kind": "home", "note": "上门看望"})
    assert response.status_code == 302
    assert Visit.objects.get().note == "上门看望"

    plain, _token = org_services.create_token("grid", password=PASSWORD)
    api = Client()
    response = api.post(
        "/api/v1/registry/visits",
        json.dumps({"person": zhang.pk, "kind": "phone"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 201 and response.json()["kind_label"] == "电话"
    response = api.post(
        "/api/v1/registry/visits",
        json.dumps({"person": zhang.pk, "kind": "letter"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "kind"
    listing = api.get(
        "/api/v1/registry/assistance-list", {"tag": "alone_elderly"}, HTTP_AUTHORIZATION=f"Bearer {plain}"
    ).json()
    assert listing["count"] == 1 and listing["items"][0]["recent_visits"] == 2
    assert listing["items"][0]["id_number"] != zhang.id_number


def test_the_assistance_page_prints_and_exports_the_selection(registry, street, login):
    client = login(street.users.leader)
    g12 = street.grids[1]
    page = client.get(reverse("registry:assistance"), {"grid": g12.code}).content.decode()
    assert "王秀英" in page and "张桂兰" not in page
    assert "registry.css" in page and "data-print" in page  # the print button (site.js prints)
    assert f"grid={g12.code}" in page  # the export link keeps the selection
    response = client.get(reverse("registry:assistance_export"), {"grid": g12.code})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    text = _sheet_text(response.content)
    assert "王秀英" in text and "张桂兰" not in text


def test_tags_are_added_and_removed_by_people_of_the_place(registry, street, login):
    zhao = registry.people["赵强"]
    services.tag_person(street.users.grid_other, person_id=zhao.pk, tag="disabled")
    assert [t.name for t in zhao.tags.all()] == ["残疾人"]
    with pytest.raises(NotFound):
        services.tag_person(street.users.grid, person_id=zhao.pk, tag="chronic")
    response = login(street.users.grid_other).post(
        reverse("registry:person_tags", args=[zhao.pk]), {"tag": "disabled", "action": "remove"}
    )
    assert response.status_code == 302 and not zhao.tags.exists()
