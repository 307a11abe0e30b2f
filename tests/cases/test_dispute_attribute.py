"""矛盾纠纷类: an attribute of a category that administrators set in the admin (the shipped
tree and the demo mark 司法调解 and the names with 纠纷 or 矛盾), and 矛盾纠纷化解率 counts the
cases of the marked categories and their children — not the categories whose names happen to
say 纠纷."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from jiedao.cases import services
from jiedao.cases.models import Category
from jiedao.cases.taxonomy import load_taxonomy
from jiedao.evaluation import indicators as lib
from jiedao.evaluation import periods
from tests.cases.lifecycle import HOUR, SANITATION
from tests.factories import WEDNESDAY

pytestmark = pytest.mark.django_db
MONTH_END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def category(code, name, parent, *, dispute=False):
    return Category.objects.create(code=code, name=name, level=parent.level + 1, parent=parent, is_dispute=dispute)


def rated_case(street, code, *, resolved, at):
    """A case of category ``code`` handled by the enforcement team and rated by the resident."""
    u = street.users
    case, _ = services.submit_case(
        u.resident, channel="portal", description="邻居装修噪音影响休息", lat=39.905, lng=116.405, at=at
    )
    services.classify(u.dispatcher, number=case.number, category_code=code, at=at)
    services.dispatch(u.dispatcher, number=case.number, unit_code="ZHZF", at=at)
    services.respond(u.handler, number=case.number, at=at + HOUR)
    services.resolve(u.handler, number=case.number, result="已上门调解，双方达成一致", at=at + 2 * HOUR)
    satisfaction = "satisfied" if resolved else "unsatisfied"
    services.rate(u.resident, number=case.number, resolved=resolved, satisfaction=satisfaction, at=at + 3 * HOUR)
    return case


def test_dispute_resolution_counts_the_marked_categories_and_their_children(street):
    top = Category.objects.create(code="09", name="政法", level=1)
    mediation = category("0901", "仲裁与调解", top, dispute=True)  # marked: its children count
    judicial = category("090101", "司法调解", mediation)
    labour = Category.objects.create(code="10", name="劳动和社会保障", level=1)
    relations = category("1001", "劳动关系", labour)
    contract = category("100101", "劳动合同纠纷", relations, dispute=False)  # an administrator took it off

    rated_case(street, judicial.code, resolved=True, at=WEDNESDAY)
    rated_case(street, judicial.code, resolved=False, at=WEDNESDAY + 4 * HOUR)
    rated_case(street, contract.code, resolved=False, at=WEDNESDAY + 8 * HOUR)
    rated_case(street, SANITATION, resolved=True, at=WEDNESDAY + 12 * HOUR)

    values = lib.get("dispute_resolution_rate").compute(periods.parse("2026-11"), "street", lib.Run(now=MONTH_END))
    # Hand count: the two 司法调解 ratings (under the marked 仲裁与调解), one resolved: 1 / 2.
    # Matching names with 纠纷 or 矛盾 instead would count the 劳动合同纠纷 rating alone: 0 / 1.
    value = values["110105001"]
    assert (value.numerator, value.denominator, value.value) == (1, 2, 0.5)


def test_the_shipped_tree_marks_judicial_mediation_and_the_disputes(db):
    load_taxonomy()
    marked = set(Category.objects.filter(is_dispute=True).values_list("name", flat=True))
    assert {"司法调解", "劳动合同纠纷", "宅基地纠纷", "医患纠纷", "土地权属纠纷"} <= marked
    assert not marked & {"仲裁与调解", "政法", "患者权益", "城乡建设"}
    assert all("纠纷" in name or "矛盾" in name or name == "司法调解" for name in marked)


def test_the_migration_marks_the_existing_categories(db):
    top = Category.objects.create(code="01", name="政法", level=1)
    neighbours = category("0101", "邻里纠纷", top)
    judicial = category("0102", "司法调解", top)
    contradiction = category("0103", "家庭矛盾调处", top)
    other = category("0104", "治安案件", top)
    migration = importlib.import_module("jiedao.cases.migrations.0015_category_dispute_and_flags")
    migration.mark_disputes(apps, None)
    marked = {c.pk for c in Category.objects.filter(is_dispute=True)}
    assert marked == {neighbours.pk, judicial.pk, contradiction.pk}
    assert other.pk not in marked


def test_the_demo_street_marks_its_dispute_categories(db):
    from jiedao.demo.builder import configure_categories

    configure_categories()
    assert Category.objects.get(name="司法调解").is_dispute
    assert not Category.objects.get(name="仲裁与调解").is_dispute


def test_administrators_set_the_attribute_in_the_admin(street, client):
    admin = street.users.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    sanitation = Category.objects.get(code=SANITATION)
    url = reverse("admin:cases_category_change", args=[sanitation.pk])
    assert "矛盾纠纷类" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "code": sanitation.code,
            "name": sanitation.name,
            "level": sanitation.level,
            "parent": sanitation.parent_id,
            "response_hours": "2",
            "completion_workdays": "5",
            "is_dispute": "on",
            "active": "on",
            "children-TOTAL_FORMS": "0",
            "children-INITIAL_FORMS": "0",
            "children-MIN_NUM_FORMS": "0",
            "children-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Category.objects.get(pk=sanitation.pk).is_dispute
    listing = client.get(reverse("admin:cases_category_changelist"), {"is_dispute__exact": "1"}).content.decode()
    assert sanitation.code in listing and "矛盾纠纷类" in listing
