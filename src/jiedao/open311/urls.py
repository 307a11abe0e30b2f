from django.urls import path, re_path

from . import views

app_name = "open311"
FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"
urlpatterns = [
    re_path(r"^open311/discovery" + FMT, views.discovery, name="discovery"),
    path("open311/v2/", views.root, name="root"),
    re_path(r"^open311/v2/services" + FMT, views.service_list, name="services"),
    re_path(r"^open311/v2/services/(?P<code>[^/]+?)" + FMT, views.service_definition, name="service"),
    re_path(r"^open311/v2/requests" + FMT, views.request_list, name="requests"),
    re_path(r"^open311/v2/requests/(?P<number>[^/]+?)" + FMT, views.request_detail, name="request"),
    re_path(r"^open311/v2/tokens/(?P<token>[^/]+?)" + FMT, views.token_detail, name="token"),
    re_path(r"^open311/v2/servicerequestupdates" + FMT, views.request_updates, name="updates"),
    path("exports/cases/", views.export_page, name="export"),
    path("open311/webhooks/", views.webhook_page, name="webhooks"),
]
