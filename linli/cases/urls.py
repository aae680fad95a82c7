from django.urls import path

from linli.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("new/", views.case_new, name="new"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/act/", views.case_act, name="act"),
    path("board/<int:community_id>/", views.board, name="board"),
]
