import pytest

from jiedao.common.crypto import blind_index
from jiedao.hall.models import Bundle, Material, ServiceItem
from jiedao.registry.models import Building, House, Household, Person
from tests.factories import WEDNESDAY


@pytest.fixture
def hall(street):
    units = street.units
    elderly = ServiceItem.objects.create(
        code="11010500100001",
        basic_code="000114011000",
        name="老年人优待证办理",
        item_type="public_service",
        group="B",
        unit=units.service,
        legal_basis="《中华人民共和国老年人权益保障法》",
        conditions="年满60周岁",
        statutory_days=20,
        promised_days=5,
        supply_days=5,
        place="便民服务中心",
        hours="工作日 9:00-17:00",
        online_depth=3,
        visits_required=1,
    )
    Material.objects.create(item=elderly, order=1, name="居民身份证", core=True, form="original")
    Material.objects.create(item=elderly, order=2, name="户口簿", core=True, form="original", shared=True)
    Material.objects.create(item=elderly, order=3, name="近期一寸免冠照片", core=False, form="original", copies=2)
    pledge = ServiceItem.objects.create(
        code="11010500100002",
        basic_code="000114012000",
        name="居住证明开具",
        item_type="confirmation",
        group="C",
        unit=units.committee1,
        statutory_days=10,
        promised_days=2,
        pledge_allowed=True,
    )
    Material.objects.create(item=pledge, order=1, name="居住情况承诺书", core=True)
    work = ServiceItem.objects.create(
        code="11010500100003",
        basic_code="000115001000",
        name="就业登记",
        item_type="public_service",
        group="A",
        unit=units.housing,
        statutory_days=10,
        promised_days=3,
    )
    Material.objects.create(item=work, order=1, name="劳动合同", core=True, form="copy")
    bundle = Bundle.objects.create(code="YJS-01", name="我要退休一件事")
    bundle.items.set([elderly, work])
    return {"elderly": elderly, "pledge": pledge, "work": work, "bundle": bundle, "street": street}


def household(street, number="HH-0001"):
    """A household (户) of the registry in the street's first community."""
    building = Building.objects.create(
        code=f"B-{number}", name="1号楼", address="东湖小区1号楼", community=street.communities[0]
    )
    house = House.objects.create(building=building, unit="1", room="101")
    return Household.objects.create(number=number, house=house)


@pytest.fixture
def registered(street):
    """A resident in the registry (户籍记录) with their household, found by identity number."""
    return Person.objects.create(
        name="王秀英",
        id_number=REGISTERED_ID,
        id_index=blind_index(REGISTERED_ID),
        household=household(street),
        relation="head",
        sources={"household": {"source": "公安人口库", "at": "2026-01-05T09:00:00+08:00"}},
    )


def materials(item, **by_name):
    """Material choices by name → status; anything not named is provided."""
    return {m.pk: by_name.get(m.name, "provided") for m in item.materials.all()}


NOW = WEDNESDAY
REGISTERED_ID = "110105195001011234"
