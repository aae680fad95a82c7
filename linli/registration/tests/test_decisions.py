"""The building-group leader decides what did not match: approve as a resident (the login
is made and linked) or reject with a reason, in one tap; the person hears by SMS; a second
decision is a conflict; who may decide where."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.models import AuditAction, AuditEntry, User
from linli.accounts.roles import Role
from linli.conftest import build_world, make_user, run_together
from linli.grids.models import ResidentAccount
from linli.notify.models import Notification, OutboxMessage
from linli.registration import services
from linli.registration.models import RegistrationRequest, RequestStatus
from linli.registration.tests.support import submit
from linli.testing.clients import client_for

PHONE = "13500001234"


@pytest.fixture(autouse=True)
def _site_language_english(settings):
    # Messages are stored in the site's language; these tests read them in English.
    settings.LANGUAGE_CODE = "en"


def a_request(world, *, name="李建国", room="102", digits="1111", phone=PHONE):
    outcome = submit(world.building, phone=phone, name=name, room=room, id_last4=digits)
    assert outcome.request is not None
    return outcome.request


def sms_to(phone: str) -> list[str]:
    return list(
        Notification.objects.filter(address=phone, kind="registration_decided")
        .order_by("id")
        .values_list("title", flat=True)
    )


def test_the_leader_sees_waiting_requests_with_the_room_candidates_masked(world):
    request = a_request(world)
    page = client_for(world.users[Role.BUILDING_GROUP_LEADER]).get("/join/requests/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f'data-testid="request-{request.pk}"' in text
    assert "135****1234" in text and PHONE not in text
    assert f'data-testid="candidate-{world.neighbour.pk}"' in text
    assert "139****5678" in text and "13912345678" not in text
    assert "110101********0054" in text and "110101199003070054" not in text
    assert f'data-testid="approve-{request.pk}-{world.neighbour.pk}"' in text


def test_approving_makes_and_links_the_login_and_tells_the_person(world):
    request = a_request(world)
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    answer = client_for(leader).post(
        f"/join/requests/{request.pk}/approve/", {"resident": world.neighbour.pk}
    )
    assert (answer.status_code, answer["Location"]) == (302, "/join/requests/")
    request.refresh_from_db()
    user = User.objects.get(username=PHONE)
    assert (request.status, request.decided_by, request.resident, request.user) == (
        RequestStatus.APPROVED,
        leader,
        world.neighbour,
        user,
    )
    assert request.created_user is True and request.decided_at is not None
    assert (user.phone, user.display_name, user.has_usable_password()) == (PHONE, "李建国", False)
    assert ResidentAccount.objects.get(user=user).resident == world.neighbour
    link = AuditEntry.objects.get(action=AuditAction.LINK, object_id=str(world.neighbour.pk))
    assert link.actor == leader
    [text] = sms_to(PHONE)
    assert "approved" in text and "1号楼" in text and "https://linli.example.cn" in text
    assert (
        OutboxMessage.objects.get(
            notification__address=PHONE, notification__kind="registration_decided"
        ).channel
        == "sms"
    )


def test_a_phone_that_has_a_login_gets_that_login_linked(world):
    existing = make_user("老李")
    existing.phone = PHONE
    existing.save()
    request = a_request(world)
    approved = services.registration_approve(
        actor=world.users[Role.SECRETARY], request=request, resident=world.neighbour
    )
    assert (approved.user, approved.created_user) == (existing, False)
    assert ResidentAccount.objects.get(user=existing).resident == world.neighbour


def test_approving_a_second_time_is_a_conflict(world):
    request = a_request(world)
    leader = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    url = f"/join/requests/{request.pk}/approve/"
    assert leader.post(url, {"resident": world.neighbour.pk}).status_code == 302
    again = leader.post(url, {"resident": world.neighbour.pk})
    assert again.status_code == 409
    assert "This request was already decided." in again.content.decode()
    rejected = leader.post(f"/join/requests/{request.pk}/reject/", {"reason": "不是本楼"})
    assert rejected.status_code == 409
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert len(sms_to(PHONE)) == 1


def test_the_api_answers_a_second_decision_409(world):
    request = a_request(world)
    client = client_for(world.users[Role.MICRO_GRID_LEAD], token=True)
    url = f"/api/v1/registration/requests/{request.pk}"
    first = client.post(
        f"{url}/approve", {"resident_id": world.neighbour.pk}, content_type="application/json"
    )
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["resident_id"]) == ("approved", world.neighbour.pk)
    second = client.post(
        f"{url}/approve", {"resident_id": world.neighbour.pk}, content_type="application/json"
    )
    assert second.status_code == 409
    assert second.json() == {"message": "This request was already decided.", "field": "request"}
    third = client.post(f"{url}/reject", {"reason": "重复"}, content_type="application/json")
    assert third.status_code == 409


def test_rejecting_needs_a_reason_which_the_person_reads(world):
    request = a_request(world)
    leader = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    url = f"/join/requests/{request.pk}/reject/"
    empty = leader.post(url, {"reason": "  "})
    assert empty.status_code == 400
    assert 'data-testid="reason-error"' in empty.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING and sms_to(PHONE) == []

    assert leader.post(url, {"reason": "102室没有登记这位居民"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.reason) == (RequestStatus.REJECTED, "102室没有登记这位居民")
    assert not User.objects.filter(phone=PHONE).exists()
    [text] = sms_to(PHONE)
    assert "102室没有登记这位居民" in text and "not approved" in text
    entry = AuditEntry.objects.get(object_type="registration_request", object_id=str(request.pk))
    assert (entry.action, entry.actor, entry.reason) == (
        AuditAction.UPDATE,
        world.users[Role.BUILDING_GROUP_LEADER],
        "102室没有登记这位居民",
    )


def test_approving_as_a_resident_outside_the_room_or_already_linked_is_refused(world):
    request = a_request(world)
    leader = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    url = f"/join/requests/{request.pk}/approve/"
    # 张桂英 lives in 101, not among this request's candidates (and has a login).
    assert leader.post(url, {"resident": world.resident.pk}).status_code == 400
    assert leader.post(url, {"resident": "abc"}).status_code == 400
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    secretary = world.users[Role.SECRETARY]
    with pytest.raises(ValidationError) as linked:
        services.registration_approve(actor=secretary, request=request, resident=world.resident)
    assert linked.value.message_dict == {"resident": ["This resident already has a login."]}
    with pytest.raises(ValidationError) as elsewhere:
        services.registration_approve(
            actor=secretary, request=request, resident=world.other_micro_grid_resident
        )
    assert elsewhere.value.message_dict == {"resident": ["Choose a resident of this building."]}
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


# Who may decide --------------------------------------------------------------------------

ROLES = ["anonymous", *Role.values]
# Request of 1号楼 (building group A1-1): decided by the leader of A1-1 and those above.
DECIDES = {Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD, Role.BUILDING_GROUP_LEADER}


def _page_status(role: str) -> int:
    if role == "anonymous":
        return 302
    return 200 if role in DECIDES else 404


@pytest.mark.parametrize("role", ROLES)
def test_decision_routes_by_role_and_a_denied_decision_changes_nothing(world, role):
    request = a_request(world)
    client = client_for(world.users[role])
    assert client.get("/join/requests/").status_code == _page_status(role)
    if role in DECIDES:
        return
    before = (
        list(RegistrationRequest.objects.values_list("status", "decided_at")),
        AuditEntry.objects.count(),
        ResidentAccount.objects.count(),
        User.objects.count(),
    )
    approve = client.post(f"/join/requests/{request.pk}/approve/", {"resident": world.neighbour.pk})
    reject = client.post(f"/join/requests/{request.pk}/reject/", {"reason": "x"})
    expected = 302 if role == "anonymous" else 404
    assert (approve.status_code, reject.status_code) == (expected, expected)
    assert (
        list(RegistrationRequest.objects.values_list("status", "decided_at")),
        AuditEntry.objects.count(),
        ResidentAccount.objects.count(),
        User.objects.count(),
    ) == before


@pytest.mark.parametrize("role", ROLES)
def test_decision_api_by_role(world, role):
    request = a_request(world)
    far = submit(
        world.other_community_household.building,
        phone="13600001111",
        name="赵强",
        room="901",
        id_last4="1111",
    ).request
    client = client_for(world.users[role], token=role != "anonymous")
    listing = client.get("/api/v1/registration/requests")
    if role == "anonymous":
        assert listing.status_code == 401
        return
    if role not in DECIDES:
        assert listing.status_code == 404
    else:
        ids = {item["id"] for item in listing.json()["items"]}
        sees_far = role == Role.STREET_ADMIN
        assert ids == ({request.pk, far.pk} if sees_far else {request.pk})
    # Nobody but the street decides community C's request; the rest do not even see it.
    answer = client.post(
        f"/api/v1/registration/requests/{far.pk}/reject",
        {"reason": "不是本社区"},
        content_type="application/json",
    )
    assert answer.status_code == (200 if role == Role.STREET_ADMIN else 404)


def test_a_request_in_another_building_group_is_not_the_leaders(world):
    other = world.other_micro_grid_household
    request = submit(
        other.building, phone="13600001111", name="王芳", room="201", id_last4="1111"
    ).request
    leader = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    assert leader.post(f"/join/requests/{request.pk}/reject/", {"reason": "x"}).status_code == 404
    assert f"request-{request.pk}" not in leader.get("/join/requests/").content.decode()


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_two_leaders_deciding_at_once_one_gets_a_conflict():
    world = build_world()
    request = a_request(world)

    def approve(role):
        return lambda: services.registration_approve(
            actor=world.users[role], request=request, resident=world.neighbour
        )

    def reject(role):
        return lambda: services.registration_reject(
            actor=world.users[role], request=request, reason="不是本楼"
        )

    errors = run_together(approve(Role.BUILDING_GROUP_LEADER), reject(Role.MICRO_GRID_LEAD))
    assert len(errors) == 1
    assert errors[0].message_dict == {"request": ["This request was already decided."]}
    request.refresh_from_db()
    assert request.status in {RequestStatus.APPROVED, RequestStatus.REJECTED}
    assert len(sms_to(PHONE)) == 1
    assert ResidentAccount.objects.filter(resident=world.neighbour).count() == (
        1 if request.status == RequestStatus.APPROVED else 0
    )
