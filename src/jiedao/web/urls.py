from django.http import HttpResponse
from django.urls import path

app_name = "web"
urlpatterns = [
    path("", lambda request: HttpResponse("Jiedao"), name="home"),
    path("login/", lambda request: HttpResponse("login"), name="login"),
]
