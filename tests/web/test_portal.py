"""The resident portal: submit without an account, track with number + phone, rate."""

import datetime as dt
import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
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


def _track(client, case, phone="13800138000"):
    return client.post(reverse("web:track"), {"step": "find", "number": case.number, "phone": phone})


def test_tracking_shows_the_request_the_steps_in_plain_words_and_the_reply(client, street, make_case):
    u = street.users
    case = make_case(description="楼下垃圾桶满了没人清运，有事打我13712345678", address="东湖小区3号楼2单元501")
    services.return_case(u.handler_committee, number=case.number, reason="内部：应由物业处理")
    returned = _track(client, case).content.decode()
    # A case sent back waits for its dispatch again; the return and its reason stay inside.
    assert "待派单" in returned and "已退单" not in returned and "应由物业处理" not in returned

    services.dispatch(u.dispatcher, number=case.number, unit_code="JWH01")
    services.respond(u.handler_committee, number=case.number)
    services.add_note(u.handler_committee, number=case.number, note="内部：电工老刘明天去")
    services.supervise(u.leader, number=case.number, note="请加快办理", due=timezone.now() + dt.timedelta(days=1))
    services.resolve(u.handler_committee, number=case.number, result="已清运完毕，并增加清运次数")
    case.refresh_from_db()
    response = _track(client, case)
    page = response.content.decode()
    assert response.status_code == 200
    view = response.context["view"]
    # The resident's own words, with the phone and the room masked.
    assert "楼下垃圾桶满了没人清运" in page and "137****5678" in page and "13712345678" not in page
    assert "东湖小区3号楼****" in page and "501" not in page
    titles = [step.title for step in view.steps]
    assert titles == ["已受理", "已派给东湖社区居委会", "已派给东湖社区居委会", "正在办理", "已办结"]
    for step in view.steps:
        assert timezone.localtime(step.at).strftime("%Y-%m-%d %H:%M") in page
    # The unit's reply, with the rating after it.
    assert "办理单位的答复" in page and "已清运完毕，并增加清运次数" in page
    assert page.index("已清运完毕") < page.index('id="rate"')
    # No staff names, internal notes and events, nor the routing basis.
    for staff in (u.handler_committee, u.dispatcher, u.leader):
        assert str(staff) not in page
    for internal in ("老刘", "请加快办理", "督办", "办理进展", "分类", case.routed_by):
        assert internal not in page


def test_rating_before_the_reply_is_refused_with_a_clear_message_and_nothing_written(client, street, make_case):
    case = make_case()
    services.respond(street.users.handler_committee, number=case.number)
    found = _track(client, case).content.decode()
    assert "请您评价" not in found and 'id="reply"' not in found
    events = case.events.count()
    response = client.post(
        reverse("web:track"),
        {"step": "rate", "number": case.number, "phone": "13800138000", "resolved": "yes", "satisfaction": "satisfied"},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "办理单位还没有答复，答复后才能评价" in page and "请您评价" not in page
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.events.count() == events
    assert not Rating.objects.exists()


def test_signed_in_resident_is_taken_from_the_staff_page_to_tracking(street, login, make_case):
    u = street.users
    case = make_case()
    _to_rating(street, case)
    client = login(u.resident)
    response = client.get(reverse("cases:case", args=[case.number]))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:track')}?number={case.number}"
    page = client.get(response["Location"]).content.decode()
    assert "已清运完毕" in page and "请您评价" in page
    assert str(u.handler_committee) not in page and 'data-action="' not in page
    # The portal's list of one's own cases leads to the tracking page too.
    assert f"{reverse('web:track')}?number={case.number}" in client.get(reverse("web:portal")).content.decode()

    # Someone else's case, or no case at all: the same not-found answer.
    other = make_case(reporter=u.resident_other)
    assert client.get(reverse("cases:case", args=[other.number])).status_code == 404
    assert client.get(reverse("cases:case", args=["JD000000000000"])).status_code == 404
    assert client.get(reverse("web:track"), {"number": other.number}).context["case"] is None
    # Staff still get the staff page.
    staff = login(u.handler_committee)
    staff_page = staff.get(reverse("cases:case", args=[case.number]))
    assert staff_page.status_code == 200 and str(u.handler_committee) in staff_page.content.decode()


def test_signed_in_resident_rates_on_the_tracking_page_without_the_phone(street, login, make_case):
    case = make_case()
    _to_rating(street, case)
    client = login(street.users.resident)
    response = client.post(
        reverse("web:track"),
        {"step": "rate", "number": case.number, "resolved": "no", "satisfaction": "unsatisfied", "comment": "还是没清"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "感谢您的评价" in page and "重新办理" in page and "请您评价" not in page
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.rework_count == 1
    assert Rating.objects.get().source == "resident"
    # The old reply is gone until the unit answers again.
    assert "已清运完毕" not in page


def test_elderly_mode_keeps_the_address_beside_use_my_position(client, street):
    client.cookies["jiedao_elderly"] = "1"
    page = client.get(reverse("web:portal")).content.decode()
    assert "使用我的位置" in page
    address = re.search(r'<div class="field([^"]*)">\s*<label for="id_address"', page)
    assert address and "optional" not in address.group(1)
