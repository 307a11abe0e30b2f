from django.contrib import admin
from django.urls import include, path

from jiedao.api import api
from jiedao.open311 import views as open311_views
from jiedao.web.media import media

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("jiedao.cases.urls")),
    path("", include("jiedao.geo.urls")),
    path("", include("jiedao.registry.urls")),
    path("", include("jiedao.open311.urls")),
    path("", include("jiedao.duties.urls")),
    path("", include("jiedao.hall.urls")),
    path("", include("jiedao.emergency.urls")),
    path("", include("jiedao.participation.urls")),
    path("", include("jiedao.intelligence.urls")),
    path("", include("jiedao.knowledge.urls")),
    path("", include("jiedao.evaluation.urls")),
    path("", include("jiedao.common.urls")),
    path("", include("jiedao.ops.urls")),
    path("", include("jiedao.messaging.urls")),
    path("", include("jiedao.web.urls")),
    path("media/<path:path>", media, name="media"),
]

# The site's own error pages, except under /open311/, where an error answers in the Open311
# standard's error list even when it happens before a view runs (jiedao.open311.views).
handler400 = open311_views.bad_request
handler403 = open311_views.permission_denied
handler404 = open311_views.page_not_found
handler500 = open311_views.server_error
