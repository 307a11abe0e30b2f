"""What is stored of an uploaded photo: the pixels, upright, and nothing else; and photos that
earlier versions kept under the client's file name are rewritten at the upgrade."""

import importlib
import io
import logging

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageCms

from jiedao.cases import services
from jiedao.cases.models import CasePhoto
from jiedao.common.errors import FieldErrors
from jiedao.common.images import accept_photos
from jiedao.participation import services as participation
from jiedao.participation.models import Proposal
from tests.uploads import OUR_NAME, page_gif, png_bytes, script_gif, upload

pytestmark = pytest.mark.django_db

GPS = 0x8825
ORIENTATION = 0x0112
DESCRIPTION = 0x010E


def accepted(data, name="photo.jpg"):
    errors = FieldErrors()
    files = accept_photos(errors, "photos", [upload(data, name, "image/jpeg")])
    assert not errors, errors.errors
    (stored,) = files
    return stored.name, stored.read()


@pytest.mark.parametrize("kind, extension", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_a_phone_photo_loses_its_gps_position_and_is_turned_upright(kind, extension):
    image = Image.new("RGB", (60, 20), (0, 90, 200))
    exif = image.getexif()
    exif[ORIENTATION] = 6  # the camera was held on its side: show it turned by 90°
    exif[GPS] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)}
    exif[DESCRIPTION] = "home of Wang"
    buffer = io.BytesIO()
    image.save(buffer, kind, exif=exif.tobytes())
    assert b"home of Wang" in buffer.getvalue()
    name, data = accepted(buffer.getvalue(), f"IMG_0001.{extension}")
    stored = Image.open(io.BytesIO(data))
    assert name.endswith(f".{extension}") and stored.format == kind
    assert stored.size == (20, 60)
    assert not stored.getexif() and b"Exif" not in data and b"home of Wang" not in data


def test_a_colour_profile_is_applied_to_the_pixels_and_not_kept():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buffer, "PNG", icc_profile=srgb)
    _name, data = accepted(buffer.getvalue(), "p.png")
    stored = Image.open(io.BytesIO(data))
    assert "icc_profile" not in stored.info and stored.getpixel((0, 0)) == (10, 200, 30)


def test_an_animated_gif_keeps_its_first_frame_as_a_png():
    frames = [Image.new("P", (10, 10), colour) for colour in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], comment=b"hello")
    name, data = accepted(buffer.getvalue(), "a.gif")
    stored = Image.open(io.BytesIO(data))
    assert name.endswith(".png") and stored.format == "PNG" and getattr(stored, "n_frames", 1) == 1
    assert b"hello" not in data


@pytest.mark.parametrize("kind, extension", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("GIF", "png")])
def test_each_accepted_format_is_written_again_in_its_own_family(kind, extension):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 40, 40)).save(buffer, kind)
    name, data = accepted(buffer.getvalue() + b"<script>alert(1)</script>", f"photo.{extension}.html")
    assert name == f"photo.{extension}" and b"script" not in data


@pytest.mark.parametrize("kind", ["BMP", "TIFF", "ICO", "PDF"])
def test_other_formats_are_refused_with_the_field_named(kind):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, kind)
    errors = FieldErrors()
    assert accept_photos(errors, "photos", [upload(buffer.getvalue(), f"x.{kind.lower()}")]) == []
    assert errors.errors[0]["field"] == "photos" and "不是图片" in errors.errors[0]["message"]


def test_a_stored_photo_gets_a_random_name_with_the_extension_of_what_was_written(street):
    case, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description="楼道门坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
        photos=[upload(png_bytes(), "../../我家门口.html", "text/html")] * 2,
    )
    names = [photo.image.name for photo in CasePhoto.objects.filter(case=case)]
    assert len(set(names)) == 2 and all(OUR_NAME.match(name) and name.endswith(".png") for name in names)


def migration(app, name):
    return importlib.import_module(f"jiedao.{app}.migrations.{name}").reencode_photos


def test_the_upgrade_rewrites_photos_stored_under_client_names_and_drops_what_is_not_an_image(
    street, caplog, django_capture_on_commit_callbacks
):
    case, _ = services.submit_case(
        street.users.resident,
        channel="portal",
        description="楼道门坏了",
        lat=39.905,
        lng=116.405,
        reporter_phone="13800138000",
        photos=[upload(png_bytes(), "door.png", "image/png")],
    )
    ours = CasePhoto.objects.get(case=case)
    # As an earlier version stored them: the client's bytes under the client's names.
    polyglot = default_storage.save("cases/2025/03/x.html", ContentFile(page_gif("/media/cases/2025/03/x.js")))
    script = default_storage.save("cases/2025/03/x.js", ContentFile(script_gif()))
    text = default_storage.save("cases/2025/03/note.png", ContentFile(b"not a picture any more"))
    rows = {old: CasePhoto.objects.create(case=case, kind="intake", image=old) for old in (polyglot, script, text)}
    gone = CasePhoto.objects.create(case=case, kind="intake", image="cases/2025/03/lost.png")  # not on the disk

    with caplog.at_level(logging.INFO, logger="jiedao.images"), django_capture_on_commit_callbacks(execute=True):
        migration("cases", "0009_reencode_stored_photos")(apps, None)

    for old in (polyglot, script):
        new = CasePhoto.objects.get(pk=rows[old].pk).image.name
        assert new.startswith("cases/2025/03/") and OUR_NAME.match(new) and new.endswith(".png")
        with default_storage.open(new, "rb") as handle:
            data = handle.read()
        assert data.startswith(b"\x89PNG") and b"script" not in data and b"pwned" not in data
        assert not default_storage.exists(old)
    assert not CasePhoto.objects.filter(pk=rows[text].pk).exists() and not default_storage.exists(text)
    assert "cases/2025/03/note.png" in caplog.text and "not an image" in caplog.text
    assert CasePhoto.objects.get(pk=gone.pk).image.name == "cases/2025/03/lost.png"
    assert "missing" in caplog.text
    assert CasePhoto.objects.get(pk=ours.pk).image.name == ours.image.name  # already ours: untouched


def test_the_upgrade_rewrites_proposal_photos_and_clears_one_that_is_not_an_image(
    street, django_capture_on_commit_callbacks
):
    resident = street.users.resident
    participation.join_community(resident, user=resident, community=street.communities[0])
    first = participation.propose(resident, title="增加座椅", body="广场上加几张座椅")
    second = participation.propose(resident, title="修路灯", body="北门路灯不亮")
    Proposal.objects.filter(pk=first.pk).update(
        photo=default_storage.save("participation/2025/04/x.html", ContentFile(page_gif("/x.js")))
    )
    Proposal.objects.filter(pk=second.pk).update(
        photo=default_storage.save("participation/2025/04/x.js", ContentFile(b"alert(1)"))
    )

    with django_capture_on_commit_callbacks(execute=True):
        migration("participation", "0004_reencode_stored_photos")(apps, None)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.photo.name.startswith("participation/2025/04/") and OUR_NAME.match(first.photo.name)
    assert second.photo.name == "" and Proposal.objects.count() == 2
    assert not default_storage.exists("participation/2025/04/x.html")
    assert not default_storage.exists("participation/2025/04/x.js")
