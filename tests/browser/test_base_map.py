"""The maps with no tile server, in a real headless Chromium: the street's own base map — its
roads with their names, its communities and places — is drawn under the grids, on the map page
and on the cockpit's heat map, and the pages ask no host but this site."""

from urllib.parse import urlsplit

import pytest

from jiedao.demo import builder
from tests.browsing import ARTIFACTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

# The demo's roads laid out over the test street: two in each community and the main road
# along their border.
ROADS = 5


def sign_in(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def centre(box):
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def on_a_road(point, road_boxes, slack=4):
    x, y = point
    return any(
        b["x"] - slack <= x <= b["x"] + b["width"] + slack and b["y"] - slack <= y <= b["y"] + b["height"] + slack
        for b in road_boxes
    )


def test_the_maps_draw_the_street_roads_and_names_without_the_internet(live_server, street, browser, settings):
    from playwright.sync_api import expect

    settings.JIEDAO = dict(settings.JIEDAO, MAP_TILE_URL="")
    builder.build_base_map(street.street)
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    context.set_default_timeout(15000)
    page = context.new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, base, "leader")

    page.goto(f"{base}/map/")
    box = page.locator("#map")
    expect(box).to_have_attribute("data-base-map-roads", str(ROADS))
    expect(box).to_have_attribute("data-grids-loaded", "4")
    # Each road is an SVG line (a grey casing and the road on it) in the base map's own pane,
    # under the grids.
    roads = page.locator(".leaflet-pane svg path.basemap-road")
    expect(roads).to_have_count(ROADS)
    expect(page.locator(".leaflet-pane svg path.basemap-road-casing")).to_have_count(ROADS)
    z = page.evaluate(
        "() => [getComputedStyle(document.querySelector('.leaflet-basemap-pane')).zIndex,"
        " getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex]"
    )
    assert int(z[0]) < int(z[1])

    # The names: every road's, each on its road, upright for the roads running south–north.
    names = ("东湖路", "光华东街", "西园路", "景明街", "朝阳北路")
    labels = {name: page.locator(".basemap-road-label", has_text=name).locator("span") for name in names}
    for label in labels.values():
        expect(label).to_be_visible()

    def off_their_road():
        # Measured together, once the map has stopped moving (a busy machine may still be
        # finishing the map's zoom to the street when the names first show).
        road_boxes = [roads.nth(i).bounding_box() for i in range(ROADS)]
        return [name for name, label in labels.items() if not on_a_road(centre(label.bounding_box()), road_boxes)]

    for _attempt in range(20):
        off = off_their_road()
        if not off:
            break
        page.wait_for_timeout(250)
    assert off == []
    upright = page.locator(".basemap-road-label", has_text="光华东街").locator("span")
    assert upright.evaluate("e => getComputedStyle(e).writingMode") == "vertical-rl"
    expect(page.locator(".basemap-community-label", has_text="东湖社区").locator("span")).to_be_visible()
    expect(page.locator(".basemap-place-committee", has_text="东湖社区居委会").locator("span")).to_be_visible()
    expect(page.locator("[data-base-map-legend]")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "base-map.png"))

    # The cockpit's heat map draws the same base map.
    page.goto(f"{base}/cockpit/")
    heat_box = page.locator("[data-map]")
    expect(heat_box).to_have_attribute("data-base-map-roads", str(ROADS))
    expect(heat_box.locator("path.basemap-road")).to_have_count(ROADS)

    assert any(urlsplit(url).path == "/map/base.geojson" for url in requested)
    here = urlsplit(base).netloc
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != here
    ]
    assert elsewhere == []
    context.close()
