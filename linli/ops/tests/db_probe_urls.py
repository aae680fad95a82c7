"""One view for test_faults_database.py: the PostgreSQL backend pid of this request's
connection (the same pid twice means the connection was kept between requests)."""

import time

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path


def database_pid(request: HttpRequest) -> HttpResponse:
    # Hold the thread a moment when asked, so that concurrent requests use every thread.
    time.sleep(float(request.GET.get("hold", "0")))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return HttpResponse(str(pid), content_type="text/plain")


urlpatterns = [path("pid", database_pid)]
