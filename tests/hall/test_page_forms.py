"""The forms of the hall's pages: what was typed comes back when the service refuses it, and
what a page sends reaches the service as the page meant it (a bundle's hidden flag, the
material choices, the window's groups, a time slot that cannot be read)."""

import pytest
from django.test import Client

from jiedao.hall.models import Application, Appointment, Ticket

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_refused_window_acceptance_shows_again_what_the_clerk_typed(hall, street):
    elderly = hall["elderly"]
    photo = elderly.materials.get(name="近期一寸免冠照片")
    data = {
        "name": "王秀英",
        "id_number": "1101051950",  # too short
        "phone": "13800138000",
        "assistant_name": "李小红",
        "assisted_reason": "高龄行动不便",
        **{f"material_{m.pk}": "provided" for m in elderly.materials.all()},
        f"material_{photo.pk}": "missing",
    }
    response = client_for(street.users.operator).post(f"/hall/window/accept/{elderly.code}/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "身份证号应为18位。" in page
    for typed in ("王秀英", "1101051950", "13800138000", "李小红", "高龄行动不便"):
        assert f'value="{typed}"' in page
    assert f'name="material_{photo.pk}" value="missing" checked' in page
    assert f'name="material_{photo.pk}" value="provided" checked' not in page
    assert not Application.objects.exists()


def test_a_core_material_left_missing_is_named_and_shown_as_provided_again(hall, street):
    elderly = hall["elderly"]
    card = elderly.materials.get(name="居民身份证")
    data = {
        "name": "王秀英",
        "id_number": "110105195203031111",
        **{f"material_{m.pk}": "provided" for m in elderly.materials.all()},
        f"material_{card.pk}": "missing",  # not offered for a core material
    }
    response = client_for(street.users.operator).post(f"/hall/window/accept/{elderly.code}/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "核心材料“居民身份证”未提交，不能容缺受理。" in page
    assert f'name="material_{card.pk}" value="provided" checked' in page


def test_a_pledge_needs_the_signed_pledge_and_the_tick_is_kept(hall, street):
    pledge = hall["pledge"]
    statement = pledge.materials.get()
    client = client_for(street.users.operator)
    data = {"name": "赵强", "id_number": "110105196503034321", f"material_{statement.pk}": "pledged"}
    response = client.post(f"/hall/window/accept/{pledge.code}/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "告知承诺须由申请人签署承诺书。" in page
    assert f'name="material_{statement.pk}" value="pledged" checked' in page
    response = client.post(f"/hall/window/accept/{pledge.code}/", {**data, "pledge_signed": "1"})
    assert response.status_code == 302
    assert Application.objects.get().mode == "pledge"


def test_a_bundle_is_accepted_from_its_hidden_field_alone(hall, street):
    data = {
        "bundle": "1",
        "name": "赵强",
        "id_number": "110105196503034321",
        **{f"material_{m.pk}": "provided" for i in (hall["elderly"], hall["work"]) for m in i.materials.all()},
    }
    response = client_for(street.users.operator).post("/hall/window/accept/YJS-01/", data)
    assert response.status_code == 302
    assert Application.objects.filter(parent__isnull=False).count() == 2


def test_a_refused_online_application_keeps_what_the_resident_typed(hall, street):
    elderly = hall["elderly"]
    photo = elderly.materials.get(name="近期一寸免冠照片")
    data = {
        "name": "",
        "id_number": "110105195203031111",
        "phone": "13800138000",
        **{f"material_{m.pk}": "provided" for m in elderly.materials.all()},
        f"material_{photo.pk}": "missing",
    }
    response = client_for(street.users.resident).post(f"/hall/items/{elderly.code}/apply/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "请填写申请人姓名。" in page
    assert 'value="110105195203031111"' in page and 'value="13800138000"' in page
    assert f'name="material_{photo.pk}" value="missing" checked' in page
    assert 'value="pledged"' not in page  # no pledge online


def test_a_slot_that_cannot_be_read_books_nothing(hall, street):
    client = client_for(street.users.resident)
    for sent in ({"starts_at": "下周四上午"}, {"starts_at": "1999-11-19T09:00"}, {}):
        response = client.post("/hall/items/11010500100001/book/", sent, follow=True)
        assert "请选择预约时段。" in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_window_calls_only_the_groups_ticked(hall, street):
    kiosk = Client()
    kiosk.post("/hall/ticket/", {"group": "A"})
    kiosk.post("/hall/ticket/", {"group": "B", "priority": "1"})
    assert Ticket.objects.get(group="B").priority
    clerk = client_for(street.users.operator)
    page = clerk.post("/hall/window/", {"do": "call", "window": "2", "groups": ["A", ""]}, follow=True)
    assert "请 A001 号到 2 号窗口办理。" in page.content.decode()
    called = Ticket.objects.get(group="A")
    assert called.status == "called" and Ticket.objects.get(group="B").status == "waiting"
    clerk.post("/hall/window/", {"do": "missed", "ticket": called.pk})
    called.refresh_from_db()
    assert called.status == "missed"


def test_the_window_asks_for_its_number(hall, street):
    Client().post("/hall/ticket/", {"group": "A"})
    page = client_for(street.users.operator).post("/hall/window/", {"do": "call", "window": " "}, follow=True)
    assert "请填写窗口号。" in page.content.decode()
    assert Ticket.objects.get().status == "waiting"
