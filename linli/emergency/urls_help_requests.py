"""Help requests (求助): filing, the list, one request, its dispatch and close."""

from django.urls import path

from linli.emergency.views import help_requests

urlpatterns = [
    path("help/", help_requests.help_list, name="help_list"),
    path("help/new/", help_requests.help_new, name="help_new"),
    path("help/<int:request_id>/", help_requests.help_detail, name="help_detail"),
    path("help/<int:request_id>/dispatch/", help_requests.help_dispatch, name="help_dispatch"),
    path("help/<int:request_id>/close/", help_requests.help_close, name="help_close"),
]
