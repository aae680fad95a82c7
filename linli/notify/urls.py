from django.urls import path

from linli.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/read/", views.mark_read, name="mark_read"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("settings/", views.preferences, name="preferences"),
    path("settings/unfollow/", views.unfollow_target, name="unfollow"),
    path("settings/unmute/", views.unmute, name="unmute"),
]
