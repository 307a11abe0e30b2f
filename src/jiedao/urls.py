from django.contrib import admin
from django.urls import include, path

from jiedao.api import api
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
    path("", include("jiedao.evaluation.urls")),
    path("", include("jiedao.common.urls")),
    path("", include("jiedao.ops.urls")),
    path("", include("jiedao.messaging.urls")),
    path("", include("jiedao.web.urls")),
    path("media/<path:path>", media, name="media"),
]
