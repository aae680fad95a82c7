"""The kernel written once (docs/architecture.md): grid paths, refusals and their statuses,
the one row-or-404."""

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.grid_paths import (
    collapse_paths,
    is_within,
    path_ancestors,
    path_at_depth,
    path_depth,
    within,
    within_or_above,
)
from linli.errors import (
    Conflict,
    Invalid,
    NotAllowed,
    NotVisible,
    error_codes,
    error_field,
    get_visible_or_404,
    status_for,
)
from linli.grids.models import GridUnit, Household


def test_path_ancestors_walks_from_the_street_down_to_the_path_itself():
    assert path_ancestors("/S/B/A/A1/") == ["/S/", "/S/B/", "/S/B/A/", "/S/B/A/A1/"]
    assert path_ancestors("/") == []


def test_path_at_depth_stops_at_the_path_itself_when_it_is_shallower():
    assert path_at_depth("/S/B/A/A1/A1-1/", 3) == "/S/B/A/"
    assert path_at_depth("/S/B/", 3) == "/S/B/"
    assert path_depth("/S/B/A/A1/A1-1/") == 5


def test_collapse_keeps_only_the_topmost_of_nested_paths():
    assert collapse_paths(["/S/B/A/A1/", "/S/B/A/", "/S/B/C/", "/S/B/A/"]) == (
        "/S/B/A/",
        "/S/B/C/",
    )
    assert is_within("/S/B/A/A1/", ["/S/B/C/", "/S/B/A/"])
    assert not is_within("/S/B/AB/", ["/S/B/A/"])


@pytest.mark.django_db
def test_within_matches_the_subtrees_and_nothing_for_no_paths(world):
    inside_a = set(Household.objects.filter(within(["/S/B/A/"])).values_list("room", flat=True))
    assert inside_a == {"101", "102", "201"}
    assert not Household.objects.filter(within([])).exists()
    units = GridUnit.objects.filter(within(["/S/B/C/"], "path")).values_list("code", flat=True)
    assert sorted(units) == ["C", "C1", "C1-1"]


def test_each_refusal_has_its_status_and_keeps_its_field():
    assert status_for(NotAllowed("no")) == 403
    assert status_for(Conflict("moved", field="version")) == 409
    assert status_for(Invalid("wrong", field="room")) == 400
    assert status_for(ValidationError("x", code="illegal_transition")) == 409
    assert status_for(ValidationError("x", code="storage_unavailable")) == 503
    assert status_for(ValidationError("x", code="rate_limited")) == 429
    assert error_field(Conflict("moved", field="version")) == "version"
    assert error_field(NotAllowed("no")) is None
    assert error_codes(Invalid("wrong", field="room")) == {"invalid"}
    assert Conflict("moved", field="state").message_dict == {"state": ["moved"]}


def test_a_refusal_gathering_several_fields_keeps_the_strongest_status():
    combined = ValidationError(
        {"room": Invalid("wrong").error_list, "state": Conflict("moved").error_list}
    )
    assert status_for(combined) == 409
    # The answer's message and field are the conflict's, the refusal that set the status.
    assert error_field(combined) == "state"
    assert error_field(ValidationError({"room": "a", "name": "b"})) == "room"


@pytest.mark.django_db
def test_get_visible_or_404_answers_absent_and_malformed_alike_and_names_the_field(world):
    households = Household.objects.all()
    assert get_visible_or_404(households, world.household.pk) == world.household
    for pk in (10**9, "abc", None, 2**70):
        with pytest.raises(NotVisible) as raised:
            get_visible_or_404(households, pk, field="household_id")
        assert raised.value.field == "household_id"


@pytest.mark.django_db
def test_within_or_above_adds_the_units_above_but_not_their_other_branches(world):
    codes = GridUnit.objects.filter(within_or_above(["/S/B/A/A1/"], "path")).values_list(
        "code", flat=True
    )
    assert sorted(codes) == ["A", "A1", "A1-1", "B", "S"]
    assert not GridUnit.objects.filter(within_or_above([], "path")).exists()
