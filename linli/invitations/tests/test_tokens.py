"""The token's life: what the registration form is told (invitation_prefill), when it
expires (the local day printed on the letter, end included), and that it is used once."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.invitations.models import Invitation
from linli.invitations.selectors import invitation_prefill
from linli.invitations.services import invitation_batch_reissue, invitation_mark_used
from linli.invitations.tests.conftest import SHANGHAI, invite

pytestmark = pytest.mark.django_db


def test_a_valid_token_prefills_building_and_room_and_no_name_without_printed_names(
    world, more, pinned
):
    result = invite(world.users[Role.SECRETARY], building=world.building)
    issued = result.issued[0]

    assert invitation_prefill(issued.token) == {
        "building_id": world.building.pk,
        "room": "102",
        "name": "",
    }


def test_the_name_is_prefilled_when_it_was_printed_on_the_letter(world, more, pinned):
    result = invite(world.users[Role.SECRETARY], building=world.building, print_names=True)

    assert [invitation_prefill(issued.token)["name"] for issued in result.issued] == [
        "李建国",
        "孙秀兰",
    ]


def test_the_name_is_prefilled_for_an_sms_to_the_resident_phone(world, more, pinned):
    result = invite(world.users[Role.SECRETARY], building=world.building, channel="sms")

    assert [invitation_prefill(issued.token) for issued in result.issued] == [
        {"building_id": world.building.pk, "room": "102", "name": "李建国"}
    ]


def test_the_token_works_through_the_last_printed_day_and_not_after(world, more, pinned):
    result = invite(world.users[Role.SECRETARY], building=world.building, days=1)
    token = result.issued[0].token
    invitation = result.issued[0].invitation

    # Made on 2026-12-05 for one day: valid through 2026-12-06, Shanghai time.
    assert invitation.expires_at == datetime(2026, 12, 7, 0, 0, tzinfo=SHANGHAI)
    pinned.move_to(datetime(2026, 12, 6, 23, 59, 59, tzinfo=SHANGHAI))
    assert invitation_prefill(token) is not None
    pinned.move_to(datetime(2026, 12, 7, 0, 0, tzinfo=SHANGHAI))
    assert invitation_prefill(token) is None
    with pytest.raises(ValidationError) as refused:
        invitation_mark_used(token=token, user=make_user("late"))
    assert refused.value.message_dict == {"invitation": ["This invitation can no longer be used."]}
    assert Invitation.objects.get(pk=invitation.pk).used_at is None


def test_ninety_days_is_the_longest(world, more, pinned):
    result = invite(world.users[Role.SECRETARY], building=world.building, days=90)

    assert result.issued[0].expires_on.isoformat() == "2027-03-05"


def test_a_used_token_is_refused_and_marking_it_again_for_the_same_person_changes_nothing(
    world, more, pinned
):
    result = invite(world.users[Role.SECRETARY], building=world.building)
    token = result.issued[0].token
    newcomer = make_user("newcomer")

    invitation_mark_used(token=token, user=newcomer)
    first = Invitation.objects.get(token_hash=result.issued[0].invitation.token_hash)
    pinned.shift(timedelta(minutes=5))
    invitation_mark_used(token=token, user=newcomer)  # idempotent

    again = Invitation.objects.get(pk=first.pk)
    assert (again.used_by, again.used_at) == (newcomer, first.used_at)
    assert first.used_at == datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)
    assert invitation_prefill(token) is None
    with pytest.raises(ValidationError) as refused:
        invitation_mark_used(token=token, user=make_user("someone_else"))
    assert refused.value.message_dict == {"invitation": ["This invitation can no longer be used."]}
    assert Invitation.objects.get(pk=first.pk).used_by == newcomer


@pytest.mark.parametrize(
    "token", ["", "short", "x" * 32, "../../etc/passwd", "a b c d e f g h i j"]
)
def test_an_unknown_token_prefills_nothing_and_cannot_be_used(world, token):
    assert invitation_prefill(token) is None
    with pytest.raises(ValidationError) as refused:
        invitation_mark_used(token=token, user=world.users[Role.VOLUNTEER])
    assert refused.value.message_dict == {"invitation": ["This invitation can no longer be used."]}


def test_a_revoked_token_is_refused_like_an_unknown_one(world, more, pinned):
    secretary = world.users[Role.SECRETARY]
    first = invite(secretary, building=world.building)
    invitation_batch_reissue(actor=secretary, batch=first.batch)

    token = first.issued[0].token
    assert invitation_prefill(token) is None
    with pytest.raises(ValidationError) as refused:
        invitation_mark_used(token=token, user=make_user("holder_of_old_letter"))
    assert refused.value.message_dict == {"invitation": ["This invitation can no longer be used."]}
