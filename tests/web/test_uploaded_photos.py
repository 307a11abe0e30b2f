"""Uploaded photos cannot carry script, and /media/ gives each stored photo only to those who may
see what it belongs to.

The attack: a resident uploads a GIF that is also JavaScript under the name ``x.js``, then a GIF
whose trailing bytes load that script, under ``x.html``; a leader who opens the second one would
run the script signed in as themselves. And ``/media/participation/..%2fcases/<file>`` reached a
private case photo through the public folder of proposal photos."""

import base64
import json
import re

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test.testcases import LiveServerThread
from django.urls import reverse

from jiedao.cases import services
from jiedao.cases.models import Case, CasePhoto
from jiedao.org.services import create_token
from jiedao.participation import services as participation
from jiedao.participation.models import Proposal
from tests.factories import PASSWORD
from tests.uploads import OUR_NAME, bomb_png, page_gif, png_bytes, script_gif, truncated_jpeg, upload

pytestmark = pytest.mark.django_db

PORTAL = {
    "description": "小区门口井盖松动，晚上有人差点摔倒",
    "reporter_phone": "13712345678",
    "lat": "39.905",
    "lng": "116.405",
}


@pytest.fixture(autouse=True)
def _chinese(in_chinese):
    """Messages are checked in Chinese."""


def bearer(user):
    """The Authorization header of a fresh API token of ``user``."""
    plain, _token = create_token(user.username, password=PASSWORD)
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def api_post(client, user, path, body):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json", **bearer(user))


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def same_page(response, name):
    """The page without what differs by request: its own path and the CSRF tokens."""
    return re.sub(r"[A-Za-z0-9]{64}", "", response.content.decode().replace(name, ""))


def assert_stored_as_plain_image(name):
    """A random name of ours with an image extension, and a file that holds pixels only."""
    assert OUR_NAME.match(name), name
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    assert b"script" not in data and b"pwned" not in data
    assert data.startswith(b"\x89PNG")  # a GIF is written again as a PNG


def assert_served_as_image(response, name):
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert response["Content-Disposition"] == f'inline; filename="{name.rsplit("/", 1)[-1]}"'
    assert b"script" not in body_of(response)


def portal_attack(client):
    """The attacker's two uploads through the resident portal: the script, then the page that loads it."""
    client.post(reverse("web:portal"), {**PORTAL, "photos": [upload(script_gif(), "x.js", "text/javascript")]})
    script_url = CasePhoto.objects.get().image.url
    client.post(reverse("web:portal"), {**PORTAL, "photos": [upload(page_gif(script_url), "x.html", "text/html")]})
    return [photo.image.name for photo in CasePhoto.objects.order_by("pk")]


def test_a_script_gif_and_a_page_gif_sent_through_the_portal_are_stored_and_served_as_plain_images(
    client, street, login
):
    names = portal_attack(client)
    assert len(names) == 2 and Case.objects.count() == 2
    for name in names:
        assert_stored_as_plain_image(name)
    dispatcher = login(street.users.dispatcher)
    for name in names:
        response = dispatcher.get(f"/media/{name}")
        assert_served_as_image(response, name)
        assert response["Cache-Control"] == "private, no-store"


def test_the_staff_intake_form_and_the_resolve_form_store_the_same_uploads_as_plain_images(street, login):
    operator = login(street.users.operator)
    response = operator.post(
        reverse("cases:intake"),
        {
            "channel": "12345",
            "reporter_name": "张先生",
            "reporter_phone": "010-62345678",
            "description": "街口路灯连续三晚不亮",
            "cat1": "01",
            "cat2": "0101",
            "cat3": "010102",
            "grid": "1101050010201",
            "dispatch": "on",
            "photos": [upload(script_gif(), "x.js", "text/javascript"), upload(page_gif("/media/x.js"), "x.html")],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    handler = login(street.users.handler)
    assert handler.post(reverse("cases:action", args=[case.number, "respond"]), {}).status_code == 302
    response = handler.post(
        reverse("cases:action", args=[case.number, "resolve"]),
        {"result": "已更换灯泡", "photos": [upload(page_gif("/media/x.js"), "x.html", "text/html")]},
    )
    assert response.status_code == 302
    photos = list(case.photos.order_by("pk"))
    assert [p.kind for p in photos] == ["intake", "intake", "result"]
    leader = login(street.users.leader)
    for photo in photos:
        assert_stored_as_plain_image(photo.image.name)
        assert_served_as_image(leader.get(photo.image.url), photo.image.name)


def test_a_proposal_photo_named_html_is_a_plain_image_public_while_the_proposal_is(client, street, login):
    resident = street.users.resident
    participation.join_community(resident, user=resident, community=street.communities[0])
    response = login(resident).post(
        reverse("participation:propose"),
        {
            "title": "增加座椅",
            "body": "广场上加几张座椅",
            "photo": upload(page_gif("/media/x.js"), "x.html", "text/html"),
        },
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.photo.name.startswith("participation/")
    assert_stored_as_plain_image(proposal.photo.name)

    client.logout()
    response = client.get(proposal.photo.url)
    assert_served_as_image(response, proposal.photo.name)
    assert response["Cache-Control"] == "public, max-age=3600"  # as public as the proposal page

    participation.withdraw(resident, proposal_id=proposal.pk, reason="已解决")
    assert client.get(reverse("participation:proposal", args=[proposal.pk])).status_code == 404
    assert client.get(proposal.photo.url).status_code == 404


def test_photos_sent_to_the_api_are_stored_and_served_as_plain_images(street, client):
    html = "data:text/html;base64," + base64.b64encode(page_gif("/media/x.js")).decode()
    response = api_post(
        client,
        street.users.operator,
        "/cases",
        {
            "channel": "12345",
            "description": "路灯坏了",
            "reporter_phone": "13800138000",
            "lat": 39.905,
            "lng": 116.405,
            "photos": [base64.b64encode(script_gif()).decode(), html],
        },
    )
    assert response.status_code == 201
    urls = [p["url"] for p in response.json()["photos"]]
    assert len(urls) == 2
    for url in urls:
        name = url.removeprefix("/media/")
        assert_stored_as_plain_image(name)
        assert_served_as_image(client.get(url, **bearer(street.users.leader)), name)  # an API token fetches it
        assert client.get(url).status_code == 404  # without it: not found


def test_the_media_path_cannot_walk_from_the_public_folder_to_a_case_photo(client, street, login):
    case, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description="楼道门坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
        photos=[upload(png_bytes(), "door.png", "image/png")],
    )
    name = CasePhoto.objects.get(case=case).image.name  # cases/2026/12/<hex>.png
    rest = name.removeprefix("cases/")
    root = str(default_storage.location)
    walks = [
        f"/media/participation/..%2f{name}",
        f"/media/participation/..%2fcases/{rest}",
        f"/media/participation/../{name}",
        f"/media/participation/..%5c{name}",
        f"/media/participation/..%5ccases%5c{rest.replace('/', '%5c')}",
        f"/media/participation/..%252f{name}",
        f"/media/participation/%2e%2e/{name}",
        f"/media/participation/%252e%252e%252f{name}",
        f"/media/{root}/{name}",
        f"/media/%2f{root.lstrip('/')}/{name}",
        f"/media/./{name}",
        f"/media/cases//{rest}",
        f"/media/{name}/",
        f"/media/{name.upper()}",
        "/media/participation/2026/12/anything.png",
        "/media/cases/../../keys/field.keys",
    ]
    for who in (None, street.users.resident_other, street.users.dispatcher):
        if who is None:
            client.logout()
        else:
            login(who)
        for url in walks:
            assert client.get(url).status_code == 404, (who, url)

    # The photo itself follows the case's scoping, and "not yours" looks like "missing".
    client.logout()
    assert client.get(f"/media/{name}").status_code == 404
    login(street.users.resident_other)
    missing_name = f"cases/{rest[:8]}{'0' * 32}.png"
    not_yours, missing = client.get(f"/media/{name}"), client.get(f"/media/{missing_name}")
    assert not_yours.status_code == missing.status_code == 404
    assert same_page(not_yours, name) == same_page(missing, missing_name)
    login(street.users.handler_housing)
    assert client.get(f"/media/{name}").status_code == 404
    for who in (street.users.resident, street.users.dispatcher, street.users.leader):
        login(who)
        assert client.get(f"/media/{name}").status_code == 200


def test_a_file_stored_by_an_earlier_version_under_a_page_name_is_only_a_download(street, login):
    """Until the upgrade rewrites it, a file kept under the client's name is never shown as a page."""
    case, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description="楼道门坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
    )
    for old in ("cases/2025/03/x.html", "cases/2025/03/x.gif"):
        stored = default_storage.save(old, ContentFile(page_gif("/media/cases/2025/03/x.js")))
        CasePhoto.objects.create(case=case, kind="intake", image=stored)
    client = login(street.users.leader)
    page = client.get("/media/cases/2025/03/x.html")
    assert page.status_code == 200 and page["Content-Type"] == "application/octet-stream"
    assert page["Content-Disposition"] == 'attachment; filename="x.html"'
    assert page["X-Content-Type-Options"] == "nosniff" and "sandbox" in page["Content-Security-Policy"]
    gif = client.get("/media/cases/2025/03/x.gif")
    assert gif["Content-Type"] == "image/gif" and gif["Content-Disposition"].startswith("inline")
    assert "sandbox" in gif["Content-Security-Policy"]


@pytest.mark.parametrize(
    "data, rule",
    [
        pytest.param(bomb_png(8000, 8000), "像素过多", id="64 megapixels"),
        pytest.param(bomb_png(100_000, 100_000), "像素过多", id="10 gigapixels"),
        pytest.param(truncated_jpeg(), "已损坏或不完整", id="cut-off jpeg"),
    ],
)
def test_a_decompression_bomb_or_a_cut_off_image_is_a_field_error(client, street, data, rule):
    response = client.post(reverse("web:portal"), {**PORTAL, "photos": [upload(data, "photo.png", "image/png")]})
    assert response.status_code == 422
    assert rule in response.context["form"].errors["photos"][0]
    refused = api_post(
        client,
        street.users.operator,
        "/cases",
        {
            "channel": "12345",
            "description": "路灯坏了",
            "reporter_phone": "13800138000",
            "photos": [base64.b64encode(data).decode()],
        },
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["photos"]
    assert rule in refused.json()["errors"][0]["message"]
    assert not Case.objects.exists() and not CasePhoto.objects.exists()


@pytest.fixture
def app_server(live_server):
    """The application served as in production, /media/ included: Django's own live server
    answers /media/ straight from the folder, before the application sees the request. This one
    runs beside it, on the same test database."""
    thread = LiveServerThread(
        "localhost",
        lambda media_folder: StaticFilesHandler(media_folder.application),
        connections_override=live_server.thread.connections_override,
    )
    thread.daemon = True
    for connection in thread.connections_override.values():
        connection.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        yield f"http://localhost:{thread.port}"
    finally:
        thread.terminate()
        for connection in thread.connections_override.values():
            connection.dec_thread_sharing()


@pytest.mark.browser
def test_a_leader_opening_the_uploaded_page_photo_runs_no_script(app_server, street, browser):
    """The attack end to end in a real Chromium signed in as the leader: the uploaded
    "page" photo (and a page-named file of an earlier version) is opened, and the script it
    points to never runs: the title stays, /api/v1/me is never asked for."""
    resident = street.users.resident
    case, _ = services.submit_case(
        resident,
        channel="portal",
        description="楼道门坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
        photos=[upload(script_gif(), "x.js", "text/javascript")],
    )
    script_url = CasePhoto.objects.get(case=case).image.url
    services.submit_case(
        resident,
        channel="portal",
        description="楼道灯坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
        photos=[upload(page_gif(script_url), "x.html", "text/html")],
    )
    page_url = CasePhoto.objects.order_by("-pk").first().image.url
    # As an earlier version stored them: the client's bytes under the client's names.
    default_storage.save("cases/2025/03/x.js", ContentFile(script_gif()))
    default_storage.save("cases/2025/03/x.html", ContentFile(page_gif("/media/cases/2025/03/x.js")))
    for old in ("cases/2025/03/x.js", "cases/2025/03/x.html"):
        CasePhoto.objects.create(case=case, kind="intake", image=old)

    from playwright.sync_api import Error

    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(15000)
    page = context.new_page()
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    base = app_server
    page.goto(f"{base}/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url

    answer = page.goto(f"{base}{page_url}")
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    assert "sandbox" in answer.headers["content-security-policy"]  # answered by the application
    page.wait_for_timeout(500)
    assert page.title() != "pwned"

    with page.expect_download() as download:
        try:
            page.goto(f"{base}/media/cases/2025/03/x.html")
        except Error:
            pass  # Chromium reports a navigation that became a download as an aborted one
    assert download.value.suggested_filename == "x.html"
    page.wait_for_timeout(500)
    assert page.title() != "pwned"
    assert not [url for url in asked if "/api/v1/me" in url or (url.endswith(".js") and "/media/" in url)], asked
    context.close()
