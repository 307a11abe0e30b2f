"""The Django admin: every list opens for the administrator, configuration can be
edited, and what the services record (cases, their event log) cannot be edited or
deleted through the back door."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiedao.cases import services
from jiedao.cases.models import Case, CaseEvent, RoutingRule
from jiedao.common.models import AccessLog
from tests.factories import WEDNESDAY

OUR_APPS = {"org", "cases", "common", "messaging", "auth"}
REGISTERED = sorted(
    f"{model._meta.app_label}.{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.app_label in OUR_APPS
)


def url(model_label, view, *args):
    app, model = model_label.split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def test_every_part_of_the_loop_has_an_admin_list():
    for label in [
        "org.district",
        "org.street",
        "org.community",
        "org.grid",
        "org.unit",
        "org.user",
        "org.apitoken",
        "cases.category",
        "cases.routingrule",
        "cases.case",
        "cases.caseevent",
        "cases.rating",
        "cases.extension",
        "cases.whistle",
        "messaging.notification",
        "common.accesslog",
    ]:
        assert label in REGISTERED


@pytest.mark.parametrize("label", REGISTERED)
def test_changelist_renders_for_the_administrator(admin_client, worked_case, label):
    response = admin_client.get(url(label, "changelist"))
    assert response.status_code == 200
    # Searching does not break the list either.
    if admin.site._registry[response.context["cl"].model].search_fields:
        assert admin_client.get(url(label, "changelist"), {"q": "JD"}).status_code == 200


def test_admin_index_is_in_chinese(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "街道 Jiedao 管理后台" in page
    assert "工单流转记录" in page and "派单规则" in page


def test_staff_without_admin_rights_cannot_open_the_admin(client, street):
    client.force_login(street.users.handler)
    response = client.get(url("cases.case", "changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_case_page_shows_timeline_and_masks_the_reporter(admin_client, worked_case):
    page = admin_client.get(url("cases.case", "change", worked_case.pk)).content.decode()
    assert worked_case.number in page
    assert "138****5678" in page and "13812345678" not in page
    assert "张*" in page and "张三" not in page
    for label in ("受理", "派单", "响应", "办结反馈", "回访评价"):
        assert label in page


def test_case_event_cannot_be_changed(admin_client, worked_case):
    event = worked_case.events.get(action="dispatch")
    before = (event.action, event.note, event.to_status, event.at)
    response = admin_client.post(
        url("cases.caseevent", "change", event.pk),
        {"action": "close", "note": "改写", "to_status": "closed", "seq": event.seq},
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert (event.action, event.note, event.to_status, event.at) == before


def test_case_event_cannot_be_deleted_one_by_one_or_in_bulk(admin_client, worked_case):
    event = worked_case.events.get(action="create")
    count = CaseEvent.objects.count()
    assert admin_client.get(url("cases.caseevent", "delete", event.pk)).status_code == 403
    assert admin_client.post(url("cases.caseevent", "delete", event.pk), {"post": "yes"}).status_code == 403
    response = admin_client.post(
        url("cases.caseevent", "changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    # The bulk delete action is not offered: Django answers with the list and deletes nothing.
    assert response.status_code in (200, 302)
    assert CaseEvent.objects.count() == count
    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_case_event_cannot_be_added(admin_client, worked_case):
    assert admin_client.get(url("cases.caseevent", "add")).status_code == 403
    count = CaseEvent.objects.count()
    admin_client.post(
        url("cases.caseevent", "add"),
        {"case": worked_case.pk, "seq": 99, "action": "close", "at": "2026-11-20 10:00:00"},
    )
    assert CaseEvent.objects.count() == count


def test_event_list_offers_no_delete_action(admin_client, worked_case):
    page = admin_client.get(url("cases.caseevent", "changelist")).content.decode()
    assert "delete_selected" not in page


def test_case_state_cannot_be_changed_or_deleted_in_the_admin(admin_client, worked_case):
    status = worked_case.status
    response = admin_client.post(
        url("cases.case", "change", worked_case.pk), {"status": "new", "description": "x", "channel": "phone"}
    )
    assert response.status_code == 403
    assert admin_client.post(url("cases.case", "delete", worked_case.pk), {"post": "yes"}).status_code == 403
    worked_case.refresh_from_db()
    assert worked_case.status == status
    assert admin_client.get(url("cases.case", "add")).status_code == 403


def test_case_list_filters_by_status_unit_channel_and_urgency(admin_client, worked_case, street):
    other, _ = services.submit_case(
        street.users.operator, channel="window", description="咨询养老补贴怎么申请", at=WEDNESDAY
    )
    listing = url("cases.case", "changelist")
    page = admin_client.get(listing, {"status__exact": "closed"}).content.decode()
    assert worked_case.number in page and other.number not in page
    page = admin_client.get(listing, {"channel__exact": "window"}).content.decode()
    assert other.number in page and worked_case.number not in page
    page = admin_client.get(listing, {"unit__id__exact": street.units.committee1.pk}).content.decode()
    assert worked_case.number in page and other.number not in page
    assert admin_client.get(listing, {"urgency__exact": "red"}).status_code == 200


def test_case_list_costs_the_same_queries_for_more_cases(admin_client, street):
    def make(n):
        for i in range(n):
            services.submit_case(
                street.users.operator,
                channel="12345",
                description=f"路面破损第{i}处",
                lat=39.905,
                lng=116.415,
                category_code="010102",
                dispatch=True,
                at=WEDNESDAY,
            )

    listing = url("cases.case", "changelist")
    make(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(listing).status_code == 200
    make(8)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(listing).status_code == 200
    assert len(many) == len(few)


def test_user_list_masks_phones_and_shows_roles(admin_client, street):
    page = admin_client.get(url("org.user", "changelist")).content.decode()
    assert "138****8000" in page
    assert "13800138000" not in page
    assert "居民" in page and "承办人" in page and "综合执法队" in page


def test_opening_a_user_with_a_phone_is_logged(admin_client, admin_user, street):
    resident = street.users.resident
    response = admin_client.get(url("org.user", "change", resident.pk))
    assert response.status_code == 200
    assert "13800138000" in response.content.decode()
    log = AccessLog.objects.get(user=admin_user, object_id=str(resident.pk))
    assert "phone" in log.fields


def test_community_page_lists_its_grids_inline(admin_client, street):
    community = street.communities[0]
    page = admin_client.get(url("org.community", "change", community.pk)).content.decode()
    for grid in community.grids.all():
        assert grid.code in page


def test_category_limits_are_editable_from_the_list(admin_client, street):
    sanitation = street.categories.sanitation
    listing = url("cases.category", "changelist")
    page = admin_client.get(listing, {"q": "010101"}).content.decode()
    assert 'name="form-0-response_hours"' in page
    response = admin_client.post(
        listing + "?q=010101",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(sanitation.pk),
            "form-0-response_hours": "1.5",
            "form-0-completion_workdays": "4",
            "form-0-needs_verification": "on",
            "form-0-active": "on",
            "_save": "保存",
        },
    )
    assert response.status_code == 302
    sanitation.refresh_from_db()
    assert float(sanitation.response_hours) == 1.5
    assert sanitation.completion_workdays == 4
    assert sanitation.needs_verification and not sanitation.office_hours_only


def test_category_list_searches_by_name_and_code(admin_client, street):
    listing = url("cases.category", "changelist")
    page = admin_client.get(listing, {"q": "养老"}).content.decode()
    assert "020101" in page and "010101" not in page
    page = admin_client.get(listing, {"q": "0102"}).content.decode()
    assert "房屋维修" in page


def test_routing_rule_priority_is_editable_from_the_list(admin_client, street):
    rule = RoutingRule.objects.get(priority=10)
    listing = url("cases.routingrule", "changelist")
    page = admin_client.get(listing, {"q": rule.name}).content.decode()
    assert 'name="form-0-priority"' in page
    response = admin_client.post(
        listing + "?q=" + rule.name,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(rule.pk),
            "form-0-priority": "50",
            "form-0-active": "on",
            "_save": "保存",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.priority == 50 and rule.active


def test_changing_a_rule_in_the_admin_changes_where_new_cases_go(admin_client, street):
    rule = RoutingRule.objects.get(priority=10)
    admin_client.post(
        url("cases.routingrule", "changelist") + "?q=" + rule.name,
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(rule.pk),
            "form-0-priority": "10",
            "_save": "保存",
        },
    )  # "active" left unticked: the rule is switched off
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description="垃圾满溢",
        lat=39.905,
        lng=116.405,
        category_code="010101",
        dispatch=True,
        at=WEDNESDAY,
    )
    assert Case.objects.get(pk=case.pk).unit == street.units.enforcement


def test_category_admin_shows_the_tree_in_code_order(admin_client, street):
    page = admin_client.get(url("cases.category", "changelist")).content.decode()
    positions = [page.index(code) for code in ("城乡建设", "城市建设和市政管理", "环境卫生", "民政")]
    assert positions == sorted(positions)
