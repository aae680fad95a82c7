"""A volunteer's tasks on their phone, and their outcomes."""

from django.urls import path

from linli.emergency.views import my_tasks

urlpatterns = [
    path("my-tasks/", my_tasks.my_tasks, name="my_tasks"),
    path("my-tasks/<int:task_id>/acknowledge/", my_tasks.my_task_acknowledge, name="my_task_ack"),
    path("my-tasks/<int:task_id>/decline/", my_tasks.my_task_decline, name="my_task_decline"),
    path("my-tasks/<int:task_id>/report/", my_tasks.my_task_report, name="my_task_report"),
    path("my-tasks/<int:task_id>/reveal/", my_tasks.task_reveal, name="task_reveal"),
]
