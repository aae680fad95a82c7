"""Activity pages through the test client: the resident's phone flow, the organiser's pages,
and who may open what (denied answers 404 or the login page, and changes nothing)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli.accounts.roles import Role
from linli.participation.activities.services import signup_create
from linli.participation.models import Activity, Occurrence, SignUp, Stall
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.helpers import approved_volunteer, member, user_for
from linli.testing.clients import client_for

STAFF = {Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD}
# Community A's own organisers; a micro-grid lead organises only inside their micro-grid.
COMMUNITY_ORGANISERS = {Role.STREET_ADMIN, Role.SECRETARY}
ALL_ROLES = [*Role.values, "anonymous", "outsider"]


def expected(role: str, allowed: set[str]) -> int:
    if role == "anonymous":
        return 302
    return 200 if role in allowed else 404


@pytest.mark.parametrize("role", ALL_ROLES)
def test_page_permission_matrix(world, occurrence, role):
    client = client_for(user_for(world, role))
    members = set(Role.values)
    pages = {
        reverse("participation:list"): members | {"outsider"},
        reverse("participation:mine"): members | {"outsider"},
        reverse("participation:detail", args=[occurrence.pk]): members,
        reverse("participation:check_in", args=[occurrence.check_in_token]): members,
        reverse("participation:manage"): STAFF,
        reverse("participation:new"): STAFF,
        reverse("participation:venues"): STAFF,
        reverse("participation:edit", args=[occurrence.activity_id]): COMMUNITY_ORGANISERS,
        reverse("participation:occurrence", args=[occurrence.pk]): COMMUNITY_ORGANISERS,
    }
    got = {url: client.get(url).status_code for url in pages}
    assert got == {url: expected(role, allowed) for url, allowed in pages.items()}


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r not in COMMUNITY_ORGANISERS])
def test_organiser_actions_are_refused_to_others_and_change_nothing(world, role):
    occurrence = make_activity(
        world, kind="service_fair", starts_in=timedelta(minutes=-10)
    ).occurrences.get()
    sign_up = signup_create(occurrence=occurrence, user=member(world, "someone"))
    client = client_for(user_for(world, role))
    posts = [
        (reverse("participation:close", args=[occurrence.pk]), {}),
        (reverse("participation:cancel_occurrence", args=[occurrence.pk]), {"reason": "下雨"}),
        (reverse("participation:organiser_check_in", args=[sign_up.pk]), {}),
        (
            reverse("participation:stall_new", args=[occurrence.pk]),
            {"service": "haircut", "provider_kind": "team"},
        ),
        (reverse("participation:minutes", args=[occurrence.pk]), {"minutes": "x"}),
        (reverse("participation:cancel", args=[sign_up.pk]), {}),
        (reverse("participation:check_out", args=[sign_up.pk]), {}),
    ]
    codes = {client.post(url, data).status_code for url, data in posts}
    assert codes == ({302} if role == "anonymous" else {404})
    sign_up.refresh_from_db()
    occurrence.refresh_from_db()
    assert (sign_up.status, sign_up.checked_in_at, occurrence.state) == (
        "confirmed",
        None,
        "scheduled",
    )
    assert Stall.objects.count() == 0


def test_an_outsider_cannot_sign_up_and_nothing_is_written(world, occurrence):
    response = client_for(user_for(world, "outsider")).post(
        reverse("participation:sign_up", args=[occurrence.pk])
    )
    assert response.status_code == 404
    assert SignUp.objects.count() == 0


def test_anonymous_is_sent_to_login(world, occurrence):
    response = Client().get(reverse("participation:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def test_a_resident_signs_up_in_two_taps(world, occurrence):
    client = client_for(world.users[Role.RESIDENT])
    listing = client.get(reverse("participation:list"))
    button = f'data-testid="sign-up-{occurrence.pk}"'
    assert button in listing.content.decode()
    response = client.post(
        reverse("participation:sign_up", args=[occurrence.pk]),
        {"next": reverse("participation:list")},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("participation:list")
    assert SignUp.objects.get().status == "confirmed"
    after = client.get(reverse("participation:list")).content.decode()
    assert button not in after
    assert 'data-testid="my-status">Signed up<' in after


def test_a_full_activity_offers_the_waitlist(world):
    occurrence = make_activity(world, capacity=1).occurrences.get()
    signup_create(occurrence=occurrence, user=member(world, "first"))
    client = client_for(world.users[Role.RESIDENT])
    assert "Join the waitlist" in client.get(reverse("participation:list")).content.decode()
    client.post(reverse("participation:sign_up", args=[occurrence.pk]))
    assert SignUp.objects.get(user=world.users[Role.RESIDENT]).status == "waitlisted"


def test_a_resident_cancels_from_my_activities(world, occurrence):
    sign_up = signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    client = client_for(world.users[Role.RESIDENT])
    assert (
        f'data-testid="cancel-{sign_up.pk}"'
        in client.get(reverse("participation:mine")).content.decode()
    )
    response = client.post(reverse("participation:cancel", args=[sign_up.pk]))
    assert response["Location"] == reverse("participation:mine")
    assert SignUp.objects.get().status == "cancelled"


def test_the_organiser_page_shows_the_qr_code_of_the_occurrence(world, occurrence):
    page = client_for(world.users[Role.SECRETARY]).get(
        reverse("participation:occurrence", args=[occurrence.pk])
    )
    html = page.content.decode()
    assert "<svg" in html
    assert f"http://testserver/activities/check-in/{occurrence.check_in_token}/" in html


def test_scanning_the_code_on_a_phone_checks_in(world):
    occurrence = make_activity(world, starts_in=timedelta(minutes=-5)).occurrences.get()
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    client = client_for(world.users[Role.RESIDENT])
    url = reverse("participation:check_in", args=[occurrence.check_in_token])
    assert SignUp.objects.get().checked_in_at is None  # opening the link alone changes nothing
    assert 'data-testid="check-in"' in client.get(url).content.decode()
    response = client.post(url)
    assert response["Location"] == reverse("participation:detail", args=[occurrence.pk])
    assert SignUp.objects.get().check_in_method == "scan"


def test_a_wrong_code_page_is_not_found(world, occurrence):
    client = client_for(world.users[Role.RESIDENT])
    response = client.get(reverse("participation:check_in", args=["guessed-token"]))
    assert response.status_code == 404


def test_an_expired_code_is_refused_on_the_page(world, occurrence):
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    response = client_for(world.users[Role.RESIDENT]).post(
        reverse("participation:check_in", args=[occurrence.check_in_token])
    )
    assert response.status_code == 400
    assert "This check-in code is not open now" in response.content.decode()
    assert SignUp.objects.get().checked_in_at is None


def test_the_organiser_checks_someone_in_from_the_list(world):
    occurrence = make_activity(world, starts_in=timedelta(minutes=-5)).occurrences.get()
    sign_up = signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    client = client_for(world.users[Role.SECRETARY])
    page = client.get(reverse("participation:occurrence", args=[occurrence.pk])).content.decode()
    assert f'data-testid="check-in-{sign_up.pk}"' in page
    client.post(reverse("participation:organiser_check_in", args=[sign_up.pk]))
    sign_up.refresh_from_db()
    assert (sign_up.check_in_method, sign_up.checked_in_by) == (
        "organiser",
        world.users[Role.SECRETARY],
    )


def test_staff_create_a_thursday_series_from_the_form(world):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("participation:new"),
        {
            "kind": "action_day",
            "title": "周四行动日",
            "organiser": world.community.pk,
            "capacity": "30",
            "starts_at": "2030-01-03T09:00",
            "ends_at": "2030-01-03T11:00",
            "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=6",
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.title, activity.capacity, activity.occurrences.count()) == (
        "周四行动日",
        30,
        6,
    )


def test_a_bad_rrule_on_the_form_names_the_field_and_writes_nothing(world):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("participation:new"),
        {
            "kind": "action_day",
            "title": "周四行动日",
            "organiser": world.community.pk,
            "capacity": "0",
            "starts_at": "2030-01-03T09:00",
            "ends_at": "2030-01-03T11:00",
            "rrule": "FREQ=SOMETIMES",
        },
    )
    assert response.status_code == 400
    assert 'data-testid="capacity-error"' in response.content.decode()
    assert Activity.objects.count() == 0
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("participation:new"),
        {
            "kind": "action_day",
            "title": "周四行动日",
            "organiser": world.community.pk,
            "capacity": "5",
            "starts_at": "2030-01-03T09:00",
            "ends_at": "2030-01-03T11:00",
            "rrule": "FREQ=SOMETIMES",
        },
    )
    assert response.status_code == 400
    assert 'data-testid="rrule-error"' in response.content.decode()
    assert Occurrence.objects.count() == 0


def test_staff_edit_the_capacity(world, activity):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("participation:edit", args=[activity.pk]), {"title": "新标题", "capacity": "9"}
    )
    assert response.status_code == 302
    assert Occurrence.objects.get().capacity == 9


def test_feedback_before_the_end_is_refused_on_the_page(world, occurrence):
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    response = client_for(world.users[Role.RESIDENT]).post(
        reverse("participation:feedback", args=[occurrence.pk]), {"rating": "5"}
    )
    assert response.status_code == 400
    assert "Feedback opens when the activity is over." in response.content.decode()


def test_a_list_page_costs_the_same_queries_for_many_occurrences(world):
    client = client_for(world.users[Role.RESIDENT])

    def queries_for_list() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("participation:list")).content.decode()
        return len(queries), html.count('data-testid="occurrence-')

    make_activity(world)
    one, shown = queries_for_list()
    assert shown == 1
    for _ in range(9):
        make_activity(world)
    assert queries_for_list() == (one, 10)


def test_the_organiser_adds_a_stall_and_records_people_served(world):
    fair = make_activity(world, kind="service_fair", title="便民集市").occurrences.get()
    volunteer = approved_volunteer(world, world.users[Role.VOLUNTEER], name="磨刀师傅")
    client = client_for(world.users[Role.SECRETARY])
    page = client.get(reverse("participation:occurrence", args=[fair.pk])).content.decode()
    assert f'<option value="{volunteer.pk}">磨刀师傅</option>' in page
    client.post(
        reverse("participation:stall_new", args=[fair.pk]),
        {
            "service": "knife_sharpening",
            "provider_kind": "volunteer",
            "provider_volunteer": str(volunteer.pk),
        },
    )
    stall = Stall.objects.get()
    client.post(reverse("participation:stall_served", args=[stall.pk]), {"served_count": "17"})
    stall.refresh_from_db()
    assert (stall.service, stall.volunteer, stall.served_count) == (
        "knife_sharpening",
        volunteer,
        17,
    )


@pytest.mark.parametrize(
    ("role", "target"),
    [
        (Role.SECRETARY, "/activities/manage/"),
        (Role.MICRO_GRID_LEAD, "/activities/manage/"),
        (Role.RESIDENT, "/activities/"),
        (Role.VOLUNTEER, "/activities/"),
    ],
)
def test_the_menu_leads_organisers_to_their_list_and_others_to_the_upcoming(world, role, target):
    html = client_for(user_for(world, role)).get(reverse("participation:mine")).content.decode()
    assert f'<a href="{target}" data-testid="activities-link">' in html
