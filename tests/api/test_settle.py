"""三事分流 through the API: a case waiting in the queue answered, advised or voided."""

from jiedao.cases.models import CaseEvent
from tests.api.conftest import fields_of, submit


def test_the_api_voids_a_waiting_case_with_its_reason(street, api):
    waiting = submit(street, description="无声电话")
    client = api(street.users.dispatcher)
    refused = client.post(f"/cases/{waiting.number}/actions/void", {"reason": ""})
    assert refused.status_code == 422 and fields_of(refused) == {"void_reason"}
    done = client.post(f"/cases/{waiting.number}/actions/void", {"reason": "silent"})
    assert done.status_code == 200 and done.json()["status"] == "voided"
    again = client.post(f"/cases/{waiting.number}/actions/answer", {"answer": "已答复"})
    assert again.status_code == 409


def test_the_api_answers_a_consultation_and_a_handler_may_not(street, api):
    waiting = submit(street, description="请问居住证怎么办")
    assert api(street.users.handler).post(f"/cases/{waiting.number}/actions/answer", {"answer": "x"}).status_code == 403
    done = api(street.users.operator).post(
        f"/cases/{waiting.number}/actions/answer", {"answer": "带身份证到服务中心办理。"}
    )
    assert done.status_code == 200 and done.json()["status"] == "closed"


def test_a_call_is_answered_at_intake_through_the_api(street, api):
    client = api(street.users.operator)
    refused = client.post("/cases", {"description": "请问居住证怎么办", "outcome": "answered"})
    assert refused.status_code == 422 and fields_of(refused) == {"answer"}
    done = client.post("/cases", {"description": "请问居住证怎么办", "outcome": "answered", "answer": "带身份证办理。"})
    assert done.status_code == 201 and done.json()["status"] == "closed"
    case = CaseEvent.objects.filter(case__number=done.json()["number"])
    assert list(case.order_by("seq").values_list("action", "note")) == [("create", ""), ("answer", "带身份证办理。")]
