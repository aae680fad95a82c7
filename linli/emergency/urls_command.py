"""Command pages (staff): emergencies, activation, the live board, an activation's
controls and one task."""

from django.urls import path

from linli.emergency.views import command

urlpatterns = [
    path("", command.home, name="home"),
    path("activate/", command.activate, name="activate"),
    path("<int:activation_id>/", command.activation_detail, name="activation_detail"),
    path("<int:activation_id>/board/", command.board, name="board"),
    path("<int:activation_id>/board/live/", command.board_live, name="board_live"),
    path("tasks/<int:task_id>/", command.task_detail, name="task_detail"),
]
