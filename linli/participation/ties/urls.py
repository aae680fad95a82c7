"""The ties page, included at /activities/ties/ by participation.urls (its name stays in the
`participation` namespace)."""

from django.urls import path

from linli.participation.ties import views

urlpatterns = [
    path("", views.overview, name="ties"),
]
