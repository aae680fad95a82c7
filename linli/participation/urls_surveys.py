"""Survey pages, included under /activities/surveys/ by participation.urls (names stay in
the `participation` namespace)."""

from django.urls import path

from linli.participation.views import surveys

urlpatterns = [
    path("", surveys.survey_list, name="surveys"),
    path("new/", surveys.survey_new, name="survey_new"),
    path("templates/<int:template_id>/copy/", surveys.template_copy, name="survey_copy"),
    path("<int:survey_id>/", surveys.survey_answer, name="survey_answer"),
    path("<int:survey_id>/edit/", surveys.survey_edit, name="survey_edit"),
    path("<int:survey_id>/factors/", surveys.factor_add, name="survey_factor_add"),
    path(
        "<int:survey_id>/factors/<int:factor_id>/delete/",
        surveys.factor_delete,
        name="survey_factor_delete",
    ),
    path("<int:survey_id>/items/", surveys.item_add, name="survey_item_add"),
    path(
        "<int:survey_id>/items/<int:item_id>/delete/",
        surveys.item_delete,
        name="survey_item_delete",
    ),
    path("<int:survey_id>/open/", surveys.survey_open, name="survey_open"),
    path("<int:survey_id>/close/", surveys.survey_close, name="survey_close"),
    path("<int:survey_id>/share/", surveys.survey_share, name="survey_share"),
    path("<int:survey_id>/results/", surveys.survey_results, name="survey_results"),
]
