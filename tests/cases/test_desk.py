"""The operator's desk (话务台): the caller found by phone with their earlier cases, the case
search, and the callback queue (回访) with the unit's reply, unreached calls retried and counted."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from jiedao.cases import selectors, services
from jiedao.cases.models import CaseEvent, Status
from jiedao.common.errors import ValidationFailed
from jiedao.common.models import AccessLog
from jiedao.workcal.calendar import SHANGHAI

PHONE = "13712345678"


@pytest.fixture
def answered(street, make_case):
    """A case the unit has answered, waiting for its callback."""

    def make(description="楼下垃圾桶满了没人清运", phone=PHONE, result="已清运，并增加了清运频次。"):
        unit = street.users.handler.unit.code
        case = make_case(description=description, phone=phone, unit=unit)
        services.respond(street.users.handler, number=case.number)
        services.resolve(street.users.handler, number=case.number, result=result)
        case.refresh_from_db()
        assert case.status == Status.RATING
        return case

    return make


def test_the_caller_is_found_by_phone_with_their_earlier_cases(street, make_case):
    first = make_case(description="路灯不亮", phone=PHONE)
    second = make_case(description="垃圾没人收", phone="+86 137 1234 5678")
    make_case(description="别人的事", phone="13900001111")
    operator = street.users.operator
    assert [c.number for c in selectors.caller_history(operator, phone=PHONE)] == [second.number, first.number]
    assert selectors.caller_history(operator, phone="1371234") == []
    assert selectors.caller_history(street.users.resident_other, phone=PHONE) == []


def test_the_intake_shows_the_caller_history_and_offers_to_attach_a_repeat(street, make_case, login):
    open_case = make_case(description="路灯不亮", phone=PHONE)
    client = login(street.users.operator)
    html = client.get(reverse("cases:desk_caller"), {"reporter_phone": PHONE}).content.decode()
    assert "这个号码以前反映过 1 件" in html and open_case.number in html
    assert f'name="attach_to" value="{open_case.number}"' in html
    assert (
        "以前没有反映过" in client.get(reverse("cases:desk_caller"), {"reporter_phone": "13900001111"}).content.decode()
    )
    assert client.get(reverse("cases:desk_caller"), {"reporter_phone": ""}).content.decode().strip() == ""


def test_the_case_search_combines_number_phone_words_address_and_dates(street, make_case):
    operator = street.users.operator
    a = make_case(description="东湖小区路灯不亮", phone=PHONE, address="东湖小区3号楼")
    b = make_case(description="西园小区垃圾", phone="13900001111", address="西园小区8号楼")

    def numbers(**kwargs):
        return [c.number for c in selectors.desk_search(operator, **kwargs).cases]

    assert numbers(number=a.number[-5:]) == [a.number]
    assert numbers(phone="137 1234 5678") == [a.number]
    assert numbers(words="垃圾") == [b.number]
    assert numbers(address="3号楼") == [a.number]
    today = a.created_at.astimezone(SHANGHAI).date()  # the search's dates are Beijing days
    assert numbers(start=today, end=today) == [b.number, a.number]
    assert numbers(start=today + dt.timedelta(days=1)) == []
    with pytest.raises(ValidationFailed) as raised:
        selectors.desk_search(operator, phone="1371234")
    assert raised.value.errors[0]["field"] == "phone"


def test_the_search_page_refuses_bad_input_by_field(street, login):
    client = login(street.users.operator)
    page = client.get(
        reverse("cases:desk"), {"tab": "search", "phone": "12", "start": "2026-12-07", "end": "2026-12-01"}
    )
    html = page.content.decode()
    assert page.status_code == 422 and "结束日期不能早于开始日期" in html


def test_the_callback_queue_shows_the_reply_and_rates_in_one_form(street, login, answered):
    case = answered()
    client = login(street.users.operator)
    html = client.get(reverse("cases:desk")).content.decode()
    block = re.search(rf'data-callback="{case.number}".*?</article>', html, re.S).group(0)
    assert "已清运，并增加了清运频次。" in block and PHONE in block
    assert AccessLog.objects.filter(object_id=str(case.pk), purpose="callback").exists()
    done = client.post(
        reverse("cases:desk_callback"),
        {"number": case.number, "resolved": "yes", "satisfaction": "satisfied", "rate": "1"},
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.ratings.get().source == "callback"


def test_a_rating_with_a_missing_answer_is_refused_and_nothing_is_written(street, login, answered):
    case = answered()
    client = login(street.users.operator)
    response = client.post(
        reverse("cases:desk_callback"), {"number": case.number, "resolved": "yes", "rate": "1"}, follow=True
    )
    assert "满意度须为" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.RATING and not case.ratings.exists()


def test_unreached_callbacks_are_counted_and_retried_later(street, login, answered, settings):
    first, second = answered(), answered(description="井盖松动", result="已更换井盖。")
    operator = street.users.operator
    client = login(operator)
    client.post(reverse("cases:desk_callback"), {"number": first.number, "unreached": "1"})
    queue = selectors.callback_queue(operator)
    # The unreached one waits for its retry behind the one still to call.
    assert [i.case.number for i in queue] == [second.number, first.number]
    assert queue[1].attempts == 1 and queue[1].retry_at is not None and not queue[1].due
    later = selectors.callback_queue(operator, now=queue[1].retry_at + dt.timedelta(minutes=1))
    assert [i.case.number for i in later if i.due] == [first.number, second.number]
    for _ in range(settings.JIEDAO["CALLBACK_ATTEMPTS"] - 1):
        services.callback_unreached(operator, number=first.number)
    last = selectors.callback_queue(operator)[-1]
    assert last.case == first and last.unreachable and last.attempts == settings.JIEDAO["CALLBACK_ATTEMPTS"]
    assert list(CaseEvent.objects.filter(case=first, action="unreached").values_list("data__attempt", flat=True)) == [
        1,
        2,
        3,
    ]
    html = client.get(reverse("cases:desk")).content.decode()
    assert "多次未接通，请派单员结案" in html


def test_a_new_reply_after_a_reopening_starts_the_count_again(street, answered):
    case = answered()
    operator = street.users.operator
    services.callback_unreached(operator, number=case.number)
    services.rate(operator, number=case.number, resolved=False, satisfaction="unsatisfied")
    services.resolve(street.users.handler, number=case.number, result="重新清运完毕。")
    item = selectors.callback_queue(operator)[0]
    assert item.reply == "重新清运完毕。" and item.attempts == 0 and item.due


def test_the_desk_is_for_the_desk(street, login):
    assert login(street.users.handler).get(reverse("cases:desk")).status_code == 403
    assert login(street.users.operator).get(reverse("cases:desk")).status_code == 200
