from django.urls import path

from linli.cases.views import loop

app_name = "cases"

urlpatterns = [
    path("", loop.workbench, name="workbench"),
    path("new/", loop.case_new, name="new"),
    path("<int:case_id>/", loop.case_detail, name="detail"),
    path("<int:case_id>/act/", loop.case_act, name="act"),
    path("board/<int:community_id>/", loop.board, name="board"),
]
