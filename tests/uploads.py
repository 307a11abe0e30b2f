"""Files an attacker uploads as photos: a GIF that is also a script, a GIF that is also a page
loading that script, images that would fill the memory, cut-off images; and the names under
which Jiedao stores photos."""

import io
import random
import re
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

# What the script does when it runs: the page's title changes and the signed-in user's own
# data is fetched, as in the attack on a leader's browser.
SCRIPT = "document.title='pwned';fetch('/api/v1/me?stolen=1');"
OUR_NAME = re.compile(r"^(cases|participation)/\d{4}/\d{2}/[0-9a-f]{32}\.(png|jpg|webp)$")


def script_gif(script=SCRIPT):
    """A valid GIF that is also valid JavaScript: the logical screen width is the two bytes
    ``/*``, which open a comment that the bytes after the GIF's trailer close, so that the file
    reads as ``GIF89a/* … */=1;<script>//``."""
    header = b"GIF89a" + b"/*" + struct.pack("<H", 10) + b"\x80\x00\x00"  # a global palette of 2 colours
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b"," + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00"
    data = header + palette + image + b";"
    assert b"*/" not in data
    return data + b"*/=1;" + script.encode() + b"//"


def page_gif(script_url):
    """A valid GIF whose trailing bytes are a page that loads ``script_url``."""
    buffer = io.BytesIO()
    Image.new("P", (4, 4), 1).save(buffer, "GIF")
    return buffer.getvalue() + f"<html><script src={script_url}></script></html>".encode()


def upload(data, name, content_type="image/gif"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_bytes(size=(8, 8), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def bomb_png(width, height):
    """A PNG of a few hundred bytes that claims ``width``×``height`` pixels (one bit each): its
    pixels, once decoded, would fill the memory."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def truncated_jpeg():
    """The first half of a JPEG photo of noise: the header is fine, the pixels stop halfway."""
    rng = random.Random(7)
    image = Image.frombytes("RGB", (256, 256), bytes(rng.randrange(256) for _ in range(256 * 256 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    return data[: len(data) // 2]
