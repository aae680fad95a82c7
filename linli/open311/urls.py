from django.urls import path, re_path

from linli.open311 import views

app_name = "open311"

FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^v2/services" + FORMAT, views.service_list, name="services"),
    re_path(
        r"^v2/services/(?P<service_code>[^/]+)" + FORMAT,
        views.service_definition,
        name="service",
    ),
    re_path(r"^v2/requests" + FORMAT, views.requests_endpoint, name="requests"),
    re_path(r"^v2/requests/(?P<request_id>[^/]+)" + FORMAT, views.request_detail, name="request"),
    re_path(r"^v2/(?P<rest>.*)$", views.unknown_endpoint, name="unknown"),
    path("keys/", views.key_list, name="keys"),
    path("keys/new/", views.key_new, name="key_new"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("cases/<int:case_id>/submitter/", views.case_submitter, name="case_submitter"),
]
