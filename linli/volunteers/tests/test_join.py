"""A volunteer registers without an operator (/volunteers/join/): phone, code, name, then the
sign-up form; membership of the community only once the secretary approves; the secretaries
hear of the application, the applicant of the decision."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from linli.accounts.models import AuditEntry, User
from linli.accounts.roles import Role
from linli.grids.membership import member_community_ids
from linli.grids.models import RoleAssignment
from linli.grids.services import role_assign
from linli.notify.models import Channel, Notification, OutboxMessage
from linli.testing.clients import client_for
from linli.volunteers.models import Volunteer, VolunteerOrigin, VolunteerStatus
from linli.volunteers.services import volunteer_review, volunteer_signup
from linli.volunteers.tests.conftest import register

# A Thursday morning in Shanghai: every test here runs at this moment.
NOW = datetime(2026, 3, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NEW_PHONE = "13500001234"
ADDRESS = "203.0.113.7"
JOIN = "/volunteers/join/"
SIGNUP = "/volunteers/signup/"
WELCOME = "You are signed in. Now tell us how you would like to help."


@pytest.fixture(autouse=True)
def _site_language_english(settings):
    # Messages are stored in the site's language; these tests read them in English.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _code_settings(settings):
    # Codes as often as the tests ask for them (linli.signin's own tests check its limits).
    settings.LINLI_PHONE_CODE_RESEND_SECONDS = 0
    settings.LINLI_PHONE_CODES_PER_NUMBER_HOUR = 1000
    settings.LINLI_PHONE_CODES_PER_ADDRESS_HOUR = 1000


def last_code(phone: str) -> str:
    message = Notification.objects.filter(address=phone, kind="phone_code").latest("id")
    return re.search(r"(?<!\d)(\d{6})(?!\d)", message.title).group(1)


def ask_code(client, phone: str = NEW_PHONE):
    answer = client.post(JOIN, {"action": "code", "phone": phone}, REMOTE_ADDR=ADDRESS)
    assert answer.status_code == 200, answer.content
    return answer


def join(client, *, phone: str = NEW_PHONE, name: str = "孙志愿", code: str | None = None):
    """The page as a phone sends it: "send me a code", then "continue" with the code."""
    ask_code(client, phone)
    data = {"action": "join", "phone": phone, "name": name, "code": code or last_code(phone)}
    return client.post(JOIN, data, REMOTE_ADDR=ADDRESS)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def outside_signup(client, community, **extra):
    data = {
        "grid_unit": str(community.pk),
        "name": "孙志愿",
        "work_unit": "区卫生健康委员会",
        "party_organisation": "区卫生健康委员会机关党支部",
        "party_member_type": "in_service",
        "skills": ["medical"],
        "willingness": ["medical_support"],
        "availability": ["thu_pm"],
        **extra,
    }
    return client.post(SIGNUP, data)


# The page and its links ---------------------------------------------------------------------


def test_join_page_is_public_and_linked_from_login_and_signup(world):
    page = client_for(None).get(JOIN)
    assert page.status_code == 200
    assert 'data-testid="volunteer-join"' in page.content.decode()
    login_page = client_for(None).get(reverse(settings.LOGIN_URL)).content.decode()
    assert f'href="{JOIN}" data-testid="volunteer-join-link"' in login_page
    signup_page = client_for(world.users[Role.PARTNER_LIAISON]).get(SIGNUP).content.decode()
    assert f'<a href="{JOIN}">Register as a volunteer</a>' in signup_page


def test_sending_a_code_checks_the_phone_alone(world):
    client = client_for(None)
    answer = client.post(JOIN, {"action": "code", "phone": "12345"})
    assert answer.status_code == 400
    assert 'id="id_phone_errors"' in answer.content.decode()
    assert "Enter an 11-digit mainland mobile number" in answer.content.decode()
    assert not Notification.objects.exists()
    answer = ask_code(client)
    assert "135****1234" in answer.content.decode()
    assert Notification.objects.filter(address=NEW_PHONE, kind="phone_code").count() == 1


# Who gets which login -------------------------------------------------------------------------


def test_a_new_number_gets_a_login_without_password_and_lands_on_the_signup_form(world):
    client = client_for(None)
    answer = join(client, name="  孙  志愿 ")
    assert (answer.status_code, answer["Location"]) == (302, SIGNUP)
    assert messages_of(answer) == [WELCOME]
    user = User.objects.get(phone=NEW_PHONE)
    assert (user.username, user.display_name, user.has_usable_password()) == (
        NEW_PHONE,
        "孙 志愿",
        False,
    )
    assert signed_in_user(client) == user
    entry = AuditEntry.objects.get(object_type="user", object_id=str(user.pk))
    assert (entry.actor, entry.action, entry.reason_code, entry.ip_address) == (
        user,
        "create",
        "volunteer_self_registration",
        ADDRESS,
    )
    assert entry.changes == {"name": "孙 志愿", "phone": "135****1234"}
    # The form knows the name and number given.
    form = client.get(SIGNUP).content.decode()
    assert 'value="孙 志愿"' in form and f'value="{NEW_PHONE}"' in form


def test_an_existing_account_of_the_number_signs_in_with_the_same_words(world):
    known = User.objects.create_user(username="sun", phone=NEW_PHONE, display_name="孙老师")
    client = client_for(None)
    answer = join(client, name="另一个名字")
    assert (answer.status_code, answer["Location"]) == (302, SIGNUP)
    assert messages_of(answer) == [WELCOME]
    assert signed_in_user(client) == known
    assert User.objects.filter(phone=NEW_PHONE).count() == 1
    known.refresh_from_db()
    assert known.display_name == "孙老师"
    assert not AuditEntry.objects.filter(object_type="user", action="create").exists()


def test_the_code_page_reads_the_same_for_a_known_and_an_unknown_number(world):
    User.objects.create_user(username="sun", phone=NEW_PHONE)
    known = ask_code(client_for(None), NEW_PHONE).content.decode()
    unknown = ask_code(client_for(None), "13500009999").content.decode()
    # Told apart only by the number typed and the CSRF tokens.
    differing = re.compile(r"1[0-9]{2}(?:\*{4}|[0-9]{4})[0-9]{4}|[A-Za-z0-9]{64}")
    assert differing.sub("", known) == differing.sub("", unknown)


def test_a_signed_in_person_goes_straight_to_the_signup_form(world):
    answer = client_for(world.users[Role.RESIDENT]).get(JOIN)
    assert (answer.status_code, answer["Location"]) == (302, SIGNUP)


def test_a_number_two_accounts_share_is_refused_after_the_right_code(world):
    User.objects.create_user(username="one", phone=NEW_PHONE)
    User.objects.create_user(username="two", phone=NEW_PHONE)
    client = client_for(None)
    answer = join(client)
    assert answer.status_code == 400
    assert "More than one account uses this number." in answer.content.decode()
    assert signed_in_user(client) is None
    assert User.objects.count() == len(Role.values) + 2


def test_a_switched_off_login_is_not_replaced_by_a_new_one(world):
    User.objects.create_user(username="old", phone=NEW_PHONE, is_active=False)
    client = client_for(None)
    answer = join(client)
    assert answer.status_code == 400
    assert "The login of this number was switched off." in answer.content.decode()
    assert User.objects.filter(phone=NEW_PHONE).count() == 1
    assert signed_in_user(client) is None


# Bad input: the field is named, nothing is written --------------------------------------------


def test_a_wrong_code_is_refused_at_its_field_and_writes_nothing(world):
    client = client_for(None)
    ask_code(client)
    wrong = f"{(int(last_code(NEW_PHONE)) + 1) % 1_000_000:06d}"
    answer = client.post(
        JOIN, {"action": "join", "phone": NEW_PHONE, "name": "孙志愿", "code": wrong}
    )
    assert answer.status_code == 400
    assert 'id="id_code_errors"' in answer.content.decode()
    assert "That code is wrong or no longer valid." in answer.content.decode()
    assert not User.objects.filter(phone=NEW_PHONE).exists()
    assert signed_in_user(client) is None


def test_an_expired_code_is_refused(world, _pinned_clock):
    client = client_for(None)
    ask_code(client)
    code = last_code(NEW_PHONE)
    _pinned_clock.shift(timedelta(seconds=settings.LINLI_PHONE_CODE_TTL_SECONDS + 1))
    answer = client.post(
        JOIN, {"action": "join", "phone": NEW_PHONE, "name": "孙志愿", "code": code}
    )
    assert answer.status_code == 400
    assert "That code is wrong or no longer valid." in answer.content.decode()
    assert not User.objects.filter(phone=NEW_PHONE).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"phone": "12345", "name": "孙志愿", "code": "123456"}, "phone", "11-digit"),
        ({"phone": NEW_PHONE, "name": " ", "code": "123456"}, "name", "Write your name."),
        ({"phone": NEW_PHONE, "name": "孙" * 51, "code": "123456"}, "name", "at most 50"),
        ({"phone": NEW_PHONE, "name": "孙志愿", "code": ""}, "code", "Enter the code"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, data, field, message):
    audited = AuditEntry.objects.count()
    answer = client_for(None).post(JOIN, {"action": "join", **data})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert f'id="id_{field}_errors"' in text
    assert message in text
    assert User.objects.count() == len(Role.values)
    assert AuditEntry.objects.count() == audited


def test_a_party_organisation_too_long_is_refused_at_its_field(world):
    client = client_for(None)
    join(client)
    answer = outside_signup(client, world.community, party_organisation="党" * 101)
    assert answer.status_code == 400
    assert "The party organisation has at most 100 characters." in answer.content.decode()
    assert 'id="id_party_organisation_errors"' in answer.content.decode()
    assert not Volunteer.objects.exists()
    assert not Notification.objects.filter(kind="volunteer_applied").exists()


# From registration to membership --------------------------------------------------------------


def test_an_outside_volunteer_is_a_member_only_once_the_secretary_approves(world):
    client = client_for(None)
    join(client)
    user = User.objects.get(phone=NEW_PHONE)
    answer = outside_signup(client, world.community)
    volunteer = Volunteer.objects.get()
    assert (answer.status_code, answer["Location"]) == (
        302,
        reverse("volunteers:detail", args=[volunteer.pk]),
    )
    assert (
        volunteer.user,
        volunteer.origin,
        volunteer.status,
        volunteer.work_unit,
        volunteer.party_organisation,
        volunteer.party_member_type,
    ) == (
        user,
        VolunteerOrigin.OUTSIDE,
        VolunteerStatus.APPLIED,
        "区卫生健康委员会",
        "区卫生健康委员会机关党支部",
        "in_service",
    )
    assert member_community_ids(user=User.objects.get(pk=user.pk)) == []

    volunteer_review(actor=world.users[Role.SECRETARY], volunteer=volunteer, approve=True)
    assert member_community_ids(user=User.objects.get(pk=user.pk)) == [world.community.pk]
    # The volunteer post: shown on their pages, and the login among the area's logins.
    assert list(
        RoleAssignment.objects.filter(user=user).values_list("role", "post", "grid_unit")
    ) == [(Role.VOLUNTEER, "volunteer", world.community.pk)]
    from linli.logins.selectors import logins_visible

    assert logins_visible(user=world.users[Role.SECRETARY]).filter(pk=user.pk).exists()


def test_the_secretaries_of_the_chosen_community_hear_in_app_that_an_application_waits(world):
    second = User.objects.create_user(username="second_secretary")
    role_assign(user=second, role=Role.SECRETARY, grid_unit=world.community)
    elsewhere = User.objects.create_user(username="c_secretary", phone="13900000000")
    role_assign(user=elsewhere, role=Role.SECRETARY, grid_unit=world.other_community)
    client = client_for(None)
    join(client)
    outside_signup(client, world.community)
    notes = Notification.objects.filter(kind="volunteer_applied").order_by("recipient_id")
    assert [note.recipient for note in notes] == [world.users[Role.SECRETARY], second]
    note = notes[0]
    assert note.title == "孙志愿 applied to volunteer in A社区: please review"
    assert note.link == "/volunteers/?status=applied"
    assert list(
        OutboxMessage.objects.filter(notification__kind="volunteer_applied").values_list(
            "channel", flat=True
        )
    ) == [Channel.INAPP, Channel.INAPP]


def test_staff_registering_a_volunteer_tell_no_secretary(world):
    register(world, approve=False)
    assert not Notification.objects.filter(kind="volunteer_applied").exists()


def test_the_applicant_hears_of_the_approval_by_sms_and_in_app(world):
    client = client_for(None)
    join(client)
    outside_signup(client, world.community)
    volunteer = Volunteer.objects.get()
    volunteer_review(actor=world.users[Role.SECRETARY], volunteer=volunteer, approve=True)
    note = Notification.objects.get(kind="volunteer_reviewed")
    assert (note.recipient.phone, note.title, note.body, note.link) == (
        NEW_PHONE,
        "Linli: your volunteer application to A社区 is approved. Welcome!",
        "",
        reverse("volunteers:detail", args=[volunteer.pk]),
    )
    assert sorted(note.outbox_messages.values_list("channel", flat=True)) == sorted(
        [Channel.INAPP, Channel.SMS]
    )


def test_a_rejected_applicant_reads_the_reason(world):
    client = client_for(None)
    join(client)
    outside_signup(client, world.community)
    volunteer = Volunteer.objects.get()
    volunteer_review(
        actor=world.users[Role.SECRETARY],
        volunteer=volunteer,
        approve=False,
        note="请先到社区党委报到",
    )
    note = Notification.objects.get(kind="volunteer_reviewed")
    assert (note.title, note.body) == (
        "Linli: your volunteer application to A社区 was not approved",
        "请先到社区党委报到",
    )
    assert member_community_ids(user=User.objects.get(phone=NEW_PHONE)) == []


def test_a_volunteer_without_a_login_hears_nothing(world):
    register(world, approve=True)
    assert not Notification.objects.filter(kind="volunteer_reviewed").exists()


def test_the_party_organisation_shows_on_the_profile_for_staff(world):
    volunteer = volunteer_signup(
        actor=world.users[Role.SECRETARY],
        grid_unit=world.community,
        name="周医生",
        work_unit="市第一人民医院",
        party_organisation="  市第一人民医院   党委 ",
        party_member_type="in_service",
        skills=[],
        willingness=[],
        availability=[],
    )
    assert volunteer.party_organisation == "市第一人民医院 党委"
    page = client_for(world.users[Role.SECRETARY]).get(
        reverse("volunteers:detail", args=[volunteer.pk])
    )
    assert '<span data-testid="party-organisation">市第一人民医院 党委</span>' in (
        page.content.decode()
    )


# Who reaches the page -------------------------------------------------------------------------

ROLES = [
    "anonymous",
    Role.STREET_ADMIN,
    Role.SECRETARY,
    Role.MICRO_GRID_LEAD,
    Role.BUILDING_GROUP_LEADER,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.RESIDENT,
]
# Everyone signed in is sent on to the sign-up form (which sends a volunteer on to their
# profile); only the anonymous person sees the page and gets a code.
EXPECTED = dict.fromkeys(ROLES, (302, SIGNUP)) | {"anonymous": (200, None)}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_role_route_matrix(world, role, method):
    client = client_for(world.users[role])
    if method == "get":
        answer = client.get(JOIN)
    else:
        answer = client.post(JOIN, {"action": "code", "phone": NEW_PHONE})
    assert (answer.status_code, answer.get("Location")) == EXPECTED[role]
    sent = Notification.objects.filter(address=NEW_PHONE, kind="phone_code").count()
    assert sent == (1 if role == "anonymous" and method == "post" else 0)
    assert User.objects.count() == len(Role.values)
