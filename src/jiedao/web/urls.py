from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/2fa/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("login/2fa/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("logout/", views.logout_view, name="logout"),
    path("account/tokens/", views.api_tokens, name="api_tokens"),
    path("elderly/", views.elderly, name="elderly"),
    path("portal/", views.portal, name="portal"),
    path("portal/submitted/", views.portal_done, name="portal_done"),
    path("portal/track/", views.track, name="track"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
