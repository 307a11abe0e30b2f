from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("evaluation/", views.library, name="library"),
    path("evaluation/indicators/<str:code>/", views.indicator, name="indicator"),
    path("evaluation/rankings/", views.rankings, name="rankings"),
    path("evaluation/streets/", views.street_ranking, name="streets"),
    path("evaluation/warnings/", views.warnings, name="warnings"),
    path("evaluation/rectifications/<str:number>/", views.rectification, name="rectification"),
    path("evaluation/innovation/", views.evidence, name="evidence"),
    path("evaluation/report/", views.report_view, name="report"),
    path("evaluation/records/", views.records, name="records"),
    path("evaluation/assessments/", views.assessments, name="assessments"),
    path("cockpit/", views.cockpit, name="cockpit"),
    path("cockpit/screen/", views.screen, name="screen"),
]
