"""Field routes: a volunteer's tasks and their outcomes, and help requests (求助)."""

from django.urls import path

from linli.emergency.views import field

urlpatterns = [
    path("my-tasks/", field.my_tasks, name="my_tasks"),
    path("my-tasks/<int:task_id>/acknowledge/", field.my_task_acknowledge, name="my_task_ack"),
    path("my-tasks/<int:task_id>/decline/", field.my_task_decline, name="my_task_decline"),
    path("my-tasks/<int:task_id>/report/", field.my_task_report, name="my_task_report"),
    path("my-tasks/<int:task_id>/reveal/", field.task_reveal, name="task_reveal"),
    path("help/", field.help_list, name="help_list"),
    path("help/new/", field.help_new, name="help_new"),
    path("help/<int:request_id>/", field.help_detail, name="help_detail"),
    path("help/<int:request_id>/dispatch/", field.help_dispatch, name="help_dispatch"),
    path("help/<int:request_id>/close/", field.help_close, name="help_close"),
]
