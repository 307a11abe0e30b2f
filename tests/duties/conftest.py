import datetime as dt

import pytest

from jiedao.duties import services
from jiedao.org.models import Unit

REASON = "街道权责清单动态调整"


def item(**overrides):
    values = {
        "name": "占道经营的查处",
        "list_type": "street",
        "power_type": "处罚",
        "level": "街道",
        "responsible_unit": "ZHZF",
        "categories": ["010102"],
        "basis_statute": "《城市市容和环境卫生管理条例》",
        "basis_article": "第十四条",
        "basis_text": "街道两侧和公共场地，不得擅自占道堆放物料、摆摊设点。",
        "response_hours": 2,
        "completion_workdays": 3,
        "full_enforcement": True,
        "effective_from": dt.date(2025, 1, 1),
    }
    values.update(overrides)
    return values


@pytest.fixture
def duties(street):
    admin = street.users.admin
    Unit.objects.create(street=street.street, code="QFGW", name="区发展改革委", kind="department")
    services.save_duty(admin, code="JD-001", raw=item(), reason=REASON, approval_doc="示范街发〔2025〕1号")
    services.save_duty(
        admin,
        code="JD-002",
        raw=item(
            name="楼道堆物堆料清理",
            categories=["010101"],
            power_type="处置",
            level="社区",
            responsible_unit="",
            list_type="community",
            full_enforcement=False,
            basis_statute="《消防法》",
            basis_article="第二十八条",
            basis_text="任何单位、个人不得占用、堵塞、封闭疏散通道、安全出口。",
            how_to="拨打12345或扫码上报，社区居委会上门清理。",
        ),
        reason=REASON,
    )
    services.save_duty(
        admin,
        code="JD-003",
        raw=item(
            name="招商引资",
            categories=["020101"],
            power_type="其他",
            level="区级部门",
            responsible_unit="QFGW",
            list_type="negative",
            full_enforcement=False,
            basis_statute="《关于街道职责准入的规定》",
            basis_article="第三条",
            basis_text="招商引资等职责不得下派街道。",
        ),
        reason=REASON,
    )
    return street


@pytest.fixture
def district(duties):
    """The district department the negative-list item JD-003 (招商引资) belongs to."""
    unit = Unit.objects.get(code="QFGW")
    unit.kind = Unit.Kind.DISTRICT
    unit.save()
    return unit
