from django.urls import path

from linli.registration import views

app_name = "registration"

urlpatterns = [
    path("", views.join_invited, name="join_invited"),
    path("b/<str:token>/", views.join, name="join"),
    path("sent/", views.sent, name="sent"),
    path("poster/building/<int:building_id>/", views.building_poster, name="building_poster"),
    path("poster/unit/<int:grid_unit_id>/", views.unit_posters, name="unit_posters"),
    path("requests/", views.requests_list, name="requests"),
    path("requests/<int:request_id>/approve/", views.request_approve, name="request_approve"),
    path("requests/<int:request_id>/reject/", views.request_reject, name="request_reject"),
]
