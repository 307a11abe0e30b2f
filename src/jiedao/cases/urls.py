from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("cases/intake/", views.intake, name="intake"),
    path("cases/grid-report/", views.grid_report, name="grid_report"),
    path("cases/categories/", views.category_picker, name="category_picker"),
    path("cases/desk/", views.desk, name="desk"),
    path("cases/desk/callback/", views.desk_callback, name="desk_callback"),
    path("cases/desk/caller/", views.desk_caller, name="desk_caller"),
    path("cases/dispatch/", views.dispatch_queue, name="dispatch"),
    path("cases/dispatch/classify/", views.dispatch_bulk_classify, name="dispatch_bulk_classify"),
    path("cases/dispatch/send/", views.dispatch_bulk_dispatch, name="dispatch_bulk_dispatch"),
    path("cases/workbench/", views.workbench, name="workbench"),
    path("cases/overview/", views.overview, name="overview"),
    path("cases/<str:number>/", views.case_detail, name="case"),
    path("cases/<str:number>/actions/<str:action>/", views.case_action, name="action"),
    path("cases/<str:number>/reply-check/", views.reply_check, name="reply_check"),
]
