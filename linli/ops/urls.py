from django.urls import path

from linli.ops.views import jobs

app_name = "ops"

urlpatterns = [
    path("jobs/", jobs.job_list, name="jobs"),
]
