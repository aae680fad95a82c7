"""/public/: a community's public pages and feeds (no login), and the staff page that turns
them on."""

from django.urls import path

from linli.public import feeds, views
from linli.public.selectors import CALENDAR, CASES_BOARD

app_name = "public"

urlpatterns = [
    path("settings/", views.settings_index, name="settings_index"),
    path("settings/<int:community_id>/", views.settings_page, name="settings"),
    path("<int:community_id>/cases/", views.case_board, name="cases"),
    path(
        "<int:community_id>/cases/feed.rss",
        views.public_view(CASES_BOARD)(feeds.CaseFeed()),
        name="case_feed_rss",
    ),
    path(
        "<int:community_id>/cases/feed.atom",
        views.public_view(CASES_BOARD)(feeds.CaseAtomFeed()),
        name="case_feed_atom",
    ),
    path("<int:community_id>/activities/", views.activity_calendar, name="activities"),
    path(
        "<int:community_id>/activities/feed.rss",
        views.public_view(CALENDAR)(feeds.ActivityFeed()),
        name="activity_feed_rss",
    ),
    path(
        "<int:community_id>/activities/feed.atom",
        views.public_view(CALENDAR)(feeds.ActivityAtomFeed()),
        name="activity_feed_atom",
    ),
]
