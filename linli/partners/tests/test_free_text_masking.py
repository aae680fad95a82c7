"""A need's description typed by staff can name a person and their number: a partner
liaison or a volunteer reads it with the numbers masked, the secretary as typed."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.partners.models import Need
from linli.testing.clients import client_for

TYPED = "张帆联系沈阿姨 13812345678，身份证 110101199003070038"
MASKED = "张帆联系沈阿姨 138****5678，身份证 110101********0038"


@pytest.fixture
def typed_need(lists):
    Need.objects.filter(pk=lists.need.pk).update(description=TYPED)
    return lists


@pytest.mark.parametrize(
    "role, description",
    [
        (Role.SECRETARY, TYPED),
        (Role.STREET_ADMIN, TYPED),
        (Role.PARTNER_LIAISON, MASKED),
        (Role.VOLUNTEER, MASKED),
    ],
)
def test_the_api_masks_numbers_in_a_needs_description_for_partners_and_volunteers(
    typed_need, role, description
):
    client = client_for(typed_need.world.users[role])
    body = client.get(f"/api/v1/partners/needs/{typed_need.need.pk}").json()
    assert body["description"] == description


@pytest.mark.parametrize(
    "role, shown, hidden",
    [
        (Role.SECRETARY, "13812345678", "138****5678"),
        (Role.PARTNER_LIAISON, "138****5678", "13812345678"),
        (Role.VOLUNTEER, "138****5678", "13812345678"),
    ],
)
def test_the_need_page_masks_numbers_for_partners_and_volunteers(typed_need, role, shown, hidden):
    client = client_for(typed_need.world.users[role])
    content = client.get(
        reverse("partners:need_detail", args=[typed_need.need.pk])
    ).content.decode()
    assert shown in content
    assert hidden not in content
