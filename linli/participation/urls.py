from django.urls import include, path

from linli.participation.views import activities, photos, ties
from linli.participation.views import deliberation as delib

app_name = "participation"

urlpatterns = [
    path("surveys/", include("linli.participation.urls_surveys")),
    path("", activities.upcoming, name="list"),
    path("mine/", activities.mine, name="mine"),
    path("ties/", ties.overview, name="ties"),
    path("<int:occurrence_id>/", activities.detail, name="detail"),
    path("<int:occurrence_id>/sign-up/", activities.sign_up, name="sign_up"),
    path("<int:occurrence_id>/feedback/", activities.feedback, name="feedback"),
    path("sign-ups/<int:sign_up_id>/cancel/", activities.cancel, name="cancel"),
    path("sign-ups/<int:sign_up_id>/check-out/", activities.check_out, name="check_out"),
    path("check-in/<str:token>/", activities.check_in, name="check_in"),
    path("manage/", activities.manage, name="manage"),
    path("manage/new/", activities.activity_new, name="new"),
    path("manage/venues/", activities.venues, name="venues"),
    path("manage/<int:activity_id>/edit/", activities.activity_edit, name="edit"),
    path("manage/occurrences/<int:occurrence_id>/", activities.occurrence, name="occurrence"),
    path(
        "manage/occurrences/<int:occurrence_id>/photos/",
        photos.photos_add,
        name="photos_add",
    ),
    path("<int:occurrence_id>/photos/<int:photo_id>/", photos.photo, name="photo"),
    path(
        "manage/occurrences/<int:occurrence_id>/close/",
        activities.occurrence_close,
        name="close",
    ),
    path("manage/occurrences/<int:occurrence_id>/minutes/", activities.minutes, name="minutes"),
    path("manage/occurrences/<int:occurrence_id>/stalls/", activities.stall_new, name="stall_new"),
    path(
        "manage/occurrences/<int:occurrence_id>/cancel/",
        activities.occurrence_cancel,
        name="cancel_occurrence",
    ),
    path("manage/stalls/<int:stall_id>/served/", activities.stall_served, name="stall_served"),
    path(
        "manage/sign-ups/<int:sign_up_id>/check-in/",
        activities.organiser_check_in,
        name="organiser_check_in",
    ),
    # Deliberation (议事厅): participation/views/deliberation.py
    path("deliberation/", delib.topic_list, name="deliberation_list"),
    path("deliberation/new/", delib.topic_new, name="deliberation_new"),
    path("deliberation/groups/", delib.memberships, name="deliberation_groups"),
    path(
        "deliberation/groups/<int:membership_id>/remove/",
        delib.membership_remove,
        name="deliberation_group_remove",
    ),
    path("deliberation/from-case/", delib.from_case, name="deliberation_from_reference"),
    path("deliberation/from-case/<int:case_id>/", delib.from_case, name="deliberation_from_case"),
    path("deliberation/<int:topic_id>/", delib.topic_detail, name="deliberation_detail"),
    path("deliberation/<int:topic_id>/support/", delib.support, name="deliberation_support"),
    path("deliberation/<int:topic_id>/opinions/", delib.opinion_post, name="deliberation_opinion"),
    path("deliberation/<int:topic_id>/invite/", delib.invite, name="deliberation_invite"),
    path("deliberation/<int:topic_id>/state/", delib.transition, name="deliberation_transition"),
    path(
        "deliberation/<int:topic_id>/rounds/open/", delib.round_open, name="deliberation_round_open"
    ),
    path(
        "deliberation/<int:topic_id>/rounds/close/",
        delib.round_close,
        name="deliberation_round_close",
    ),
    path(
        "deliberation/<int:topic_id>/resolution/", delib.resolution, name="deliberation_resolution"
    ),
    path(
        "deliberation/<int:topic_id>/milestones/",
        delib.milestone_add,
        name="deliberation_milestone",
    ),
    path(
        "deliberation/<int:topic_id>/milestones/<int:milestone_id>/progress/",
        delib.milestone_progress,
        name="deliberation_progress",
    ),
    path("deliberation/<int:topic_id>/updates/", delib.update_post, name="deliberation_update"),
    path("deliberation/<int:topic_id>/done/", delib.done, name="deliberation_done"),
    path(
        "deliberation/opinions/<int:opinion_id>/report/",
        delib.opinion_report,
        name="deliberation_report",
    ),
    path(
        "deliberation/opinions/<int:opinion_id>/hide/", delib.opinion_hide, name="deliberation_hide"
    ),
]
