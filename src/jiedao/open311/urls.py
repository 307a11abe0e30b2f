from django.urls import path, re_path

from . import views

app_name = "open311"
# The format is whatever follows the last dot of the path (``services.xml``); the view answers
# one it does not support in the standard's error list, like every other refusal.
FMT = r"\.(?P<fmt>[^./]*)$"
# Clients that append ``/services.xml`` to an endpoint URL ending in a slash send
# ``/open311/v2//services.xml``: one or more slashes after ``v2`` are the same.
V2 = r"^open311/v2/+"
urlpatterns = [
    re_path(r"^open311/discovery" + FMT, views.discovery, name="discovery"),
    path("open311/v2/", views.root, name="root"),
    re_path(r"^open311/v2/*$", views.root),
    re_path(V2 + r"services" + FMT, views.service_list, name="services"),
    re_path(V2 + r"services/(?P<code>[^/]+?)" + FMT, views.service_definition, name="service"),
    re_path(V2 + r"requests" + FMT, views.request_list, name="requests"),
    re_path(V2 + r"requests/(?P<number>[^/]+?)" + FMT, views.request_detail, name="request"),
    re_path(V2 + r"tokens/(?P<token>[^/]+?)" + FMT, views.token_detail, name="token"),
    re_path(V2 + r"servicerequestupdates" + FMT, views.request_updates, name="updates"),
    path("exports/cases/", views.export_page, name="export"),
    path("open311/webhooks/", views.webhook_page, name="webhooks"),
    path("open311/upstreams/", views.upstream_page, name="upstreams"),
    # Everything else under /open311/ (but the staff pages above, with or without their slash)
    # is an unknown method, answered in the standard's error list.
    re_path(r"^open311/(?!(?:webhooks|upstreams)/?$)", views.no_such_method),
]
