"""The code rule of streets, communities and grids (网格编码规则).

A code is the parent's code followed by a sequence number, so that every code names
its whole chain up to the district:

=========  ==========================================  ===========================
level      rule                                        example (the demo street)
=========  ==========================================  ===========================
street     6-digit district division code (区划代码)     ``110105018``
           + 3-digit street number
community  street code + 2- or 3-digit number          ``11010501801``
grid       community code + 2- or 3-digit sequence     ``1101050180101``
=========  ==========================================  ===========================

The sequence numbers start at ``01`` (``001``); ``00`` is not a valid number. A
3-digit community number allows the 12-digit statistical codes (统计用区划代码) of
residents' committees to be used as community codes unchanged.
"""

import re

from django.utils.translation import gettext as _

STREET_RE = re.compile(r"^(\d{6})(\d{3})$")
SEQUENCE_RE = re.compile(r"^\d{2,3}$")
LEVELS = ("street", "community", "grid")


def _sequence_ok(rest: str) -> bool:
    return bool(SEQUENCE_RE.match(rest)) and int(rest) > 0


def street_code_error(code: str, district_code: str | None = None):
    """None when ``code`` is a valid street code (of ``district_code`` if given), else why not."""
    match = STREET_RE.match(code or "")
    if match is None or int(match.group(2)) == 0:
        return _("街道代码“%(code)s”不符合规则：应为6位区划代码加3位街道序号（共9位数字），如 110105018。") % {
            "code": code
        }
    if district_code and match.group(1) != district_code:
        return _("街道代码“%(code)s”应以所属区的区划代码 %(district)s 开头。") % {
            "code": code,
            "district": district_code,
        }
    return None


def child_code_error(level: str, code: str, parent_code: str):
    """None when ``code`` is a valid community (grid) code under ``parent_code``, else why not."""
    if level == "community":
        rule = _("社区代码应为所属街道代码加2～3位社区序号，如 %(example)s。") % {"example": f"{parent_code}01"}
    else:
        rule = _("网格编码应为所属社区代码加2～3位网格序号，如 %(example)s。") % {"example": f"{parent_code}01"}
    if not code or not code.isdigit():
        return _("编码“%(code)s”不符合规则：只能由数字组成。") % {"code": code} + rule
    if not code.startswith(parent_code) or not _sequence_ok(code[len(parent_code) :]):
        return _("编码“%(code)s”不符合规则：") % {"code": code} + rule
    return None


def code_error(level: str, code: str, parent_code: str | None):
    if level == "street":
        return street_code_error(code, parent_code)
    return child_code_error(level, code, parent_code or "")
