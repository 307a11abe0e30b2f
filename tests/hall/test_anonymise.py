"""The applicant's personal data on a service-hall application finished (issued, rejected or
refused) more than JIEDAO["ANONYMISE_AFTER_DAYS"] days ago (365 by default, the cases' own) is
erased by the worker, with one event per application; applications still open are left alone,
and a second run changes nothing."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from jiedao.common.crypto import blind_index
from jiedao.hall import services, tasks
from jiedao.hall.models import Application, ApplicationEvent, Status
from tests.factories import make_user

from .conftest import NOW, REGISTERED_ID, materials

STRANGER = {"name": "赵强", "id_number": "110105196503034321", "phone": "13900002222"}
REGISTERED = {"name": "王秀英", "id_number": REGISTERED_ID, "phone": "13800001111"}
YEAR = dt.timedelta(days=365)


@pytest.fixture
def clerk(street):
    return street.users.operator


@pytest.fixture
def handler(street):
    return make_user("hall_handler", "handler", unit=street.units.service)


@pytest.fixture
def apps(hall, registered, clerk, handler):
    """Issued 20 minutes after NOW (with a helper), rejected after 10 minutes, refused at once
    (online), and one still being approved."""
    issued = services.accept_at_window(
        clerk,
        item_code="11010500100001",
        applicant=REGISTERED,
        materials=materials(hall["elderly"], 户口簿=""),
        assistant_name="社区帮办员刘芳",
        assisted_reason="申请人行动不便",
        now=NOW,
    )
    services.approve(handler, number=issued.number, now=NOW + dt.timedelta(minutes=10))
    services.issue(clerk, number=issued.number, delivery="on_the_spot", now=NOW + dt.timedelta(minutes=20))
    rejected = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    services.reject(handler, number=rejected.number, note="不符合条件", now=NOW + dt.timedelta(minutes=10))
    refused = services.submit_online(
        hall["street"].users.resident,
        item_code="11010500100001",
        applicant=STRANGER,
        materials=materials(hall["elderly"]),
        now=NOW,
    )
    services.refuse(clerk, number=refused.number, note="材料不清晰", now=NOW)
    open_ = services.accept_at_window(
        clerk, item_code="11010500100001", applicant=STRANGER, materials=materials(hall["elderly"]), now=NOW
    )
    return {
        name: Application.objects.get(pk=app.pk)
        for name, app in {"issued": issued, "rejected": rejected, "refused": refused, "open": open_}.items()
    }


def personal(app):
    app.refresh_from_db()
    return {
        "name": app.applicant_name,
        "id": app.applicant_id,
        "id_index": app.applicant_id_index,
        "phone": app.applicant_phone,
        "assistant": app.assistant_name,
        "reason": app.assisted_reason,
        "person": app.person_id,
    }


ERASED = {"name": "", "id": "", "id_index": "", "phone": "", "assistant": "", "reason": "", "person": None}


def test_nothing_is_erased_before_a_year_has_passed_since_the_application_finished(apps):
    # The issued application finished 20 minutes after NOW: a year after NOW it is not yet due.
    assert services.anonymise_finished_applications(now=NOW + YEAR + dt.timedelta(minutes=15)) == {"anonymised": 2}
    assert personal(apps["issued"])["name"] == "王秀英"
    assert personal(apps["refused"]) == ERASED and personal(apps["rejected"]) == ERASED


def test_finished_applications_lose_the_applicants_personal_data_with_one_event_each(apps, registered):
    before = personal(apps["open"])
    at = NOW + YEAR + dt.timedelta(hours=1)
    assert services.anonymise_finished_applications(now=at) == {"anonymised": 3}
    for name in ("issued", "rejected", "refused"):
        app = apps[name]
        assert personal(app) == ERASED
        assert app.anonymised_at == at and app.status == apps[name].status
        event = ApplicationEvent.objects.get(application=app, action="anonymise")
        assert event.at == at and event.actor is None and event.data["after_days"] == 365
    # Each event lists what was erased.
    issued_event = ApplicationEvent.objects.get(application=apps["issued"], action="anonymise")
    assert issued_event.data["fields"] == [
        "applicant_name",
        "applicant_id",
        "applicant_phone",
        "assistant_name",
        "assisted_reason",
        "person",
    ]
    # The identity number no longer finds the applications; the registry keeps its own record.
    assert (
        not Application.objects.filter(applicant_id_index=blind_index(REGISTERED_ID))
        .exclude(pk=apps["open"].pk)
        .exists()
    )
    registered.refresh_from_db()
    assert registered.id_number == REGISTERED_ID
    # The resident keeps their own application in their list; status and dates stay.
    refused = Application.objects.get(pk=apps["refused"].pk)
    assert refused.applicant_user is not None and refused.status == Status.REFUSED
    issued = Application.objects.get(pk=apps["issued"].pk)
    assert issued.issued_at == NOW + dt.timedelta(minutes=20) and issued.visits == 1
    # The application still open is untouched.
    assert personal(apps["open"]) == before and before["name"] == "赵强"


def test_a_second_run_changes_nothing(apps):
    at = NOW + YEAR + dt.timedelta(hours=1)
    services.anonymise_finished_applications(now=at)
    events = ApplicationEvent.objects.count()
    assert services.anonymise_finished_applications(now=at + dt.timedelta(days=1)) == {"anonymised": 0}
    assert ApplicationEvent.objects.count() == events


def test_the_period_is_the_cases_setting(apps, settings):
    settings.JIEDAO = {**settings.JIEDAO, "ANONYMISE_AFTER_DAYS": 30}
    assert services.anonymise_finished_applications(now=NOW + dt.timedelta(days=30, hours=1)) == {"anonymised": 3}


def test_the_application_page_says_the_applicant_was_anonymised(apps, clerk):
    services.anonymise_finished_applications(now=NOW + YEAR + dt.timedelta(hours=1))
    client = Client()
    client.force_login(clerk)
    page = client.get(reverse("hall:application", args=[apps["issued"].number])).content.decode()
    assert "申请人信息已匿名化" in page and "王" not in page.split("data-applicant>")[1].split("</dd>")[0]


def test_the_worker_queues_the_anonymisation_once_a_day(hall):
    assert tasks.enqueue_anonymise_if_due() is not None
    assert tasks.enqueue_anonymise_if_due() is None
