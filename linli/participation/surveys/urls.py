"""Survey pages, included at /activities/surveys/ by participation.urls (names stay in the
`participation` namespace)."""

from django.urls import path

from linli.participation.surveys import views

urlpatterns = [
    path("", views.survey_list, name="surveys"),
    path("new/", views.survey_new, name="survey_new"),
    path("templates/<int:template_id>/copy/", views.template_copy, name="survey_copy"),
    path("<int:survey_id>/", views.survey_answer, name="survey_answer"),
    path("<int:survey_id>/edit/", views.survey_edit, name="survey_edit"),
    path("<int:survey_id>/factors/", views.factor_add, name="survey_factor_add"),
    path(
        "<int:survey_id>/factors/<int:factor_id>/delete/",
        views.factor_delete,
        name="survey_factor_delete",
    ),
    path("<int:survey_id>/items/", views.item_add, name="survey_item_add"),
    path(
        "<int:survey_id>/items/<int:item_id>/delete/",
        views.item_delete,
        name="survey_item_delete",
    ),
    path("<int:survey_id>/open/", views.survey_open, name="survey_open"),
    path("<int:survey_id>/close/", views.survey_close, name="survey_close"),
    path("<int:survey_id>/share/", views.survey_share, name="survey_share"),
    path("<int:survey_id>/results/", views.survey_results, name="survey_results"),
]
