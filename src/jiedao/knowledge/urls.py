from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("knowledge/", views.article_list, name="list"),
    path("knowledge/new/", views.article_new, name="new"),
    path("knowledge/suggest/", views.suggest, name="suggest"),
    path("knowledge/<int:article_id>/", views.article_detail, name="article"),
    path("knowledge/<int:article_id>/edit/", views.article_edit, name="edit"),
]
