"""Activity pages, included at /activities/ by participation.urls (names stay in the
`participation` namespace)."""

from django.urls import path

from linli.participation.activities import views

urlpatterns = [
    path("", views.upcoming, name="list"),
    path("mine/", views.mine, name="mine"),
    path("<int:occurrence_id>/", views.detail, name="detail"),
    path("<int:occurrence_id>/sign-up/", views.sign_up, name="sign_up"),
    path("<int:occurrence_id>/follow/", views.follow_series, name="follow_series"),
    path("<int:occurrence_id>/unfollow/", views.unfollow_series, name="unfollow_series"),
    path("<int:occurrence_id>/feedback/", views.feedback, name="feedback"),
    path("sign-ups/<int:sign_up_id>/cancel/", views.cancel, name="cancel"),
    path("sign-ups/<int:sign_up_id>/check-out/", views.check_out, name="check_out"),
    path("check-in/<str:token>/", views.check_in, name="check_in"),
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.activity_new, name="new"),
    path("manage/venues/", views.venues, name="venues"),
    path("manage/<int:activity_id>/edit/", views.activity_edit, name="edit"),
    path("manage/occurrences/<int:occurrence_id>/", views.occurrence, name="occurrence"),
    path(
        "manage/occurrences/<int:occurrence_id>/photos/",
        views.photos_add,
        name="photos_add",
    ),
    path("<int:occurrence_id>/photos/<int:photo_id>/", views.photo, name="photo"),
    path(
        "manage/occurrences/<int:occurrence_id>/close/",
        views.occurrence_close,
        name="close",
    ),
    path("manage/occurrences/<int:occurrence_id>/minutes/", views.minutes, name="minutes"),
    path("manage/occurrences/<int:occurrence_id>/stalls/", views.stall_new, name="stall_new"),
    path(
        "manage/occurrences/<int:occurrence_id>/cancel/",
        views.occurrence_cancel,
        name="cancel_occurrence",
    ),
    path("manage/stalls/<int:stall_id>/served/", views.stall_served, name="stall_served"),
    path(
        "manage/sign-ups/<int:sign_up_id>/check-in/",
        views.organiser_check_in,
        name="organiser_check_in",
    ),
]
