"""The classifier and duplicate search at intake: automatic dispatch above the threshold,
the operator's confirmation below it, 分拨准确率, and attaching to an existing case."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.cases.models import Case, CaseEvent, Status
from jiedao.intelligence import measures
from jiedao.intelligence.models import Proposal
from tests.api.conftest import ApiClient

from .conftest import set_auto

TEXT = "东湖小区3号楼门口垃圾堆积没人清运，已经好几天了"


def submit(street, text=TEXT, grid=0, **kwargs):
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="12345",
        description=text,
        reporter_phone="13812345678",
        grid_code=street.grids[grid].code,
        **kwargs,
    )
    return case


def test_above_the_threshold_the_case_is_classified_and_dispatched_automatically(street, trained):
    set_auto(True)
    case = submit(street)
    assert case.status == Status.DISPATCHED and case.category.code == "010101"
    assert case.unit.code == "JWH01"  # 东湖社区环境卫生 → 居委会
    dispatch = CaseEvent.objects.get(case=case, action="dispatch")
    assert dispatch.data["auto"] is True and "智能分拨自动派单" in dispatch.note
    assert Proposal.objects.get(case=case).auto


def test_below_the_threshold_the_operator_or_dispatcher_confirms(street, trained):
    set_auto(False)
    case = submit(street)
    assert case.status == Status.NEW and case.category is None
    proposal = Proposal.objects.get(case=case)
    assert not proposal.auto and proposal.category.code == "010101"
    assert not CaseEvent.objects.filter(case=case, action="dispatch").exists()


def test_routing_accuracy_counts_the_proposals_that_were_kept(street, trained):
    set_auto(False)
    start = timezone.now() - dt.timedelta(hours=1)
    kept = submit(street)
    changed = submit(street, text="幸福里路灯不亮，晚上很黑")
    assert measures.routing_accuracy(start, timezone.now() + dt.timedelta(hours=1)) is None  # nothing decided yet
    case_services.classify(street.users.dispatcher, number=kept.number, category_code="010101")
    case_services.classify(
        street.users.dispatcher, number=changed.number, category_code="010201"
    )  # the dispatcher changed it
    end = timezone.now() + dt.timedelta(hours=1)
    assert measures.routing_accuracy(start, end) == 0.5
    assert measures.auto_dispatch_share(start, end) is None  # classified, none dispatched yet


def test_without_a_model_intake_is_unchanged(street):
    case = submit(street)
    assert case.status == Status.NEW and not Proposal.objects.exists()


def test_intake_page_shows_top_three_with_units_and_duplicates(street, trained, login):
    existing = submit(street)
    client = login(street.users.operator)
    response = client.get(
        reverse("intelligence:suggest"),
        {"description": "东湖小区3号楼门口的垃圾堆积了好几天没人清运", "grid": street.grids[0].code},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-suggestion=") == 3 and "东湖社区居委会" in html
    assert f'data-candidate="{existing.number}"' in html
    # Far away (another community's grid): no candidate.
    response = client.get(
        reverse("intelligence:suggest"),
        {"description": "东湖小区3号楼门口的垃圾堆积了好几天没人清运", "grid": street.grids[3].code},
    )
    assert "data-candidate" not in response.content.decode()


def test_operator_attaches_a_repeat_report_to_the_existing_case(street, login):
    existing = submit(street)
    client = login(street.users.operator)
    response = client.post(
        reverse("cases:intake"),
        {
            "channel": "12345",
            "description": "3号楼门口垃圾好几天没清运了",
            "reporter_phone": "13900001111",
            "grid": street.grids[0].code,
            "attach_to": existing.number,
        },
    )
    assert response.status_code == 302
    new = Case.objects.exclude(pk=existing.pk).get()
    assert new.status == Status.MERGED and new.master_id == existing.pk
    assert CaseEvent.objects.filter(case=existing, action="absorb", data__duplicate=new.number).exists()


def test_resident_sees_candidates_without_other_peoples_text(street, login):
    existing = submit(street)
    response = login(street.users.resident).get(
        reverse("intelligence:portal_suggest"),
        {"description": "3号楼门口垃圾堆积好几天没清运", "grid": street.grids[0].code},
    )
    html = response.content.decode()
    assert f'data-candidate="{existing.number}"' in html
    assert "13812345678" not in html and existing.description[:12] not in html


@pytest.fixture
def operator_api(street):
    from jiedao.org import services as org_services
    from tests.factories import PASSWORD

    plain, _token = org_services.create_token(street.users.operator.username, password=PASSWORD)
    return ApiClient(plain)


def test_api_refuses_a_likely_duplicate_when_asked_to_check_then_attaches(street, operator_api):
    existing = submit(street)
    body = {
        "channel": "phone",
        "description": "3号楼门口垃圾堆积好几天了，一直没人清运",
        "reporter_phone": "13912345678",
        "grid": street.grids[0].code,
        "check_duplicates": True,
    }
    response = operator_api.post("/cases", body)
    assert response.status_code == 409
    assert [c["number"] for c in response.json()["candidates"]] == [existing.number]
    assert Case.objects.count() == 1

    response = operator_api.post("/cases", {**body, "attach_to": existing.number})
    assert response.status_code == 201 and response.json()["status"] == "merged"

    response = operator_api.post("/cases", {**body, "grid": street.grids[3].code})
    assert response.status_code == 201  # nothing similar there


def test_api_attach_to_an_unknown_case_is_refused(street, operator_api):
    response = operator_api.post(
        "/cases", {"channel": "phone", "description": "路灯不亮", "reporter_phone": "13912345678", "attach_to": "JD000"}
    )
    assert response.status_code == 422
    assert Case.objects.count() == 0


def test_classify_api_returns_top_three(street, trained, operator_api):
    response = operator_api.post("/classify", {"text": "幸福里12号楼屋顶渗水严重"})
    body = response.json()
    assert response.status_code == 200 and body["version"] == trained.pk
    assert len(body["items"]) == 3 and body["items"][0]["category"] == "010201"
    assert body["items"][0]["unit"]["code"] == "ZJ"
    assert abs(sum(i["probability"] for i in body["items"]) - 1) < 0.5


def test_classify_api_without_a_model(street, operator_api):
    body = operator_api.post("/classify", {"text": "路灯不亮"}).json()
    assert body["version"] is None and body["items"] == []


def test_the_dispatcher_sees_the_proposal_of_a_case_waiting_for_confirmation(street, trained, login):
    set_auto(False)
    case = submit(street)
    html = login(street.users.dispatcher).get(reverse("cases:case", args=[case.number])).content.decode()
    assert 'data-proposed="010101"' in html
    case_services.classify(street.users.dispatcher, number=case.number, category_code="010101")
    case_services.dispatch(street.users.dispatcher, number=case.number)
    html = login(street.users.dispatcher).get(reverse("cases:case", args=[case.number])).content.decode()
    assert "data-proposed" not in html


def test_a_proposal_is_kept_for_the_intake_page_but_not_for_an_api_call_with_a_category(
    street, trained, login, operator_api
):
    response = operator_api.post(
        "/cases",
        {
            "channel": "phone",
            "description": TEXT,
            "reporter_phone": "13912345678",
            "grid": street.grids[0].code,
            "category": "010101",
        },
    )
    assert response.status_code == 201 and not Proposal.objects.exists()
    start = timezone.now() - dt.timedelta(hours=1)
    login(street.users.operator).post(
        reverse("cases:intake"),
        {
            "channel": "12345",
            "description": TEXT,
            "reporter_phone": "13900001111",
            "grid": street.grids[0].code,
            "catpick": "010101",
        },
    )
    proposal = Proposal.objects.get()
    assert proposal.category.code == "010101" and not proposal.auto
    assert measures.routing_accuracy(start, timezone.now() + dt.timedelta(hours=1)) == 1.0


def test_the_auto_dispatch_share_counts_only_cases_that_were_dispatched(street, trained):
    """Four calls in the hour: one dispatched automatically, one dispatched by the dispatcher,
    one void call and one waiting to be dispatched. Only the two dispatched count: 1 ÷ 2."""
    start = timezone.now() - dt.timedelta(hours=1)
    set_auto(True)
    submit(street)
    set_auto(False)
    manual = submit(street, text="幸福里路灯不亮，晚上很黑")
    case_services.classify(street.users.dispatcher, number=manual.number, category_code="010201")
    case_services.dispatch(street.users.dispatcher, number=manual.number)
    void = submit(street, text="打错了")
    case_services.settle(street.users.operator, number=void.number, outcome="voided", void_reason="wrong_number")
    submit(street, text="东湖小区路面坑洼")
    end = timezone.now() + dt.timedelta(hours=1)
    assert measures.auto_dispatch_share(start, end) == 0.5
