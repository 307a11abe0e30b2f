"""Open311 publishes what residents wrote: the phones and identity numbers in it are masked
however they were written — the tester's writings that the feed used to publish in full."""

import pytest

from jiedao.cases import services as case_services

from .conftest import BASE, items_of

FORMATS = ["json", "xml"]

# (written in the description, what the feed shows instead)
WRITINGS = [
    ("138 1234 5678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("138-0013-8000", "138****8000"),
    ("+86 138 0013 8000", "138****8000"),
    ("110101 19900307 8910", "110***********8910"),
]


def submit(street, description):
    case, _created = case_services.submit_case(
        street.users.operator,
        channel="phone",
        description=description,
        reporter_name="李四",
        reporter_phone="13812345678",
        address="东湖小区3号楼2单元401",
        lat=39.905,
        lng=116.405,
        category_code="010102",
    )
    return case


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("written, masked", WRITINGS)
def test_a_phone_or_identity_number_written_any_way_is_masked_in_the_public_description(
    client, street, fmt, written, masked
):
    case = submit(street, f"路灯坏了，联系我{written}，谢谢")
    for url in (f"{BASE}/requests.{fmt}", f"{BASE}/requests/{case.number}.{fmt}"):
        response = client.get(url)
        assert response.status_code == 200
        [item] = items_of(response, fmt)
        assert item["description"] == f"路灯坏了，联系我{masked}，谢谢"
        assert written not in response.content.decode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_public_updates_mask_a_phone_in_the_result(client, street, fmt):
    case = case_services.dispatch(street.users.dispatcher, number=submit(street, "路灯坏了").number)
    case_services.respond(street.users.handler, number=case.number)
    case_services.resolve(
        street.users.handler, number=case.number, result="已修复，如再坏请打 010-8888 6666 或 139 0013 9000"
    )
    response = client.get(f"{BASE}/servicerequestupdates.{fmt}")
    text = " ".join(u["description"] for u in items_of(response, fmt, "request_update"))
    assert "010****6666" in text and "139****9000" in text
    assert "8888 6666" not in response.content.decode() and "0013 9000" not in response.content.decode()


def test_dates_amounts_and_case_numbers_in_a_description_are_published_as_written(client, street):
    text = "2026-12-06起3号楼2单元501漏水，维修费1500元，与工单JD2026120100001同一问题，邮编100101"
    case = submit(street, text)
    [item] = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert item["description"] == text
