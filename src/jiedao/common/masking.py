"""Masking of personal data by role (数据脱敏).

Who may see a value unmasked is decided where the value is shown (for cases:
``cases.selectors.may_see_reporter``); every unmasked view is written to the access
log (``common.audit.log_unmasked_view``). These functions only hide characters.
"""

import re


def mask_phone(phone: str) -> str:
    """138****5678 — keeps the first three and last four digits."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str) -> str:
    """张*三 for three characters or more (family name and last character kept),
    张* for two, * for one."""
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(value: str) -> str:
    """110***********123X — keeps the first three and the last four characters of a
    resident identity number (18 characters; 15 for the old numbers)."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# A building inside a compound: "3号楼", "12栋", "A座", "5幢", "2号院".
_BUILDING = re.compile(r"[0-9０-９A-Za-z一二三四五六七八九十百甲乙丙丁]+\s*(?:号楼|号院|栋|幢|座|楼)")
# A compound or a village when no building is named.
_COMPOUND = re.compile(r"(?:小区|花园|家园|公寓|大院|新村|社区|村|苑|里|庭|府|城)")


def mask_address(address: str) -> str:
    """Keeps the compound and the building (东湖小区3号楼), hides the unit and room
    (东湖小区3号楼****). Without a building the compound is kept; without either,
    the first half."""
    if not address:
        return ""
    address = address.strip()
    building = _BUILDING.search(address)
    if building:
        keep = building.end()
    else:
        compound = _COMPOUND.search(address)
        keep = compound.end() if compound else max(1, len(address) // 2)
    if keep >= len(address):
        return address
    return address[:keep] + "****"
