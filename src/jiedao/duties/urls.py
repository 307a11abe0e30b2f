from django.urls import path

from . import views

app_name = "duties"
urlpatterns = [
    path("duties/", views.public_list, name="public"),
    path("duties/stats/", views.stats, name="stats"),
    path("duties/export.xlsx", views.export, name="export"),
    path("duties/import/", views.import_list, name="import"),
    path("duties/<str:code>/", views.detail, name="detail"),
]
