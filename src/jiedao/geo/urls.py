from django.urls import path

from . import views

app_name = "geo"
urlpatterns = [
    path("map/", views.map_view, name="map"),
    path("map/base.geojson", views.base_map, name="base_map"),
    path("grids/", views.grid_list, name="grids"),
    path("grids/measures/", views.measures_view, name="measures"),
    path("grids/<str:code>/", views.grid_detail, name="grid"),
    path("grid/mine/", views.my_grid, name="my_grid"),
    path("grid/patrol/", views.patrol, name="patrol"),
]
