"""The resident portal: submit without an account, track with number + phone, rate."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from jiedao.cases import services
from jiedao.cases.models import Case, Rating, Status


def png(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_anonymous_resident_submits_and_sees_the_case_number(client, street):
    response = client.post(
        reverse("web:portal"),
        {
            "description": "小区门口井盖松动，晚上有人差点摔倒",
            "reporter_phone": "13712345678",
            "lat": "39.905",
            "lng": "116.405",
            "address": "东湖小区北门",
            "photos": [png()],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == "portal" and case.grid == street.grids[0] and case.photos.count() == 1
    done = client.get(response["Location"]).content.decode()
    assert case.number in done


def test_bad_input_is_refused_field_by_field_and_nothing_is_written(client, street):
    response = client.post(
        reverse("web:portal"),
        {
            "description": "   ",
            "reporter_phone": "12345",
            "reporter_name": "赵阿姨",
            "address": "西园8号楼",
            "photos": [SimpleUploadedFile("note.png", b"not an image at all", content_type="image/png")],
        },
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "内容不能为空" in form.errors["description"][0]
    assert "不是有效的大陆电话号码" in form.errors["reporter_phone"][0]
    assert "不是图片" in form.errors["photos"][0]
    page = response.content.decode()
    # What the resident typed is still there.
    assert 'value="赵阿姨"' in page and 'value="西园8号楼"' in page and 'value="12345"' in page
    assert not Case.objects.exists()


def test_phone_is_required_without_an_account(client, street):
    response = client.post(reverse("web:portal"), {"description": "路灯不亮"})
    assert response.status_code == 422
    assert "请填写联系电话" in response.context["form"].errors["reporter_phone"][0]
    assert not Case.objects.exists()


def test_signed_in_resident_submits_with_the_phone_on_file(street, login):
    client = login(street.users.resident)
    response = client.post(reverse("web:portal"), {"description": "楼道灯坏了"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.reporter == street.users.resident and case.reporter_phone == "13800138000"
    assert case.number in client.get(reverse("web:portal")).content.decode()


def test_track_shows_status_and_timeline_only_with_the_right_phone(client, street, make_case):
    case, _ = services.submit_case(None, channel="portal", description="噪音扰民", reporter_phone="13712345678")
    wrong = client.post(reverse("web:track"), {"step": "find", "number": case.number, "phone": "13700000000"})
    assert wrong.status_code == 404
    assert "没有找到" in wrong.content.decode()
    right = client.post(reverse("web:track"), {"step": "find", "number": case.number, "phone": "13712345678"})
    page = right.content.decode()
    assert right.status_code == 200
    assert "待派单" in page and "受理" in page


def _to_rating(street, case):
    u = street.users
    services.respond(u.handler_committee, number=case.number)
    services.resolve(u.handler_committee, number=case.number, result="已清运完毕")
    case.refresh_from_db()
    assert case.status == Status.RATING


def test_resident_rates_on_the_track_page(client, street, make_case):
    case = make_case(reporter=street.users.resident)
    _to_rating(street, case)
    found = client.post(reverse("web:track"), {"step": "find", "number": case.number, "phone": "13800138000"})
    assert "请您评价" in found.content.decode()

    missing = client.post(
        reverse("web:track"),
        {"step": "rate", "number": case.number, "phone": "13800138000", "resolved": "yes", "comment": "挺快的"},
    )
    assert missing.status_code == 422
    assert "满意度" in missing.context["rate_form"].errors["satisfaction"][0]
    assert "挺快的" in missing.content.decode()
    assert not Rating.objects.exists()

    done = client.post(
        reverse("web:track"),
        {"step": "rate", "number": case.number, "phone": "13800138000", "resolved": "yes", "satisfaction": "satisfied"},
    )
    assert done.status_code == 200
    assert "感谢您的评价" in done.content.decode() and "已结案" in done.content.decode()
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert Rating.objects.get().source == "resident"


def test_signed_in_resident_rates_from_the_case_page(street, login, make_case):
    case = make_case()
    _to_rating(street, case)
    client = login(street.users.resident)
    page = client.get(reverse("cases:case", args=[case.number])).content.decode()
    assert 'data-action="rate"' in page
    response = client.post(
        reverse("cases:action", args=[case.number, "rate"]),
        {"resolved": "no", "satisfaction": "unsatisfied", "comment": "还是没清"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.rework_count == 1
