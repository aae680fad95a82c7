from django.urls import path

from linli.cases.views import categories, follows, handling, loop, metrics, photos, visits

app_name = "cases"

urlpatterns = [
    path("", loop.workbench, name="workbench"),
    path("new/", loop.case_new, name="new"),
    path("from-visit/<int:visit_id>/", visits.case_from_visit, name="from_visit"),
    path("<int:case_id>/", loop.case_detail, name="detail"),
    path("<int:case_id>/act/", loop.case_act, name="act"),
    path("<int:case_id>/follow/", follows.case_follow, name="follow"),
    path("areas/<int:grid_unit_id>/follow/", follows.area_follow, name="area_follow"),
    path("<int:case_id>/photos/<int:photo_id>/", photos.photo, name="photo"),
    path("<int:case_id>/escalate/", handling.case_escalate, name="escalate"),
    path("<int:case_id>/coordination/", handling.case_coordination, name="coordination"),
    path("board/<int:community_id>/", loop.board, name="board"),
    path("categories/", categories.category_list, name="categories"),
    path("categories/new/", categories.category_new, name="category_new"),
    path("categories/<int:category_id>/edit/", categories.category_edit, name="category_edit"),
    path(
        "categories/<int:category_id>/deactivate/",
        categories.category_deactivate,
        name="category_deactivate",
    ),
    path("metrics/", metrics.dashboard, name="metrics"),
    path("metrics/summary/", metrics.summary, name="metrics_summary"),
    path("metrics/<slug:metric>/", metrics.metric_cases, name="metric_cases"),
]
