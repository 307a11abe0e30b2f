"""A hot issue's title quotes its members' text, and every leader reads it: a phone typed into
the reports is masked in the title and in the members listed on the issue's page."""

import datetime as dt
import re

from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.intelligence import selectors

BURST = [
    "北门夜间施工噪音扰民13812345678",
    "北门夜间施工噪音扰民 138 1234 5678",
    "北门夜间施工噪音扰民13812345678",
    "北门夜间施工噪音扰民13812345678",
    "北门夜间施工噪音扰民，电话13812345678",
]


def test_a_phone_in_the_reports_is_masked_in_the_hot_issues_title_and_page(street, login):
    now = timezone.now()
    for i, text in enumerate(BURST):
        case_services.submit_case(
            street.users.operator,
            channel="12345",
            description=text,
            reporter_phone=f"1390000000{i}",
            grid_code=street.grids[0].code,
            category_code="010101",
            at=now - dt.timedelta(hours=i),
        )
    [issue] = selectors.hot_issues(street.users.leader, now=now)
    assert "施工" in issue.title
    # Not even the part of a phone that a cut to twenty characters would leave (1381234567).
    assert not re.search(r"\d{5,}", issue.title.replace(" ", "")), issue.title
    page = login(street.users.leader).get(issue.url).content.decode()
    assert "13812345678" not in page and "138 1234 5678" not in page and "138****5678" in page
