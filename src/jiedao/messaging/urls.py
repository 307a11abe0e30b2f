from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/channels/", views.channel_settings, name="channel_settings"),
    path("m/t/<str:code>/", views.unsubscribe, name="unsubscribe"),
    path("messaging/receipts/<str:channel>/<str:token>/", views.delivery_report, name="delivery_report"),
]
urlpatterns += [
    path("ops/messages/", views.outbox, name="outbox"),
    path("ops/messages/<int:pk>/resend/", views.resend, name="resend"),
    path("ops/messages/opt-out/", views.opt_out, name="opt_out"),
    path("ops/messages/templates/", views.templates, name="templates"),
    path("ops/messages/templates/<str:kind>/", views.template_edit, name="template_edit"),
]
