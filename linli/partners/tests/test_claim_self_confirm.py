"""Issue 13, item 7: nobody credits themselves hours through a claim.

- A need for one's own household cannot be claimed by oneself (as volunteer or liaison).
- Nobody confirms (or disputes) a claim they made or act for.
- Hours above settings.LINLI_HOURS_APPROVAL_ABOVE (default 4) per claim wait, after the
  beneficiary's confirmation, for a staff member whose post covers the need to approve them;
  only then do they reach the volunteer's ledger, and the approval is audited.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.partners.models import Claim, ClaimState
from linli.partners.services import claim_need, claim_transition, need_create
from linli.partners.tests.conftest import Lists, serving_volunteer
from linli.testing.clients import client_for
from linli.volunteers.models import ServiceHoursEntry

API = "/api/v1/partners"


def act(user, claim: Claim, action: str, **extra):
    claim.refresh_from_db()
    return client_for(user).post(
        f"{API}/claims/{claim.pk}/actions",
        {"action": action, "expected_version": claim.version, **extra},
        content_type="application/json",
    )


def ledger_total(volunteer) -> Decimal:
    return ServiceHoursEntry.objects.filter(volunteer=volunteer).aggregate(total=Sum("hours"))[
        "total"
    ] or Decimal("0")


def delivered(lists: Lists, hours: str) -> Claim:
    """The volunteer login claims household 101's need and delivers it in `hours`."""
    user = lists.world.users[Role.VOLUNTEER]
    claim = claim_need(actor=user, need=lists.need, volunteer=lists.volunteer)
    claim = claim_transition(claim=claim, actor=user, action="start")
    return claim_transition(claim=claim, actor=user, action="deliver", hours=hours)


# A need for one's own household ------------------------------------------------------------


@pytest.fixture
def resident_volunteer(lists: Lists):
    """张桂英's login (household 101, the need's beneficiary) is also a serving volunteer."""
    return serving_volunteer(lists.world, user=lists.world.users[Role.RESIDENT], name="张桂英")


def test_resident_volunteer_cannot_claim_their_own_households_need_over_the_api(
    lists, resident_volunteer
):
    response = client_for(lists.world.users[Role.RESIDENT]).post(
        f"{API}/needs/{lists.need.pk}/claims", {"quantity": 1}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "need"
    assert Claim.objects.count() == 0
    lists.need.refresh_from_db()
    assert lists.need.claimed_quantity == 0


def test_resident_volunteer_cannot_claim_their_own_households_need_on_the_page(
    lists, resident_volunteer
):
    response = client_for(lists.world.users[Role.RESIDENT]).post(
        f"/partners/needs/{lists.need.pk}/claim/", {"quantity": "1"}
    )
    assert response.status_code == 302
    assert response.url == f"/partners/needs/{lists.need.pk}/"
    assert Claim.objects.count() == 0


def test_staff_cannot_claim_a_households_need_for_a_volunteer_living_there(
    lists, resident_volunteer
):
    with pytest.raises(ValidationError) as error:
        claim_need(
            actor=lists.world.users[Role.SECRETARY], need=lists.need, volunteer=resident_volunteer
        )
    assert list(error.value.message_dict) == ["need"]
    assert Claim.objects.count() == 0


# Nobody confirms their own claim ---------------------------------------------------------------


@pytest.fixture
def lead_volunteer_claim(lists: Lists) -> Claim:
    """The micro-grid lead (staff: LISTS_MANAGE on A1) is also a volunteer and claims a need
    of the micro-grid itself (no household), which staff confirm."""
    world = lists.world
    lead = world.users[Role.MICRO_GRID_LEAD]
    volunteer = serving_volunteer(world, user=lead, name="微网格长", grid_unit=world.micro_grid)
    need = need_create(
        actor=world.users[Role.SECRETARY],
        category="elder_care",
        title="楼道扶手加装",
        grid_unit=world.micro_grid,
    )
    claim = claim_need(actor=lead, need=need, volunteer=volunteer)
    claim = claim_transition(claim=claim, actor=lead, action="start")
    return claim_transition(claim=claim, actor=lead, action="deliver", hours="2")


def test_staff_volunteer_cannot_confirm_their_own_claim(lists, lead_volunteer_claim):
    lead = lists.world.users[Role.MICRO_GRID_LEAD]
    response = act(lead, lead_volunteer_claim, "confirm")
    assert response.status_code == 403
    lead_volunteer_claim.refresh_from_db()
    assert lead_volunteer_claim.state == ClaimState.DELIVERED
    assert ServiceHoursEntry.objects.count() == 0
    page = client_for(lead).get(f"/partners/claims/{lead_volunteer_claim.pk}/")
    assert [action["name"] for action in page.context["actions"]] == ["cancel"]


def test_another_staff_member_confirms_the_leads_claim(lists, lead_volunteer_claim):
    response = act(lists.world.users[Role.SECRETARY], lead_volunteer_claim, "confirm")
    assert response.status_code == 200
    assert response.json()["state"] == "confirmed"
    assert ServiceHoursEntry.objects.get().hours == Decimal("2.00")


def test_staff_who_claimed_for_a_volunteer_does_not_confirm_that_claim(lists):
    world = lists.world
    secretary = world.users[Role.SECRETARY]
    need = need_create(
        actor=secretary, category="elder_care", title="社区花园浇水", grid_unit=world.micro_grid
    )
    claim = claim_need(actor=secretary, need=need, volunteer=lists.volunteer)
    claim = claim_transition(claim=claim, actor=secretary, action="start")
    claim = claim_transition(claim=claim, actor=secretary, action="deliver", hours="1")
    with pytest.raises(ValidationError) as error:
        claim_transition(claim=claim, actor=secretary, action="confirm")
    assert error.value.code == "permission_denied"
    claim = claim_transition(claim=claim, actor=world.users[Role.MICRO_GRID_LEAD], action="confirm")
    assert claim.state == ClaimState.CONFIRMED


# Large credits wait for staff approval ----------------------------------------------------------


def test_a_24_hour_delivery_is_pending_after_confirmation(lists):
    claim = delivered(lists, "24")
    response = act(lists.world.users[Role.RESIDENT], claim, "confirm")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["hours"], body["hours_pending"]) == ("confirmed", "24.00", True)
    assert ServiceHoursEntry.objects.count() == 0
    assert ledger_total(lists.volunteer) == Decimal("0")


def test_pending_hours_are_announced_to_the_staff_who_may_approve_them(lists):
    from linli.notify.models import Notification

    claim = delivered(lists, "24")
    act(lists.world.users[Role.RESIDENT], claim, "confirm")

    assert sorted(
        Notification.objects.filter(kind="claim_hours_pending").values_list(
            "recipient__username", "title", "link"
        )
    ) == [
        (username, f"24.00小时（“{lists.need.title}”）等待您审核", f"/partners/claims/{claim.pk}/")
        for username in ("micro_grid_lead", "secretary", "street_admin")
    ]


def test_hours_at_the_threshold_are_credited_at_once(lists):
    claim = delivered(lists, "4")
    response = act(lists.world.users[Role.RESIDENT], claim, "confirm")
    assert response.json()["hours_pending"] is False
    assert ledger_total(lists.volunteer) == Decimal("4.00")


def test_threshold_is_a_setting(lists, settings):
    settings.LINLI_HOURS_APPROVAL_ABOVE = 24
    claim = delivered(lists, "24")
    act(lists.world.users[Role.RESIDENT], claim, "confirm")
    assert ledger_total(lists.volunteer) == Decimal("24.00")


def test_secretarys_approval_credits_the_hours_and_is_audited(lists):
    world = lists.world
    claim = delivered(lists, "24")
    act(world.users[Role.RESIDENT], claim, "confirm")
    secretary = world.users[Role.SECRETARY]
    response = act(secretary, claim, "approve_hours")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["hours_pending"]) == ("confirmed", False)
    assert [event["action"] for event in body["events"]] == [
        "claim",
        "start",
        "deliver",
        "confirm",
        "approve_hours",
    ]
    entry = ServiceHoursEntry.objects.get()
    assert (entry.volunteer_id, entry.hours, entry.source_kind, entry.source_id) == (
        lists.volunteer.pk,
        Decimal("24.00"),
        "claim",
        claim.pk,
    )
    assert entry.recorded_by == secretary
    claim.refresh_from_db()
    assert (claim.hours_approved_by, claim.hours_pending) == (secretary, False)
    audit = AuditEntry.objects.get(object_type="claim")
    assert (audit.actor, audit.object_id, audit.field, audit.grid_path) == (
        secretary,
        str(claim.pk),
        "hours",
        claim.grid_path,
    )
    assert audit.changes == {"hours": "24.00", "volunteer": lists.volunteer.name}
    # Approved once: a second approval is refused and credits nothing more.
    assert act(secretary, claim, "approve_hours").status_code == 409
    assert ledger_total(lists.volunteer) == Decimal("24.00")


def test_approval_on_the_page(lists):
    world = lists.world
    claim = delivered(lists, "10")
    act(world.users[Role.RESIDENT], claim, "confirm")
    secretary = client_for(world.users[Role.SECRETARY])
    page = secretary.get(f"/partners/claims/{claim.pk}/")
    assert [action["name"] for action in page.context["actions"]] == ["approve_hours"]
    assert "awaiting approval" in page.content.decode()
    claim.refresh_from_db()
    response = secretary.post(
        f"/partners/claims/{claim.pk}/act/", {"action": "approve_hours", "version": claim.version}
    )
    assert response.status_code == 302
    assert ledger_total(lists.volunteer) == Decimal("10.00")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.VOLUNTEER, 403),
        (Role.RESIDENT, 403),
        (Role.BUILDING_GROUP_LEADER, 404),
        (Role.PARTNER_LIAISON, 404),
    ],
)
def test_approval_is_refused_to_others_and_credits_nothing(lists, role, status):
    claim = delivered(lists, "24")
    act(lists.world.users[Role.RESIDENT], claim, "confirm")
    response = act(lists.world.users[role], claim, "approve_hours")
    assert response.status_code == status
    claim.refresh_from_db()
    assert claim.hours_pending is True
    assert ServiceHoursEntry.objects.count() == 0
    assert not AuditEntry.objects.filter(object_type="claim").exists()


def test_secretary_of_another_community_cannot_approve(lists):
    world = lists.world
    outsider = make_user("c_secretary")
    role_assign(user=outsider, role=Role.SECRETARY, grid_unit=world.other_community)
    claim = delivered(lists, "24")
    act(world.users[Role.RESIDENT], claim, "confirm")
    assert act(outsider, claim, "approve_hours").status_code == 404
    assert ServiceHoursEntry.objects.count() == 0


def test_a_volunteer_holding_a_staff_post_cannot_approve_their_own_hours(lists):
    world = lists.world
    volunteer_user = world.users[Role.VOLUNTEER]
    role_assign(user=volunteer_user, role=Role.MICRO_GRID_LEAD, grid_unit=world.micro_grid)
    claim = delivered(lists, "24")
    act(world.users[Role.RESIDENT], claim, "confirm")
    assert act(volunteer_user, claim, "approve_hours").status_code == 403
    assert ServiceHoursEntry.objects.count() == 0
