"""Uploaded photos are served only to those who may see their case."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jiedao.cases import services
from jiedao.cases.models import CasePhoto
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(buffer, "PNG")
    return SimpleUploadedFile("door.png", buffer.getvalue(), content_type="image/png")


def test_a_case_photo_reaches_its_reporter_and_street_staff_but_nobody_else(client, street):
    case, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description="楼道门坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
        photos=[_png()],
    )
    url = CasePhoto.objects.get(case=case).image.url
    assert url.startswith("/media/cases/")

    assert client.get(url).status_code == 404  # signed out: as if it did not exist
    client.login(username=street.users.resident_other.username, password=PASSWORD)
    assert client.get(url).status_code == 404  # another resident
    client.login(username=street.users.resident.username, password=PASSWORD)
    mine = client.get(url)
    assert mine.status_code == 200 and mine["Content-Type"] == "image/png"
    assert mine["Cache-Control"].startswith("private")
    client.login(username=street.users.dispatcher.username, password=PASSWORD)
    assert client.get(url).status_code == 200
    assert client.get("/media/cases/../../keys/field.keys").status_code == 404
    assert client.get("/media/other/anything.png").status_code == 404


def test_api_clients_fetch_photos_with_their_bearer_token(client, street):
    case, _ = services.submit_case(
        street.users.operator,
        channel="12345",
        description="路灯坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
        photos=[_png()],
    )
    url = CasePhoto.objects.get(case=case).image.url
    token = client.post(
        "/api/v1/auth/token",
        {"username": street.users.leader.username, "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert client.get(url, HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 404
