from django.urls import path

from linli.partners.views import liaison_join, lists, units

app_name = "partners"

urlpatterns = [
    path("", lists.home, name="home"),
    path("needs/", lists.need_list, name="need_list"),
    path("needs/new/", lists.need_new, name="need_new"),
    path("needs/<int:need_id>/", lists.need_detail, name="need_detail"),
    path("needs/<int:need_id>/claim/", lists.need_claim, name="need_claim"),
    path(
        "needs/<int:need_id>/claim-resource/", lists.need_claim_resource, name="need_claim_resource"
    ),
    path("needs/<int:need_id>/cancel/", lists.need_cancel, name="need_cancel"),
    path(
        "resources/<int:resource_id>/withdraw/", lists.resource_withdraw, name="resource_withdraw"
    ),
    path("claims/<int:claim_id>/", lists.claim_detail, name="claim_detail"),
    path("claims/<int:claim_id>/act/", lists.claim_act, name="claim_act"),
    path("resources/", lists.resource_list, name="resource_list"),
    path("projects/", lists.project_list, name="project_list"),
    path("projects/new/", lists.project_new, name="project_new"),
    path("projects/<int:project_id>/", lists.project_detail, name="project_detail"),
    path("units/", units.partner_list, name="partner_list"),
    path("units/<int:partner_id>/", units.partner_detail, name="partner_detail"),
    path(
        "units/<int:partner_id>/liaison-invitations/",
        liaison_join.invitation_create,
        name="liaison_invitation_create",
    ),
    path(
        "units/<int:partner_id>/liaison-invitations/<int:invitation_id>/revoke/",
        liaison_join.invitation_revoke,
        name="liaison_invitation_revoke",
    ),
    path("join/<str:token>/", liaison_join.liaison_join, name="liaison_join"),
    path(
        "communities/<int:community_id>/resources/",
        units.community_resources,
        name="community_resources",
    ),
]
