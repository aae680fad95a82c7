import pytest
from django.core.exceptions import ValidationError

from linli.accounts.models import AuditEntry
from linli.accounts.privacy import decrypt_text
from linli.accounts.roles import Role
from linli.grids.models import GridUnit, Resident, Visit
from linli.grids.services import (
    grid_unit_create,
    resident_create,
    resident_reveal,
    resident_update,
    role_assign,
    visit_record,
)


def test_grid_unit_path_is_built_from_ancestor_codes(world):
    assert world.building_group.path == "/S/B/A/A1/A1-1/"
    assert world.building_group.ancestor_paths() == [
        "/S/",
        "/S/B/",
        "/S/B/A/",
        "/S/B/A/A1/",
        "/S/B/A/A1/A1-1/",
    ]


def test_grid_unit_must_sit_directly_under_the_level_above(world):
    with pytest.raises(ValidationError) as error:
        grid_unit_create(level="building_group", code="X", name="X", parent=world.community)
    assert set(error.value.message_dict) == {"parent"}
    assert not GridUnit.objects.filter(code="X").exists()


def test_role_must_be_held_on_its_grid_level(world):
    with pytest.raises(ValidationError) as error:
        role_assign(
            user=world.users[Role.VOLUNTEER], role=Role.SECRETARY, grid_unit=world.micro_grid
        )
    assert set(error.value.message_dict) == {"grid_unit"}


def test_resident_id_number_is_stored_encrypted_and_masked(world):
    resident = Resident.objects.get(pk=world.resident.pk)
    assert resident.id_number_masked == "110101********0038"
    assert "110101199003070038" not in resident.id_number_encrypted
    assert decrypt_text(resident.id_number_encrypted) == "110101199003070038"
    assert resident.tags == ["elderly_alone"]


def test_resident_with_invalid_id_number_and_phone_is_refused_with_both_fields(world):
    count = Resident.objects.count()
    with pytest.raises(ValidationError) as error:
        resident_create(
            household=world.household,
            name="错",
            sex="male",
            birth_year=1990,
            id_number="110101199003070039",
            phone="12345",
        )
    assert set(error.value.message_dict) == {"id_number", "phone"}
    assert Resident.objects.count() == count


def test_building_group_leader_records_a_visit_with_follow_up(world):
    visit = visit_record(
        visitor=world.users[Role.BUILDING_GROUP_LEADER],
        household=world.household,
        method="door",
        finding="楼道堆物较多",
        mood="low",
        needs_follow_up=True,
    )
    stored = Visit.objects.get(pk=visit.pk)
    assert (
        stored.method,
        stored.finding,
        stored.mood,
        stored.needs_follow_up,
        stored.grid_path,
    ) == (
        "door",
        "楼道堆物较多",
        "low",
        True,
        "/S/B/A/A1/A1-1/",
    )


def test_visit_outside_the_leaders_subtree_is_refused_and_writes_nothing(world):
    with pytest.raises(ValidationError):
        visit_record(
            visitor=world.users[Role.BUILDING_GROUP_LEADER],
            household=world.other_micro_grid_household,
            method="door",
        )
    assert Visit.objects.count() == 0


def test_follow_up_without_a_finding_names_the_field(world):
    with pytest.raises(ValidationError) as error:
        visit_record(
            visitor=world.users[Role.MICRO_GRID_LEAD],
            household=world.household,
            method="phone",
            needs_follow_up=True,
        )
    assert set(error.value.message_dict) == {"finding"}
    assert Visit.objects.count() == 0


def test_reveal_returns_the_full_number_and_audits_who_what_why(world):
    secretary = world.users[Role.SECRETARY]
    value = resident_reveal(
        user=secretary,
        resident=world.resident,
        field="id_number",
        purpose="verify_identity",
        reason="核对低保材料",
    )
    assert value == "110101199003070038"
    entry = AuditEntry.objects.get(action="reveal")
    assert (
        entry.actor,
        entry.object_type,
        entry.object_id,
        entry.field,
        entry.reason,
        entry.grid_path,
    ) == (
        secretary,
        "resident",
        str(world.resident.pk),
        "id_number",
        "核对低保材料",
        "/S/B/A/A1/A1-1/",
    )


def test_reveal_needs_a_reason_and_the_permission(world):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        resident_reveal(
            user=world.users[Role.SECRETARY],
            resident=world.resident,
            field="phone",
            purpose="visit_contact",
            reason=" ",
        )
    assert set(error.value.message_dict) == {"reason"}
    with pytest.raises(ValidationError):
        resident_reveal(
            user=world.users[Role.BUILDING_GROUP_LEADER],
            resident=world.resident,
            field="phone",
            purpose="visit_contact",
            reason="想打电话问候",
        )
    with pytest.raises(ValidationError):
        resident_reveal(
            user=world.users[Role.MICRO_GRID_LEAD],
            resident=world.other_micro_grid_resident,
            field="phone",
            purpose="visit_contact",
            reason="越界查看号码",
        )
    assert AuditEntry.objects.count() == before


def test_resident_update_is_audited_with_masked_phone(world):
    resident_update(
        user=world.users[Role.MICRO_GRID_LEAD],
        resident=world.resident,
        phone="13800001111",
        vulnerability_tags=["elderly_alone", "disabled"],
    )
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes == {
        "phone": ["138****1234", "138****1111"],
        "vulnerability_tags": [",elderly_alone,", ",disabled,elderly_alone,"],
    }
    assert Resident.objects.get(pk=world.resident.pk).phone == "13800001111"


def test_resident_update_by_a_building_group_leader_changes_nothing(world):
    with pytest.raises(ValidationError):
        resident_update(
            user=world.users[Role.BUILDING_GROUP_LEADER], resident=world.resident, name="改名"
        )
    assert Resident.objects.get(pk=world.resident.pk).name == "张桂英"
    assert not AuditEntry.objects.filter(action="update").exists()
