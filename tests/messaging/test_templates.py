"""What leaves the site and when: templates with variables, their preview and SMS length; quiet
hours; digests; each person's channels; the providers' delivery reports (送达); the blue warning
(系统故障) of failed messages; the per-channel figures of the operations page and /metrics. SMS
through a real HTTP gateway on 127.0.0.1."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from jiedao.common.errors import NotAllowed, ValidationFailed
from jiedao.evaluation import services as evaluation
from jiedao.evaluation.models import Warning
from jiedao.messaging import outbox, selectors, services, wording
from jiedao.messaging.models import DeliveryRule, Notification, OutboxMessage
from jiedao.messaging.services import notify
from jiedao.workcal.calendar import SHANGHAI

from .gateway import Gateway

pytestmark = pytest.mark.django_db
PHONE = "13800138000"


@pytest.fixture
def gateway(settings):
    server = Gateway()
    settings.SMS_HTTP = server.settings()
    yield server
    server.close()


@pytest.fixture
def person(street, gateway):
    """A handler with a mobile, told of 协办 (not urgent) and 派单 (urgent) by SMS."""
    user = street.users.handler_committee
    user.phone = PHONE
    user.save(update_fields=["phone"])
    for kind in ("cohandle", "dispatch"):
        DeliveryRule.objects.update_or_create(
            kind=kind, channel="sms_http", defaults={"to_person": True, "to_members": False, "enabled": True}
        )
    return user


def local(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- the wording ---------------------------------------------------------------------------------


def test_render_fills_variables_and_the_parameters_follow_their_order():
    text = "工单{编号}已由{单位}办理：{答复}。{编号}"
    values = {"编号": "JD1", "单位": "城管队", "答复": "已清运"}
    assert wording.render(text, values) == "工单JD1已由城管队办理：已清运。JD1"
    assert wording.parameters(text, values) == ["JD1", "城管队", "已清运"]


def test_an_unknown_variable_is_named_with_the_ones_allowed():
    with pytest.raises(wording.TemplateError) as error:
        wording.check("您的{工单号}已受理", ("编号", "链接"))
    assert "{工单号}" in error.value.message and "{编号}、{链接}" in error.value.message


@pytest.mark.parametrize(
    "length,signature,expected",
    [(0, "", (0, 0)), (66, "街道", (70, 1)), (67, "街道", (71, 2)), (134, "", (134, 2)), (135, "", (135, 3))],
)
def test_sms_length_counts_the_signature_and_parts_of_67(length, signature, expected):
    assert wording.sms_length("字" * length, signature) == expected


# --- templates ----------------------------------------------------------------------------------


def test_save_template_refuses_bad_input_by_field(street):
    admin = street.users.admin
    with pytest.raises(ValidationFailed) as error:
        services.save_template(admin, kind="resident_receipt", text="工单{工单号}")
    assert error.value.errors[0]["field"] == "text"
    with pytest.raises(ValidationFailed) as error:
        services.save_template(admin, kind="resident_receipt", text="  ")
    assert error.value.errors[0]["field"] == "text"
    with pytest.raises(ValidationFailed) as error:
        services.save_template(admin, kind="resident_receipt", text="{编号}", sms_template_id="12-34")
    assert error.value.errors[0]["field"] == "sms_template_id"
    with pytest.raises(ValidationFailed):
        services.save_template(admin, kind="no_such_kind", text="x")
    with pytest.raises(NotAllowed):
        services.save_template(street.users.dispatcher, kind="resident_receipt", text="{编号}")


def test_a_saved_template_with_an_approved_id_goes_out_with_its_parameters(person, street):
    services.save_template(street.users.admin, kind="cohandle", text="【协办】{消息}", sms_template_id="1234567")
    notify(user=person, kind="cohandle", message="工单 JD1 请协办")
    [message] = OutboxMessage.objects.all()
    assert message.text == "【协办】工单 JD1 请协办"
    assert (message.template, message.params) == ("1234567", ["工单 JD1 请协办"])


def test_the_template_page_previews_with_the_sms_length_and_saves(street, login):
    client = login(street.users.admin)
    page = client.get("/ops/messages/templates/")
    assert "受理回执（居民）" in page.content.decode()
    text = "您的诉求已受理，工单号{编号}。"
    preview = client.post("/ops/messages/templates/resident_receipt/", {"text": text, "step": "preview"})
    body = preview.content.decode()
    filled = wording.render(text, wording.sample_values("resident_receipt"))
    length, parts = wording.sms_length(filled, "街道")
    assert filled in body and f"共 {length} 个字" in body and f"按 {parts} 条计费" in body
    refused = client.post("/ops/messages/templates/resident_receipt/", {"text": "工单{号码}", "step": "save"})
    assert refused.status_code == 422 and "{号码}" in refused.content.decode()
    saved = client.post("/ops/messages/templates/resident_receipt/", {"text": text, "step": "save"})
    assert saved.status_code == 302
    assert outbox.template_for("resident_receipt")[0] == text
    assert login(street.users.dispatcher).get("/ops/messages/templates/").status_code in (302, 403)


# --- quiet hours and digests --------------------------------------------------------------------


def test_quiet_hours_hold_what_is_not_urgent_until_morning(person, settings):
    settings.JIEDAO = {**settings.JIEDAO, "QUIET_HOURS": "22:00-07:00"}
    night = local(2026, 12, 7, 23, 15)
    notify(user=person, kind="cohandle", message="请协办", at=night)
    notify(user=person, kind="dispatch", message="新派单", at=night)
    calm = OutboxMessage.objects.get(kind="cohandle")
    urgent = OutboxMessage.objects.get(kind="dispatch")
    assert calm.next_attempt_at == local(2026, 12, 8, 7, 0)
    assert urgent.next_attempt_at == night
    assert outbox.send_due(now=night + dt.timedelta(minutes=1))["sent"] == 1
    assert outbox.send_due(now=local(2026, 12, 8, 7, 1))["sent"] == 1


def test_quiet_hours_that_do_not_cross_midnight(settings):
    settings.JIEDAO = {**settings.JIEDAO, "QUIET_HOURS": "12:00-13:30"}
    assert outbox.quiet_until(local(2026, 12, 7, 12, 40)) == local(2026, 12, 7, 13, 30)
    assert outbox.quiet_until(local(2026, 12, 7, 13, 30)) is None
    settings.JIEDAO = {**settings.JIEDAO, "QUIET_HOURS": ""}
    assert outbox.quiet_until(local(2026, 12, 7, 12, 40)) is None


def test_many_messages_in_minutes_go_out_as_one_digest(person, gateway, settings):
    settings.JIEDAO = {**settings.JIEDAO, "DIGEST_AFTER": 2, "DIGEST_MINUTES": 10}
    start = timezone.now()
    for n in range(5):
        notify(user=person, kind="cohandle", message=f"工单 JD{n + 1} 请协办", at=start + dt.timedelta(minutes=n))
    rows = list(OutboxMessage.objects.order_by("id"))
    assert [m.held for m in rows] == [False, False, True, True, True]
    # The held ones share one due time: the end of the window opened by the first held.
    assert {m.next_attempt_at for m in rows[2:]} == {start + dt.timedelta(minutes=2 + 10)}

    assert outbox.send_due(now=start + dt.timedelta(minutes=5))["sent"] == 2
    counts = outbox.send_due(now=start + dt.timedelta(minutes=12))
    assert counts["sent"] == 3
    texts = [m["content"] for m in gateway.received]
    assert len(texts) == 3  # two alone, then one digest
    assert texts[2].startswith("您有3条新消息：1. 工单 JD3 请协办；2. 工单 JD4 请协办；3. 工单 JD5 请协办")
    rows = list(OutboxMessage.objects.order_by("id"))
    assert {m.state for m in rows} == {OutboxMessage.State.SENT}
    assert rows[3].merged_into_id == rows[2].pk and rows[4].merged_into_id == rows[2].pk


def test_urgent_messages_are_never_held(person, settings):
    settings.JIEDAO = {**settings.JIEDAO, "DIGEST_AFTER": 1}
    for n in range(3):
        notify(user=person, kind="dispatch", message=f"派单 {n}")
    assert not OutboxMessage.objects.filter(held=True).exists()


# --- each person's channels ----------------------------------------------------------------------


def test_a_person_who_switched_sms_off_gets_no_sms_but_still_the_in_app_message(person, login):
    client = login(person)
    page = client.get("/notifications/channels/")
    assert "短信（短信网关）" in page.content.decode() and "138****8000" in page.content.decode()
    client.post("/notifications/channels/", {})  # every box unticked
    notify(user=person, kind="dispatch", message="新派单")
    assert Notification.objects.filter(user=person).count() == 1
    assert list(OutboxMessage.objects.values_list("channel", "address")) == []
    client.post("/notifications/channels/", {"sms_http": "on"})
    notify(user=person, kind="dispatch", message="新派单")
    assert OutboxMessage.objects.count() == 1


def test_an_unknown_channel_choice_is_refused(person):
    with pytest.raises(ValidationFailed) as error:
        services.set_channels(person, enabled={"fax": True})
    assert "fax" in error.value.errors[0]["message"]


# --- delivery reports ---------------------------------------------------------------------------


def sent_sms(person):
    notify(user=person, kind="dispatch", message="新派单")
    outbox.send_due(now=timezone.now() + dt.timedelta(seconds=1))
    return OutboxMessage.objects.get()


def test_a_gateway_delivery_report_marks_the_message_delivered(person, client, settings):
    settings.JIEDAO = {**settings.JIEDAO, "SMS_RECEIPT_TOKEN": "s3cret-token"}
    message = sent_sms(person)
    assert message.state == OutboxMessage.State.SENT and message.provider_id == f"G-{message.key}"
    body = json.dumps([{"msgid": message.provider_id, "status": "DELIVRD", "time": "2026-12-07 09:30:05"}])
    answer = client.post("/messaging/receipts/sms_http/s3cret-token/", body, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["changed"] == 1
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.DELIVERED
    assert message.delivered_at == dt.datetime(2026, 12, 7, 9, 30, 5, tzinfo=SHANGHAI)
    assert selectors.channel_figures()["sms_http"]["delivered"] == 1


def test_a_tencent_report_of_a_failed_delivery_fails_the_message(person, client, settings):
    settings.JIEDAO = {**settings.JIEDAO, "SMS_RECEIPT_TOKEN": "s3cret-token"}
    message = sent_sms(person)
    OutboxMessage.objects.filter(pk=message.pk).update(channel="sms_tencent")
    body = json.dumps(
        [{"sid": message.provider_id, "report_status": "FAIL", "errmsg": "MK:0005", "description": "用户停机"}]
    )
    client.post("/messaging/receipts/sms_tencent/s3cret-token/", body, content_type="application/json")
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED and "用户停机" in message.last_answer


def test_reports_need_the_secret_and_a_readable_body(person, client, settings):
    settings.JIEDAO = {**settings.JIEDAO, "SMS_RECEIPT_TOKEN": "s3cret-token"}
    assert client.post("/messaging/receipts/sms_http/wrong/", "[]", content_type="application/json").status_code == 404
    bad = client.post("/messaging/receipts/sms_http/s3cret-token/", "not json", content_type="application/json")
    assert bad.status_code == 400 and "JSON" in bad.json()["errmsg"]
    settings.JIEDAO = {**settings.JIEDAO, "SMS_RECEIPT_TOKEN": ""}
    assert client.post("/messaging/receipts/sms_http/", "[]", content_type="application/json").status_code == 404


# --- the blue warning and the figures -------------------------------------------------------------


def failed_message(person, settings, now):
    settings.JIEDAO = {**settings.JIEDAO, "OUTBOX_ATTEMPTS": 1}
    settings.SMS_HTTP = {**settings.SMS_HTTP, "URL": "http://127.0.0.1:9/sms"}  # nobody listens
    notify(user=person, kind="dispatch", message="新派单", at=now)
    outbox.send_due(now=now + dt.timedelta(seconds=1))
    return OutboxMessage.objects.get()


def test_failed_messages_raise_the_blue_warning_and_tell_the_administrators(person, street, settings):
    now = timezone.now()
    message = failed_message(person, settings, now)
    assert message.state == OutboxMessage.State.FAILED
    evaluation.check_surges(now=now + dt.timedelta(minutes=1))
    warning = Warning.objects.get(kind=Warning.Kind.SYSTEM, status=Warning.Status.ACTIVE)
    assert warning.level == Warning.Level.BLUE and "1 条消息" in warning.detail
    assert Notification.objects.filter(kind="system", user=street.users.admin).count() == 1
    evaluation.check_surges(now=now + dt.timedelta(minutes=2))  # still failing: told once
    assert (
        Notification.objects.filter(kind="system").count()
        == Notification.objects.filter(kind="system", user=street.users.admin).count()
    )
    assert Notification.objects.filter(kind="system", user=street.users.admin).count() == 1

    services.resend(street.users.admin, message_id=message.pk)
    evaluation.check_surges(now=now + dt.timedelta(minutes=3))
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RECOVERED


def test_operations_page_and_metrics_show_figures_per_channel(person, street, settings, login, client):
    now = timezone.now()
    failed_message(person, settings, now)
    page = login(street.users.admin).get("/ops/messages/").content.decode()
    assert 'data-channel="sms_http"' in page
    assert re.search(r"<title>消息发送[^<]*</title>", page)  # the page's own title, nothing else in it
    assert page.count('id="opt-out"') == 1
    metrics = client.get("/metrics").content.decode()
    assert 'jiedao_outbox_failed_by_channel{channel="sms_http"} 1.0' in metrics
