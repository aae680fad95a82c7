"""Plan pages, under /emergency/plans/ (namespace "emergency")."""

from django.urls import path

from linli.emergency.views import plans

urlpatterns = [
    path("", plans.plan_list, name="plan_list"),
    path("new/", plans.plan_new, name="plan_new"),
    path("defaults/", plans.plan_defaults, name="plan_defaults"),
    path("<int:plan_id>/", plans.plan_detail, name="plan_detail"),
    path("<int:plan_id>/copy/", plans.plan_copy, name="plan_copy"),
    path("<int:plan_id>/templates/new/", plans.template_new, name="plan_template_new"),
    path(
        "<int:plan_id>/templates/<int:template_id>/",
        plans.template_edit,
        name="plan_template_edit",
    ),
    path(
        "<int:plan_id>/templates/<int:template_id>/delete/",
        plans.template_delete,
        name="plan_template_delete",
    ),
    path("<int:plan_id>/supplies/", plans.supply_minimum_set, name="plan_supply_set"),
    path(
        "<int:plan_id>/supplies/<int:minimum_id>/delete/",
        plans.supply_minimum_delete,
        name="plan_supply_delete",
    ),
    path("<int:plan_id>/contacts/", plans.contact_set, name="plan_contact_set"),
    path(
        "<int:plan_id>/contacts/<int:contact_id>/delete/",
        plans.contact_delete,
        name="plan_contact_delete",
    ),
]
