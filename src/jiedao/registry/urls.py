from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("registry/", views.person_list, name="persons"),
    path("registry/persons/<int:pk>/", views.person_detail, name="person"),
    path("registry/persons/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("registry/persons/<int:pk>/tags/", views.person_tags, name="person_tags"),
    path("registry/households/<int:pk>/", views.household_detail, name="household"),
    path("registry/import/", views.import_page, name="import"),
    path("registry/import/<int:pk>/", views.import_run, name="import_run"),
    path("registry/templates/<str:kind>.xlsx", views.template_download, name="template"),
    path("registry/conflicts/", views.conflicts, name="conflicts"),
    path("registry/conflicts/<int:pk>/decide/", views.decide_conflict, name="decide"),
    path("registry/assistance/", views.assistance, name="assistance"),
    path("registry/assistance.xlsx", views.assistance_export, name="assistance_export"),
    path("registry/visits/new/", views.visit_new, name="visit"),
]
