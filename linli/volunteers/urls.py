from django.urls import path

from linli.volunteers.views import join, pages

app_name = "volunteers"

urlpatterns = [
    path("", pages.volunteer_list, name="list"),
    path("signup/", pages.signup, name="signup"),
    path("join/", join.join, name="join"),
    path("<int:volunteer_id>/", pages.volunteer_detail, name="detail"),
    path("<int:volunteer_id>/review/", pages.volunteer_review, name="review"),
    path("<int:volunteer_id>/active/", pages.volunteer_active, name="active"),
    path("teams/", pages.team_list, name="teams"),
    path("teams/defaults/", pages.team_defaults, name="team_defaults"),
    path("teams/<int:team_id>/", pages.team_detail, name="team"),
    path("teams/recommend/", pages.recommend, name="recommend"),
    path(
        "recommendations/<int:recommendation_id>/",
        pages.recommendation_detail,
        name="recommendation",
    ),
    path("hours/", pages.hours, name="hours"),
    path("hours/add/", pages.hours_add, name="hours_add"),
    path("hours/export/", pages.hours_export_view, name="hours_export"),
]
