from django.urls import path

from . import views

app_name = "emergency"
urlpatterns = [
    path("emergency/", views.board, name="board"),
    path("emergency/map.json", views.map_data, name="map_data"),
    path("emergency/supplies/", views.supplies, name="supplies"),
    path("emergency/drills/", views.drills, name="drills"),
    path("emergency/devices/", views.devices, name="devices"),
    path("emergency/alerts/<int:alert_id>/decide/", views.decide, name="decide"),
    path("emergency/checks/<int:check_id>/", views.record_check, name="record_check"),
    path("emergency/calls/<int:call_id>/delivered/", views.delivered, name="delivered"),
    path("emergency/duty/", views.roster, name="roster"),
    path("emergency/duty/<int:shift_id>/remove/", views.remove_shift, name="remove_shift"),
    path("emergency/<str:number>/", views.detail, name="detail"),
    path("emergency/<str:number>/live/", views.live, name="live"),
    path("emergency/<str:number>/ack/", views.ack, name="ack"),
    path("emergency/<str:number>/act/", views.act, name="act"),
    path("emergency/<str:number>/note/", views.note, name="note"),
    path("emergency/<str:number>/flag/", views.flag, name="flag"),
    path("emergency/<str:number>/calloff/", views.calloff, name="calloff"),
    path("emergency/<str:number>/checks/", views.checks, name="checks"),
]
