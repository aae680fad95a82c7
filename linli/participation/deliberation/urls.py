"""Deliberation pages (议事厅), included at /activities/deliberation/ by participation.urls
(names stay in the `participation` namespace)."""

from django.urls import path

from linli.participation.deliberation import views

urlpatterns = [
    path("", views.topic_list, name="deliberation_list"),
    path("new/", views.topic_new, name="deliberation_new"),
    path("groups/", views.memberships, name="deliberation_groups"),
    path(
        "groups/<int:membership_id>/remove/",
        views.membership_remove,
        name="deliberation_group_remove",
    ),
    path("from-case/", views.from_case, name="deliberation_from_reference"),
    path("from-case/<int:case_id>/", views.from_case, name="deliberation_from_case"),
    path("<int:topic_id>/", views.topic_detail, name="deliberation_detail"),
    path("<int:topic_id>/support/", views.support, name="deliberation_support"),
    path("<int:topic_id>/follow/", views.follow_topic, name="deliberation_follow"),
    path("<int:topic_id>/unfollow/", views.unfollow_topic, name="deliberation_unfollow"),
    path("<int:topic_id>/opinions/", views.opinion_post, name="deliberation_opinion"),
    path("<int:topic_id>/invite/", views.invite, name="deliberation_invite"),
    path("<int:topic_id>/state/", views.transition, name="deliberation_transition"),
    path("<int:topic_id>/rounds/open/", views.round_open, name="deliberation_round_open"),
    path("<int:topic_id>/rounds/close/", views.round_close, name="deliberation_round_close"),
    path("<int:topic_id>/resolution/", views.resolution, name="deliberation_resolution"),
    path("<int:topic_id>/milestones/", views.milestone_add, name="deliberation_milestone"),
    path(
        "<int:topic_id>/milestones/<int:milestone_id>/progress/",
        views.milestone_progress,
        name="deliberation_progress",
    ),
    path("<int:topic_id>/updates/", views.update_post, name="deliberation_update"),
    path("<int:topic_id>/done/", views.done, name="deliberation_done"),
    path("opinions/<int:opinion_id>/report/", views.opinion_report, name="deliberation_report"),
    path("opinions/<int:opinion_id>/hide/", views.opinion_hide, name="deliberation_hide"),
]
