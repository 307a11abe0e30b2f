from django.urls import path

from . import views

app_name = "common"

urlpatterns = [
    path("audit/access-log/", views.access_log, name="access_log"),
    path("audit/access-log/export.xlsx", views.access_log_export, name="access_log_export"),
]
