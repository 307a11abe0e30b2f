"""Answers that may hold personal data are never kept by a browser or a proxy: a page of a
signed-in user, every API answer and every form post carry ``Cache-Control: no-store``; a
public page read by an anonymous visitor may be cached."""

from django.urls import reverse

from jiedao.cases.models import Case


def _no_store(response):
    return "no-store" in response.get("Cache-Control", "")


def test_a_staff_page_is_not_kept_by_the_browser(street, login, make_case):
    case = make_case()
    client = login(street.users.dispatcher)
    response = client.get(reverse("cases:case", args=[case.number]))
    assert response.status_code == 200 and _no_store(response)
    assert "private" in response["Cache-Control"]


def test_an_api_answer_is_not_kept(street, client):
    response = client.post(
        "/api/v1/auth/token", {"username": "nobody", "password": "x"}, content_type="application/json"
    )
    assert response.status_code >= 400 and _no_store(response)


def test_the_tracking_form_answer_is_not_kept(client, street, make_case):
    case = make_case(phone="13912345678")
    response = client.post(reverse("web:track"), {"step": "find", "number": case.number, "phone": "13912345678"})
    assert response.status_code == 200 and case.number in response.content.decode()
    assert _no_store(response)


def test_a_public_page_read_anonymously_may_be_cached(client, street):
    response = client.get(reverse("duties:public"))
    assert response.status_code == 200 and not _no_store(response)
    assert Case.objects.count() == 0
