"""Masking of personal data by role (数据脱敏), and the log of unmasked views."""

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
    """张** — keeps the family name (first character)."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id_number(value: str) -> str:
    """110105********1234 — keeps the region code and the last four characters."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_address(address: str) -> str:
    """Keeps the first part of an address (up to the road or compound), hides the rest."""
    if not address:
        return ""
    keep = max(4, len(address) // 2)
    return address[:keep] + "****"
