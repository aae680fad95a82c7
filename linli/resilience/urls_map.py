"""/resilience/map/: the 民情 map (?unit=, default the viewer's top unit) and the counts
behind a building's popup."""

from django.urls import path

from linli.resilience.views import map as views

urlpatterns = [
    path("", views.map_page, name="map"),
    path("building/<int:building_id>.json", views.map_building, name="map_building"),
]
