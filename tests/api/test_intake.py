"""POST /api/v1/cases: field-by-field refusal with nothing written, photos, idempotency."""

import pytest

from jiedao.cases.models import Case, CaseEvent, CasePhoto
from jiedao.common.models import IdempotencyKey

from .conftest import b64, fields_of, png_bytes

VALID = {
    "channel": "phone",
    "description": "小区门口井盖丢失，很危险",
    "reporter_name": "张三",
    "reporter_phone": "13812345678",
    "address": "东湖小区南门",
}


def counts():
    return Case.objects.count(), CaseEvent.objects.count(), CasePhoto.objects.count()


@pytest.fixture
def operator(api, street):
    return api(street.users.operator)


def test_a_valid_case_is_registered_with_a_readable_number(street, operator):
    response = operator.post("/cases", {**VALID, "lat": 39.905, "lng": 116.405, "category": "010101"})
    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("JD") and len(body["number"]) == 15
    assert body["status"] == "new" and body["status_label"] == "待派单"
    assert body["grid"]["code"] == "1101050010101"
    assert body["category"]["path_name"] == "城乡建设 / 城市建设和市政管理 / 环境卫生"
    assert body["reporter_phone"] == "13812345678"
    assert Case.objects.get(number=body["number"]).channel == "phone"


def test_dispatch_on_intake_routes_the_case(street, operator):
    response = operator.post("/cases", {**VALID, "lat": 39.905, "lng": 116.405, "category": "010101", "dispatch": True})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "dispatched"
    # The community's rule sends sanitation in 东湖社区 to its committee.
    assert body["unit"] == {"code": "JWH01", "name": "东湖社区居委会"}
    assert body["response_due"].endswith("+08:00") and body["completion_due"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"reporter_phone": "12345"}, "reporter_phone"),
        ({"reporter_phone": "2381234567"}, "reporter_phone"),
        ({"description": "   "}, "description"),
        ({"description": "字" * 2001}, "description"),
        ({"photos": [b64(b"this is a text file, not a picture")]}, "photos"),
        ({"photos": ["%%% not base64 %%%"]}, "photos"),
        ({"category": "99"}, "category"),
        ({"category": "0101"}, "category"),
        ({"grid": "nowhere"}, "grid"),
        ({"channel": "pigeon"}, "channel"),
        ({"lat": 39.9}, "lng"),
        ({"lat": "north", "lng": 116.4}, "lat"),
        ({"dispatch": True}, "category"),
    ],
)
def test_invalid_input_is_refused_naming_the_field_and_nothing_is_written(street, operator, change, field):
    before = counts()
    response = operator.post("/cases", {**VALID, **change})
    assert response.status_code == 422
    assert field in fields_of(response)
    assert all(e["message"] for e in response.json()["errors"])
    assert counts() == before


def test_all_broken_fields_are_reported_at_once(street, operator):
    response = operator.post("/cases", {**VALID, "reporter_phone": "000", "description": ""})
    assert response.status_code == 422
    assert fields_of(response) == {"reporter_phone", "description"}
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert "000" in messages and "不能为空" in messages


def test_a_photo_over_10_mb_is_refused(street, operator, settings):
    big = b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024 + 10)
    before = counts()
    # As sent: the request itself is larger than the server accepts.
    response = operator.post("/cases", {**VALID, "photos": [b64(big)]})
    assert response.status_code == 422
    assert fields_of(response) == {"photos"}
    assert "10 MB" in response.json()["errors"][0]["message"]
    # With a larger request limit the photo's own size rule answers.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
    response = operator.post("/cases", {**VALID, "photos": [b64(big)]})
    assert response.status_code == 422
    assert fields_of(response) == {"photos"}
    assert "超过10 MB" in response.json()["errors"][0]["message"]
    assert counts() == before


def test_photos_as_base64_or_data_url_are_stored_and_listed(street, operator):
    photos = [b64(png_bytes()), "data:image/png;base64," + b64(png_bytes(color=(0, 0, 200)))]
    response = operator.post("/cases", {**VALID, "photos": photos})
    assert response.status_code == 201
    listed = response.json()["photos"]
    assert [p["kind"] for p in listed] == ["intake", "intake"]
    assert all(p["url"].startswith("/media/cases/") and p["url"].endswith(".png") for p in listed)
    assert CasePhoto.objects.filter(case__number=response.json()["number"]).count() == 2


def test_a_resident_reports_through_the_portal_channel_with_their_own_phone(street, api):
    response = api(street.users.resident).post("/cases", {"description": "楼道灯坏了"})
    assert response.status_code == 201
    body = response.json()
    assert body["channel"] == "portal"
    assert body["reporter_phone"] == "13800138000"  # the resident's own, shown unmasked to them
    assert Case.objects.get(number=body["number"]).reporter == street.users.resident


def test_a_resident_may_not_pose_as_the_hotline(street, api):
    before = counts()
    response = api(street.users.resident).post("/cases", {"channel": "12345", "description": "楼道灯坏了"})
    assert response.status_code == 403
    assert counts() == before


# --- Idempotency-Key ----------------------------------------------------------------


def test_same_key_twice_creates_one_case(street, operator):
    first = operator.post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="intake-42")
    again = operator.post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="intake-42")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1


def test_same_key_from_two_users_creates_two_cases(street, api):
    a = api(street.users.operator).post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="shared-key")
    b = api(street.users.dispatcher).post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="shared-key")
    assert a.status_code == b.status_code == 201
    assert a.json()["number"] != b.json()["number"]
    assert Case.objects.count() == 2


def test_without_a_key_every_post_is_a_new_case(street, operator):
    operator.post("/cases", VALID)
    operator.post("/cases", VALID)
    assert Case.objects.count() == 2


def test_a_refused_submission_does_not_use_up_its_key(street, operator):
    refused = operator.post("/cases", {**VALID, "description": ""}, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert refused.status_code == 422
    assert not IdempotencyKey.objects.exists()
    accepted = operator.post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert accepted.status_code == 201


def test_an_overlong_key_is_refused(street, operator):
    response = operator.post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert response.status_code == 422
    assert fields_of(response) == {"Idempotency-Key"}
    assert not Case.objects.exists()


def test_a_body_that_is_not_json_is_a_422(street, operator):
    response = operator.client.post(
        "/api/v1/cases", "description=hello", content_type="application/json", **operator.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"]


def test_two_requests_racing_with_one_key_still_make_one_case(street, operator, monkeypatch):
    """The second request passes the look-up before the first has stored its key;
    the key's unique constraint stops it and the answer is the first case."""
    from jiedao.common import idempotency

    first = operator.post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="race")
    real = idempotency.IdempotencyKey
    lookups = []

    class NotYetStored:
        def filter(self, **kwargs):
            lookups.append(kwargs)
            return real.objects.none() if len(lookups) == 1 else real.objects.filter(**kwargs)

        def create(self, **kwargs):
            return real.objects.create(**kwargs)

    monkeypatch.setattr(idempotency, "IdempotencyKey", type("Key", (), {"objects": NotYetStored()}))
    second = operator.post("/cases", VALID, HTTP_IDEMPOTENCY_KEY="race")
    assert second.status_code == 200
    assert second.json()["number"] == first.json()["number"]
    assert len(lookups) == 2
    assert Case.objects.count() == 1
