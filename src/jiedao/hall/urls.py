from django.urls import path

from . import views

app_name = "hall"
urlpatterns = [
    path("hall/", views.guide, name="guide"),
    path("hall/items.xlsx", views.export_catalogue, name="export"),
    path("hall/import/", views.import_catalogue, name="import"),
    path("hall/items/<str:code>/", views.item_detail, name="item"),
    path("hall/items/<str:code>/notice.pdf", views.item_notice, name="notice"),
    path("hall/items/<str:code>/apply/", views.apply_online, name="apply"),
    path("hall/items/<str:code>/book/", views.book, name="book"),
    path("hall/ticket/", views.take_ticket, name="ticket"),
    path("hall/screen/", views.calling_screen, name="screen"),
    path("hall/window/", views.window, name="window"),
    path("hall/window/accept/<str:code>/", views.accept_form, name="accept"),
    path("hall/applications/<str:number>/", views.application, name="application"),
    path("hall/mine/", views.my_applications, name="mine"),
    path("hall/approvals/", views.approvals, name="approvals"),
    path("hall/rectifications/", views.rectifications, name="rectifications"),
    path("hall/measures/", views.measures_page, name="measures"),
]
