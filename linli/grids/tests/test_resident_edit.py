"""The edit-resident page: what it stores, what it audits, and that the full phone never shows."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.grids import selectors, services
from linli.grids.models import Resident
from linli.testing.clients import client_for

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
PHONE_ERROR = "A mobile number has 11 digits and starts with 1."


pytestmark = pytest.mark.usefixtures("english")


def edit_url(resident) -> str:
    return reverse("grids:resident_edit", args=[resident.id])


def form_data(**overrides) -> dict:
    """The world's 张桂英 as the form shows her, with the phone left empty."""
    return {
        "name": "张桂英",
        "phone": "",
        "residency_type": "registered",
        "party_membership": "",
        "vulnerability_tags": ["elderly_alone"],
    } | overrides


def stored(resident) -> tuple:
    row = Resident.objects.get(pk=resident.pk)
    return (
        row.name,
        row.phone,
        row.residency_type,
        row.party_membership,
        row.vulnerability_tags,
    )


def updates() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=AuditAction.UPDATE))


def test_micro_grid_lead_changes_phone_and_tags_and_one_masked_audit_entry_is_kept(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    response = client.post(
        edit_url(world.resident),
        form_data(phone="15900001111", vulnerability_tags=["disabled", "elderly_alone"]),
        REMOTE_ADDR="10.0.0.7",
        **ENGLISH,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("grids:resident_detail", args=[world.resident.id])
    assert stored(world.resident) == (
        "张桂英",
        "15900001111",
        "registered",
        "",
        ",disabled,elderly_alone,",
    )
    (entry,) = updates()
    assert (
        entry.actor,
        entry.object_type,
        entry.object_id,
        entry.object_label,
        entry.changes,
        entry.grid_path,
        entry.ip_address,
    ) == (
        lead,
        "resident",
        str(world.resident.id),
        "张桂英",
        {
            "phone": ["138****1234", "159****1111"],
            "vulnerability_tags": [",elderly_alone,", ",disabled,elderly_alone,"],
        },
        "/S/B/A/A1/A1-1/",
        "10.0.0.7",
    )
    detail = client.get(response["Location"], **ENGLISH).content.decode()
    assert "Saved changes to 张桂英." in detail
    assert "159****1111" in detail
    assert "15900001111" not in detail


def test_bad_phone_names_the_field_and_changes_nothing(world):
    before = stored(world.resident)
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    response = client.post(
        edit_url(world.resident),
        form_data(name="张桂兰", phone="2381234123", vulnerability_tags=[]),
        **ENGLISH,
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"phone": [PHONE_ERROR]}
    content = response.content.decode()
    assert PHONE_ERROR in content
    assert "13812341234" not in content
    assert stored(world.resident) == before
    assert updates() == []


def test_blank_phone_keeps_the_current_number(world):
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.post(
        edit_url(world.resident), form_data(name="张桂兰", residency_type="permanent")
    )
    assert response.status_code == 302
    assert stored(world.resident) == (
        "张桂兰",
        "13812341234",
        "permanent",
        "",
        ",elderly_alone,",
    )
    (entry,) = updates()
    assert entry.changes == {
        "name": ["张桂英", "张桂兰"],
        "residency_type": ["registered", "permanent"],
    }


def test_saving_the_same_values_writes_no_audit_entry(world):
    before = stored(world.resident)
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    response = client.post(edit_url(world.resident), form_data(phone="13812341234"), **ENGLISH)
    assert response.status_code == 302
    assert stored(world.resident) == before
    assert updates() == []
    detail = client.get(response["Location"], **ENGLISH).content.decode()
    assert "Nothing was changed." in detail


@pytest.mark.parametrize("role", [Role.MICRO_GRID_LEAD, Role.SECRETARY, Role.STREET_ADMIN])
def test_edit_page_shows_the_phone_masked_and_never_in_full(world, role):
    client = client_for(world.users[role], language=None)
    response = client.get(edit_url(world.resident), **ENGLISH)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'placeholder="138****1234"' in content
    assert 'name="phone" id="id_phone"' in content
    assert response.context["form"]["phone"].value() is None
    assert "13812341234" not in content
    assert "110101199003070038" not in content
    assert 'value="elderly_alone" checked' in content


def test_service_error_is_shown_on_its_field_and_changes_nothing(world, monkeypatch):
    # The form already checks what the service checks; this pins down the wiring in between.
    def refuse(**kwargs):
        raise ValidationError({"name": "Refused by the service.", "household": "Not here."})

    monkeypatch.setattr(services, "resident_update", refuse)
    before = stored(world.resident)
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    response = client.post(edit_url(world.resident), form_data(name="张桂兰"), **ENGLISH)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["Refused by the service."],
        "__all__": ["Not here."],
    }
    assert stored(world.resident) == before
    assert updates() == []


def test_tags_are_neither_shown_nor_changed_where_they_are_not_visible(world, monkeypatch):
    monkeypatch.setattr(selectors, "sensitive_visible", lambda **kwargs: False)
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    content = client.get(edit_url(world.resident), **ENGLISH).content.decode()
    assert 'name="vulnerability_tags"' not in content
    assert "Elderly living alone" not in content
    response = client.post(
        edit_url(world.resident), form_data(name="张桂兰", vulnerability_tags=["disabled"])
    )
    assert response.status_code == 302
    assert stored(world.resident) == ("张桂兰", "13812341234", "registered", "", ",elderly_alone,")
    (entry,) = updates()
    assert entry.changes == {"name": ["张桂英", "张桂兰"]}


def test_resident_page_links_to_the_edit_page_only_for_editors(world):
    address = reverse("grids:resident_detail", args=[world.resident.id])
    client = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None)
    assert edit_url(world.resident) not in client.get(address, **ENGLISH).content.decode()
    client = client_for(world.users[Role.MICRO_GRID_LEAD], language=None)
    assert edit_url(world.resident) in client.get(address, **ENGLISH).content.decode()
