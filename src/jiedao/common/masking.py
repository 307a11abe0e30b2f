"""Masking of personal data by role (数据脱敏).

Who may see a value unmasked is decided where the value is shown (for cases:
``cases.selectors.may_see_reporter``); every unmasked view is written to the access
log (``common.audit.log_unmasked_view``). These functions only hide characters.

Free text keeps what its writer typed: ``mask_personal_text`` hides the phones and identity
numbers in it (found by ``find_personal_numbers`` in any common writing) wherever the text
is shown to someone who may not see them — public feeds, public pages, exports, and pages
of staff who see the reporter masked.
"""

import bisect
import re
import unicodedata
from dataclasses import dataclass


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
    address = mask_personal_text(address.strip())
    building = _BUILDING.search(address)
    if building:
        keep = building.end()
    else:
        compound = _COMPOUND.search(address)
        keep = compound.end() if compound else max(1, len(address) // 2)
    if keep >= len(address):
        return address
    return address[:keep] + "****"


# --- personal numbers in free text ------------------------------------------------------------
#
# Residents type their phone or identity number into descriptions, proposals and notes, in
# every writing: "138 0013 8000", "１３８１２３４５６７８", "+86-138-0013-8000", "(010)8888 6666",
# "110101 19900307 891X". The text is first normalised one character for one character
# (full-width and other decimal digits to 0-9, full-width signs to ASCII), so that positions in
# the normalised text are positions in the original. Digit groups joined by short separators
# (spaces, dashes, dots, parentheses) form a chain; a number is read only from the start of a
# group to the end of a group, grouped the way people group that kind of number (3-4-4 for a
# mobile, 6-8-4 for an identity number, the area code apart for a landline), so that dates
# (2026-12-06), amounts, case numbers (JD2026120100001), house numbers (3号楼2单元501) and
# postcodes are left alone, also when they stand side by side.


def _normalising_table():
    table = {}
    for code in (*range(0x80, 0x10000), *range(0x1D7CE, 0x1D800)):
        char = chr(code)
        if char.isdecimal():
            table[code] = str(unicodedata.decimal(char))
    for wide, plain in (
        ("＋", "+"),
        ("－", "-"),
        ("‐", "-"),
        ("‑", "-"),
        ("‒", "-"),
        ("–", "-"),
        ("—", "-"),
        ("―", "-"),
        ("−", "-"),
        ("﹣", "-"),
        ("．", "."),
        ("·", "."),
        ("・", "."),
        ("（", "("),
        ("）", ")"),
        ("\u3000", " "),
        ("\u00a0", " "),
        ("\u2009", " "),
        ("\u202f", " "),
        ("\t", " "),
        ("Ｘ", "X"),
        ("ｘ", "x"),
        ("：", ":"),
    ):
        table[ord(wide)] = plain
    return table


_NORMALISE = _normalising_table()
_DIGIT = re.compile(r"[0-9]")
_GROUP = re.compile(r"[0-9]+(?:[Xx](?![0-9A-Za-z]))?")
_JOIN = re.compile(r"[ \-.()]{1,3}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_ID18 = re.compile(r"[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]")
# What follows the year of a date: 2000-01-01, 2000.1.1, 2000/01/01, 2000年.
_DATE_GOES_ON = re.compile(r"[-./][0-9]|年")
# Money or a share right after digits makes them an amount: 1000元, 3万, 20%.
_QUANTITY_AFTER = re.compile(r"[元万亿%％]")
_ID15 = re.compile(r"[1-8][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}")
# The first two digits of a resident identity number: the province-level code (GB/T 2260), the
# registry's check and the text scanner's alike.
PROVINCES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
        "91",
    }
)
# A local number without its area code counts only right after a word that announces a phone.
_PHONE_WORD = re.compile(
    r"(?:电话|座机|固话|手机|联系方式|联系|致电|拨打|热线|tel|phone|mobile)(?:号码|号)?(?:是|为)?"
    r"[ :.]{0,3}$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PersonalNumber:
    """A phone or identity number found in a text: ``kind`` is ``mobile``, ``landline`` or
    ``id_number``; ``start``/``end`` its place in the text (a ``+86`` or a parenthesis of the
    area code included); ``value`` the digits as one writes them in a field; ``masked`` what
    may be shown instead."""

    kind: str
    start: int
    end: int
    value: str
    masked: str


class _Chain:
    """The digits of one chain of groups, and where its groups end."""

    def __init__(self, digits, ends, dashed):
        self.digits, self.ends = digits, ends  # ends: sorted, the last is len(digits)
        self.dashed = dashed  # the ends of groups joined to the next by a dash alone

    def fits(self, i, length, first_group, exact=False):
        """Whether ``digits[i:i + length]`` ends where a group ends and, when it spans several
        groups, is grouped the way people group a number — 3-4-4, 6-8-4, (010) 8888 6666, or
        digit by digit — rather than dates and amounts that happen to follow each other: the
        groups have three digits or more (or all one), and the first has at most (``exact``:
        just) ``first_group``."""
        end = i + length
        if end > len(self.digits) or end not in self.ends:
            return False
        inside = self.ends[bisect.bisect_right(self.ends, i) : bisect.bisect_right(self.ends, end)]
        if len(inside) == 1:
            return True
        sizes = [b - a for a, b in zip([i, *inside], inside, strict=False)]
        if not ((all(size >= 3 for size in sizes[1:]) and sizes[0] >= 2) or all(size == 1 for size in sizes)):
            return False
        return sizes[0] == first_group if exact else sizes[0] <= first_group

    def spans_groups(self, i, length):
        """Whether ``digits[i:i + length]`` was written in more than one group."""
        return self.ends[bisect.bisect_right(self.ends, i)] < i + length

    def ends_in_a_year(self, i, length):
        """Whether the last group of ``digits[i:i + length]`` is four digits that could be a
        year (19xx-21xx)."""
        end = i + length
        before = self.ends[bisect.bisect_left(self.ends, end) - 1] if end != self.ends[0] else 0
        return end - before == 4 and self.digits[before : before + 2] in ("19", "20", "21")

    def id_shaped(self, i, length):
        """Whether an identity number from ``i`` is grouped as people write one: in one, digit
        by digit, or split only between the region, the birth date and the rest (110101
        19900307 8910), or in threes and fours (110 101 1990 0307 8910)."""
        inside = self.ends[bisect.bisect_right(self.ends, i) : bisect.bisect_right(self.ends, i + length)]
        cuts = {end - i for end in inside[:-1]}
        if not cuts or all(b - a == 1 for a, b in zip([i, *inside], inside, strict=False)):
            return True
        return cuts <= ({3, 6, 10, 14} if length == 18 else {3, 6, 12})

    def mobile_shaped(self, i):
        """Whether the eleven digits from ``i`` are grouped as people write a mobile number: in
        one, digit by digit, or in groups of three or four (138 0013 8000, 1380 0138 000) — not
        a room number followed by an amount or a date (130 10000000, 130 20261206)."""
        inside = self.ends[bisect.bisect_right(self.ends, i) : bisect.bisect_right(self.ends, i + 11)]
        sizes = [b - a for a, b in zip([i, *inside], inside, strict=False)]
        return len(sizes) == 1 or max(sizes) <= 4

    def landline(self, i, zero=True):
        """(length, value) of an area code and a subscriber number starting at ``i``: 010
        and 02x take eight digits, the four-digit codes seven or eight; subscribers start
        with 2-9. Without ``zero`` the area code is written without its 0 (after +86)."""
        digits = self.digits
        if zero and digits[i : i + 1] != "0":
            return None
        code_from = i + (1 if zero else 0)
        second = digits[code_from : code_from + 1]
        if second == "1":
            area = 2 if digits[code_from : code_from + 2] == "10" else 0
        elif second == "2":
            area = 2
        elif second and second in "3456789":
            area = 3
        else:
            return None
        if not area:
            return None
        local_from = code_from + area
        for local in (8,) if area == 2 else (8, 7):
            part = digits[local_from : local_from + local]
            if (
                part.isdigit()
                and len(part) == local
                and part[0] in "23456789"
                and self.fits(i, local_from + local - i, local_from - i, exact=True)
            ):
                return local_from + local - i, ("" if zero else "0") + digits[i : local_from + local]
        return None

    def number_at(self, i, announced, plus):
        """(kind, length, value, length of a +86 prefix) of the number starting at ``i``, or None.
        ``announced``: a word like 电话 comes just before; ``plus``: a "+" does."""
        digits = self.digits
        if (
            self.fits(i, 18, 6)
            and _ID18.fullmatch(digits, i, i + 18)
            and digits[i : i + 2] in PROVINCES
            and self.id_shaped(i, 18)
        ):
            return "id_number", 18, digits[i : i + 18].upper(), 0
        if self.fits(i, 11, 4) and _MOBILE.fullmatch(digits, i, i + 11) and self.mobile_shaped(i):
            return "mobile", 11, digits[i : i + 11], 0
        if (
            self.fits(i, 15, 6)
            and _ID15.fullmatch(digits, i, i + 15)
            and digits[i : i + 2] in PROVINCES
            and self.id_shaped(i, 15)
        ):
            return "id_number", 15, digits[i : i + 15], 0
        for prefix in ("0086", "86"):
            if digits.startswith(prefix, i):
                rest = i + len(prefix)
                if prefix == "86" and not plus and rest in self.ends and rest not in self.dashed:
                    continue  # "86 138…" without a "+" may be a number of its own before a phone
                if self.fits(rest, 11, 4) and _MOBILE.fullmatch(digits, rest, rest + 11) and self.mobile_shaped(rest):
                    return "mobile", len(prefix) + 11, digits[rest : rest + 11], len(prefix)
                found = self.landline(rest, zero=False)
                if found:
                    return "landline", len(prefix) + found[0], found[1], len(prefix)
        found = self.landline(i)
        if found:
            return "landline", found[0], found[1], 0
        if announced:
            for local in (8, 7):
                if self.fits(i, local, 4) and digits[i : i + local].isdigit() and digits[i] in "23456789":
                    return "landline", local, digits[i : i + local], 0
        return None


def _mask_found(kind, value):
    if kind == "id_number":
        return mask_id_number(value)
    if len(value) <= 8:  # a local number: only its last four digits
        return "*" * (len(value) - 4) + value[-4:]
    return mask_phone(value)


def _chains(normal):
    """Lists of digit groups ``(start, end)`` joined by short separators."""
    chain = []
    for match in _GROUP.finditer(normal):
        if chain and normal[chain[-1][1] - 1] not in "Xx" and _JOIN.fullmatch(normal, chain[-1][1], match.start()):
            chain.append((match.start(), match.end()))
            continue
        if chain:
            yield chain
        chain = [(match.start(), match.end())]
    if chain:
        yield chain


def find_personal_numbers(text) -> list:
    """The mainland mobile numbers, landlines and 18- or 15-character identity numbers in a
    text, in order, however they are written (spaces, dashes, dots, parentheses, full-width
    digits and signs, +86 / 0086 / 86- prefixes, X or x or Ｘ at the end of an identity number,
    digits spaced one by one)."""
    if not text:
        return []
    normal = text.translate(_NORMALISE)
    if len(_DIGIT.findall(normal)) < 7:
        return []
    found = []
    for chain in _chains(normal):
        digits = "".join(normal[start:end] for start, end in chain)
        if len(digits) < 7:
            continue
        where = [place for start, end in chain for place in range(start, end)]
        starts, ends, dashed, total = [], [], set(), 0
        for index, (start, end) in enumerate(chain):
            starts.append(total)
            total += end - start
            ends.append(total)
            if index + 1 < len(chain) and normal[end : chain[index + 1][0]] == "-":
                dashed.add(total)
        numbers = _Chain(digits, ends, dashed)
        first = chain[0][0]
        announced = bool(_PHONE_WORD.search(normal[max(0, first - 12) : first]))
        plus = first > 0 and normal[first - 1] == "+"
        done = 0
        for i in starts:
            if i < done:
                continue
            hit = numbers.number_at(i, announced and i == 0, plus and i == 0)
            if hit is None:
                continue
            kind, length, value, prefix = hit
            begin, finish = where[i], where[i + length - 1] + 1
            if numbers.spans_groups(i + prefix, length - prefix) and (
                (kind == "id_number" and _QUANTITY_AFTER.match(normal, finish))
                or (numbers.ends_in_a_year(i, length) and _DATE_GOES_ON.match(normal, finish))
            ):
                # Numbers side by side, not one number: "110000 20000101 1000元" (a postcode, a
                # date, an amount), "… 2000-01-01" (the last group is the year of a date).
                continue
            if prefix:  # the "+" of "+86" and the "(" of "(+86)"
                for _sign in range(2):
                    if begin > 0 and normal[begin - 1] in "+(":
                        begin -= 1
            if begin > 0 and normal[begin - 1] == "(" and ")" in normal[begin:finish]:
                begin -= 1
            found.append(PersonalNumber(kind, begin, finish, value, _mask_found(kind, value)))
            done = i + length
    return found


def mask_personal_text(text) -> str:
    """The text with every phone and identity number in it masked (138****8000,
    110***********891X; a local number without area code keeps its last four digits). The
    one function every page, API answer, feed and export calls before showing free text to
    someone who may not see the writer's personal data."""
    if not text:
        return text or ""
    found = find_personal_numbers(text)
    if not found:
        return text
    parts, last = [], 0
    for number in found:
        parts.append(text[last : number.start])
        parts.append(number.masked)
        last = number.end
    parts.append(text[last:])
    return "".join(parts)
