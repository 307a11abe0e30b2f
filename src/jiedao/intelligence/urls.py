from django.urls import path

from . import views

app_name = "intelligence"
urlpatterns = [
    path("intelligence/suggest/", views.suggest, name="suggest"),
    path("intelligence/portal-suggest/", views.portal_suggest, name="portal_suggest"),
    path("intelligence/models/", views.models_page, name="models"),
    path("intelligence/models/action/", views.models_action, name="models_action"),
    path("intelligence/hot/", views.hot_list, name="hot"),
    path("intelligence/hot/<str:key>/", views.hot_issue, name="hot_issue"),
    path("intelligence/replies/<int:check_id>/override/", views.reply_override, name="reply_override"),
]
