"""``{% base_map_config %}``: what a page's map draws under its layers, for the ``data-base-map``
attribute of the map's box (read by ``geo/basemap.js``). With a tile server set
(``JIEDAO["MAP_TILE_URL"]``) its tiles and their attribution; otherwise the street's own base
map (底图) from ``geo:base_map``."""

import json

from django import template
from django.conf import settings
from django.urls import reverse

from jiedao.geo.selectors import may_see_map

register = template.Library()


@register.simple_tag(takes_context=True)
def base_map_config(context, dark=False):
    """JSON for ``data-base-map``: ``tiles`` and ``attribution``, or ``url`` of the base map;
    ``dark`` for a dark page (the large screen). Empty for somebody who may not see the map."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not may_see_map(user):
        return ""
    tiles = settings.JIEDAO.get("MAP_TILE_URL", "")
    return json.dumps(
        {
            "tiles": tiles,
            "attribution": settings.JIEDAO.get("MAP_TILE_ATTRIBUTION", "") if tiles else "",
            "url": "" if tiles else reverse("geo:base_map"),
            "dark": bool(dark),
        },
        ensure_ascii=False,
    )
