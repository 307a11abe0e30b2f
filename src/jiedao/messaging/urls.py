from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
]
urlpatterns += [
    path("ops/messages/", views.outbox, name="outbox"),
    path("ops/messages/<int:pk>/resend/", views.resend, name="resend"),
]
