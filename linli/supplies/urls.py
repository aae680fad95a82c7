from django.urls import path

from linli.supplies import views

app_name = "supplies"

urlpatterns = [
    path("", views.stock, name="stock"),
    path("items/<int:item_id>/", views.item_detail, name="item_detail"),
    path("items/<int:item_id>/move/", views.item_move, name="item_move"),
    path("alerts/", views.alerts, name="alerts"),
]
