"""免提交 only where the registry holds what the material proves: a shareable material is not
asked for when the applicant's registry record (一户一档) has the field it needs, and the
application records where it came from; the 免提交 share and the materials asked per item
count only those."""

import pytest
from django.test import Client
from django.urls import reverse

from jiedao.common.crypto import blind_index
from jiedao.common.errors import ValidationFailed
from jiedao.hall import selectors, services
from jiedao.hall.models import Material, MaterialStatus
from jiedao.registry.models import Person

from .conftest import NOW, REGISTERED_ID, household, materials

DAY = NOW.replace(hour=0, minute=0)
LISTED_ID = "110105194802023456"


@pytest.fixture
def listed(street):
    """A resident the registry knows by identity number, but with no household recorded."""
    return Person.objects.create(name="李桂兰", id_number=LISTED_ID, id_index=blind_index(LISTED_ID))


def accept(hall, applicant_id, name, **choices):
    return services.accept_at_window(
        hall["street"].users.operator,
        item_code="11010500100001",
        applicant={"name": name, "id_number": applicant_id, "phone": "13800001111"},
        materials=materials(hall["elderly"], **choices),
        now=NOW,
    )


def rows_of(app):
    return {row.material.name: (row.status, row.source) for row in app.materials.select_related("material")}


def test_the_household_book_is_not_asked_when_the_registry_holds_the_household(hall, registered):
    app = accept(hall, REGISTERED_ID, "王秀英", 户口簿="")
    assert rows_of(app)["户口簿"] == (MaterialStatus.SHARED, "一户一档·户籍（公安人口库）")
    # Not shareable in the catalogue: brought, with no source.
    assert rows_of(app)["居民身份证"] == (MaterialStatus.PROVIDED, "")
    # The application page names the source.
    client = Client()
    client.force_login(hall["street"].users.operator)
    page = client.get(reverse("hall:application", args=[app.number])).content.decode()
    assert "一户一档·户籍（公安人口库）" in page


def test_a_registry_record_without_the_household_does_not_spare_the_household_book(hall, listed):
    with pytest.raises(ValidationFailed) as caught:
        accept(hall, LISTED_ID, "李桂兰", 户口簿="")
    assert "户口簿" in str(caught.value)
    app = accept(hall, LISTED_ID, "李桂兰")
    assert rows_of(app)["户口簿"] == (MaterialStatus.PROVIDED, "")
    assert app.person == listed


def test_a_shareable_material_the_registry_does_not_hold_is_always_brought(hall, registered):
    Material.objects.create(item=hall["elderly"], order=4, name="残疾人证", core=True, shared=True)
    with pytest.raises(ValidationFailed) as caught:
        accept(hall, REGISTERED_ID, "王秀英", 户口簿="", 残疾人证="")
    assert "残疾人证" in str(caught.value)
    # The item's page promises 免提交 for the 户口簿 only.
    page = Client().get(reverse("hall:item", args=[hall["elderly"].code])).content.decode()
    assert page.count("有本街道户籍记录的免提交") == 1
    assert "免提交" not in page.split("残疾人证")[1].split("</li>")[0]


def test_the_share_and_materials_per_item_count_only_what_the_registry_supplied(hall, listed):
    # Before: the resident is in the registry without a household: all 3 materials are asked.
    accept(hall, LISTED_ID, "李桂兰")
    m = selectors.measures(DAY, DAY.replace(day=DAY.day + 1))
    assert m["materials"] == 3 and m["shared"] == 0 and m["materials_per_item"] == 3
    # After the household is recorded: the 户口簿 of the second application comes from the registry.
    listed.household = household(hall["street"])
    listed.save()
    accept(hall, LISTED_ID, "李桂兰", 户口簿="")
    m = selectors.measures(DAY, DAY.replace(day=DAY.day + 1))
    # 6 materials of 2 applications, 1 not submitted: share 1/6; asked 5, per item 5 / 2.
    assert m["materials"] == 6 and m["shared"] == 1 / 6 and m["materials_per_item"] == 2.5
