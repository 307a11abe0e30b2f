from django.urls import path

from . import views

app_name = "participation"
urlpatterns = [
    path("participation/", views.home, name="home"),
    path("participation/propose/", views.propose, name="propose"),
    path("participation/similar/", views.similar, name="similar"),
    path("participation/proposals/<int:pk>/", views.proposal, name="proposal"),
    path("participation/meetings/", views.meetings, name="meetings"),
    path("participation/vote/", views.vote, name="vote"),
    path("participation/surveys/<int:pk>/", views.survey, name="survey"),
    path("participation/volunteer/", views.volunteer, name="volunteer"),
    path("participation/points/", views.points, name="points"),
    path("participation/decisions/", views.decisions, name="decisions"),
    path("participation/desk/", views.desk, name="desk"),
    path("participation/desk/meetings/<int:pk>/", views.meeting, name="meeting"),
    path("participation/desk/actions/<int:pk>/", views.action_progress, name="action_progress"),
    path("participation/desk/projects/", views.projects_desk, name="projects_desk"),
    path("participation/desk/points/", views.points_desk, name="points_desk"),
]
