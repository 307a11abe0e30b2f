"""Residents told by SMS, through a real HTTP SMS gateway on 127.0.0.1: the receipt with the case
number and a signed tracking link at intake, the result with the unit's reply and the rating link,
the service hall's 好差评 invitation; the link opens the case and takes the rating without the
phone; 退订 is honoured; nothing is written while no SMS channel is configured."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from jiedao.cases import services as cases
from jiedao.cases import telling
from jiedao.hall import services as hall_services
from jiedao.messaging import outbox, services
from jiedao.messaging.models import OutboxMessage, ResidentContact
from tests.cases.lifecycle import handler_for
from tests.hall.conftest import NOW, materials

from .gateway import Gateway

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture
def gateway(settings):
    server = Gateway()
    settings.SMS_HTTP = server.settings()
    settings.JIEDAO = {**settings.JIEDAO, "OUTBOX_SITE_URL": "https://jd.example.cn"}
    yield server
    server.close()


def report(street, phone=PHONE, **extra):
    case, _ = cases.submit_case(
        street.users.operator,
        channel="12345",
        description="小区门口路灯不亮好几天了",
        reporter_name="李阿姨",
        reporter_phone=phone,
        lat=39.905,
        lng=116.405,
        category_code="010101",
        **extra,
    )
    return case


def sent_texts(gateway):
    outbox.send_due(now=timezone.now() + dt.timedelta(seconds=1))
    return [(m["mobile"], m["content"]) for m in gateway.received]


def test_the_caller_gets_the_case_number_and_a_tracking_link(gateway, street, client):
    case = report(street)
    [message] = OutboxMessage.objects.filter(kind="resident_receipt")
    assert (message.channel, message.address, message.notification) == ("sms_http", PHONE, None)

    [(mobile, text)] = sent_texts(gateway)
    assert mobile == PHONE
    assert case.number in text and "已受理" in text
    link = re.search(r"https://jd\.example\.cn(/portal/track/\?t=\S+)", text).group(1)
    assert "/m/t/" in text  # the 退订 link
    # The link opens the resident's case without asking for the phone.
    page = client.get(link)
    assert page.status_code == 200
    assert case.number in page.content.decode()
    assert "data-case-number" in page.content.decode()


def test_no_sms_channel_configured_writes_nothing(street):
    report(street)
    assert not OutboxMessage.objects.filter(kind="resident_receipt").exists()


def test_a_number_that_is_not_a_mainland_mobile_gets_nothing(gateway, street):
    report(street, phone="010-65123456")
    assert not OutboxMessage.objects.filter(kind="resident_receipt").exists()


def test_the_result_carries_the_reply_and_the_rating_link_that_rates_without_the_phone(gateway, street, client):
    case = report(street)
    cases.dispatch(street.users.dispatcher, number=case.number)
    case.refresh_from_db()
    handler = handler_for(street, case)
    cases.respond(handler, number=case.number, note="已联系")
    cases.resolve(handler, number=case.number, result="垃圾已于当日清运，并增加了清运频次。")
    [message] = OutboxMessage.objects.filter(kind="resident_result")
    assert "垃圾已于当日清运" in message.text and case.unit.name in message.text
    link = re.search(r"https://jd\.example\.cn(/portal/track/\?t=\S+)", message.text).group(1)
    token = link.split("t=", 1)[1]

    page = client.get(link)
    assert "请您评价" in page.content.decode()
    answer = client.post(
        "/portal/track/",
        {"step": "rate", "number": case.number, "t": token, "resolved": "yes", "satisfaction": "satisfied"},
    )
    assert answer.status_code in (200, 302)
    case.refresh_from_db()
    assert case.status == "closed"
    assert case.ratings.get().source == "resident"


def test_a_damaged_or_expired_link_says_so_and_offers_the_search(gateway, street, client, settings):
    case = report(street)
    token = telling.link_token(case)
    page = client.get("/portal/track/?t=" + token[:-3] + "abc")
    assert page.status_code == 410
    assert "链接已失效" in page.content.decode()
    assert case.number not in page.content.decode()
    assert telling.number_from_link(token) == case.number
    settings.JIEDAO = {**settings.JIEDAO, "RATING_LINK_DAYS": -1}  # every link is older than that
    assert telling.number_from_link(token) is None
    assert client.get("/portal/track/?t=" + token).status_code == 410


def test_unsubscribe_stops_further_messages_and_can_be_taken_back(gateway, street, client):
    report(street)
    [message] = OutboxMessage.objects.filter(kind="resident_receipt")
    code = re.search(r"/m/t/(\w+)/", message.text).group(1)
    page = client.get(f"/m/t/{code}/")
    assert "确认退订" in page.content.decode()
    client.post(f"/m/t/{code}/", {"step": "stop"})
    contact = ResidentContact.objects.get(code=code)
    assert contact.opted_out_at is not None
    assert PHONE not in str(contact.__dict__)  # only the blind index is kept

    report(street)
    assert OutboxMessage.objects.filter(kind="resident_receipt").count() == 1  # nothing new

    client.post(f"/m/t/{code}/", {"step": "resume"})
    report(street)
    assert OutboxMessage.objects.filter(kind="resident_receipt").count() == 2
    assert client.get("/m/t/nosuchcode/").status_code == 404


def test_a_desk_answered_call_gets_no_receipt(gateway, street):
    cases.submit_case(
        street.users.operator,
        channel="12345",
        description="请问社区卫生服务站几点开门？",
        reporter_phone=PHONE,
        outcome="answered",
        answer="每天上午八点开门。",
    )
    assert not OutboxMessage.objects.filter(kind="resident_receipt").exists()


def test_the_hall_applicant_gets_the_rating_invitation_with_the_signed_link(gateway, hall, client):

    clerk = hall["street"].users.operator
    app = hall_services.accept_at_window(
        clerk,
        item_code="11010500100001",
        applicant={"name": "赵强", "id_number": "110105196503034321", "phone": PHONE},
        materials=materials(hall["elderly"]),
        now=NOW,
    )
    hall_services.approve(hall["street"].users.leader, number=app.number, now=NOW)
    hall_services.issue(clerk, number=app.number, delivery="on_the_spot", now=NOW + dt.timedelta(minutes=20))
    [message] = OutboxMessage.objects.filter(kind="hall_rating")
    assert app.number in message.text and "老年人优待证办理" in message.text
    link = re.search(r"https://jd\.example\.cn(/hall/applications/\S+)", message.text).group(1)
    page = client.get(link)
    assert page.status_code == 200 and app.number in page.content.decode()


def test_a_template_change_is_what_the_resident_reads(gateway, street):
    services.save_template(
        street.users.admin, kind="resident_receipt", text="【受理】{编号}，查询：{链接}", sms_template_id=""
    )
    case = report(street)
    [message] = OutboxMessage.objects.filter(kind="resident_receipt")
    assert message.text.startswith(f"【受理】{case.number}，查询：https://jd.example.cn/portal/track/?t=")
    assert message.params == [case.number, message.link]


def test_an_opt_out_asked_by_telephone_is_recorded_by_an_administrator(gateway, street, login):
    client = login(street.users.admin)
    refused = client.post("/ops/messages/opt-out/", {"phone": "12345"}, follow=True)
    assert "请填写11位中国大陆手机号码" in refused.content.decode()
    assert not ResidentContact.objects.exists()
    client.post("/ops/messages/opt-out/", {"phone": "139 1234 5678"})
    report(street)
    assert not OutboxMessage.objects.filter(kind="resident_receipt").exists()
    assert login(street.users.dispatcher).post("/ops/messages/opt-out/", {"phone": PHONE}).status_code == 403
