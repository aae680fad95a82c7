from django.urls import path

from linli.participation.views import activities

app_name = "participation"

urlpatterns = [
    path("", activities.upcoming, name="list"),
    path("mine/", activities.mine, name="mine"),
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
]
