"""A partner liaison joins by an invitation link from the partner unit's page: staff create it
(shown once, with a QR code), list and revoke it; whoever opens it proves a phone and becomes
the unit's liaison. A dead link reads the same whatever killed it."""

import hashlib
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.urls import reverse

from linli.accounts.models import AuditEntry, User
from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.grids.membership import member_community_ids
from linli.grids.models import RoleAssignment
from linli.grids.services import role_assign, role_revoke
from linli.notify.models import Notification
from linli.partners.models import LiaisonInvitation, Partner, PartnerLiaison
from linli.partners.services import liaison_link, partner_create, partner_of
from linli.partners.services.liaison_invitations import (
    liaison_invitation_accept,
    liaison_invitation_create,
    liaison_invitation_revoke,
)
from linli.signin.services import phone_code_request
from linli.testing.clients import client_for

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SITE = "https://linli.example.cn"
NEW_PHONE = "13500001234"
ADDRESS = "203.0.113.8"
INVALID_TEXT = "This link has expired, was already used or was withdrawn."


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.LINLI_PHONE_CODE_RESEND_SECONDS = 0
    settings.LINLI_PHONE_CODES_PER_NUMBER_HOUR = 1000
    settings.LINLI_PHONE_CODES_PER_ADDRESS_HOUR = 1000
    settings.LINLI_SITE_URL = SITE


@pytest.fixture
def court(world) -> Partner:
    """A partner unit of community A; the world's liaison login acts for it."""
    partner = partner_create(
        actor=world.users[Role.SECRETARY],
        community=world.community,
        name="静安区人民法院",
        partner_type="court",
    )
    liaison_link(
        actor=world.users[Role.SECRETARY], partner=partner, user=world.users[Role.PARTNER_LIAISON]
    )
    return partner


@pytest.fixture
def library(world) -> Partner:
    return partner_create(
        actor=world.users[Role.SECRETARY],
        community=world.community,
        name="区图书馆",
        partner_type="government",
    )


def invite(world, partner: Partner, days=14):
    return liaison_invitation_create(actor=world.users[Role.SECRETARY], partner=partner, days=days)


def token_of(url: str) -> str:
    return re.search(r"/partners/join/([^/]+)/$", url).group(1)


def join_path(token: str) -> str:
    return reverse("partners:liaison_join", args=[token])


def last_code(phone: str) -> str:
    message = Notification.objects.filter(address=phone, kind="phone_code").latest("id")
    return re.search(r"(?<!\d)(\d{6})(?!\d)", message.title).group(1)


def web_join(client, token: str, *, phone: str = NEW_PHONE, name: str = "钱联络", code=None):
    """The link's page as a phone sends it: "send me a code", then "join" with the code."""
    answer = client.post(join_path(token), {"action": "code", "phone": phone}, REMOTE_ADDR=ADDRESS)
    assert answer.status_code == 200, answer.content
    data = {"action": "join", "phone": phone, "name": name, "code": code or last_code(phone)}
    return client.post(join_path(token), data, REMOTE_ADDR=ADDRESS)


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def body(answer) -> str:
    """The page without what differs between any two answers: the CSRF tokens, and the
    page's own address (the language switch returns to it)."""
    return re.sub(r"[A-Za-z0-9]{64}|/partners/join/[^/\"]+/", "", answer.content.decode())


# Staff create, see and revoke links -----------------------------------------------------------


def test_staff_create_a_link_shown_once_with_a_qr_code_and_stored_as_a_hash(world, library):
    answer = client_for(world.users[Role.SECRETARY]).post(
        reverse("partners:liaison_invitation_create", args=[library.pk]), {"days": "14"}
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    url = re.search(r'id="id_invitation_url" value="([^"]+)"', html).group(1)
    assert url.startswith(f"{SITE}/partners/join/")
    assert 'class="segno"' in html
    assert "<script" not in html.split('data-testid="invitation-qr"')[1].split("</div>")[0]
    invitation = LiaisonInvitation.objects.get()
    token = token_of(url)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(LiaisonInvitation.objects.values().get())
    assert (invitation.partner, invitation.created_by, invitation.created_at) == (
        library,
        world.users[Role.SECRETARY],
        NOW,
    )
    assert invitation.expires_at == NOW + timedelta(days=14)
    entry = AuditEntry.objects.get(object_type="liaison_invitation")
    assert (entry.actor, entry.action, entry.changes, entry.grid_path) == (
        world.users[Role.SECRETARY],
        "create",
        {"days": 14},
        library.grid_path,
    )
    # The partner's page lists it, and never shows the link again.
    page = client_for(world.users[Role.SECRETARY]).get(
        reverse("partners:partner_detail", args=[library.pk])
    )
    text = page.content.decode()
    assert f'data-testid="invitation-{invitation.pk}"' in text
    assert "open until 2026-03-26 10:00" in text and "By secretary, 2026-03-12 10:00" in text
    assert token not in text


def test_an_empty_days_box_means_fourteen_days(world, library):
    client_for(world.users[Role.SECRETARY]).post(
        reverse("partners:liaison_invitation_create", args=[library.pk]), {"days": ""}
    )
    assert LiaisonInvitation.objects.get().expires_at == NOW + timedelta(days=14)


@pytest.mark.parametrize("days", ["0", "91", "abc", "-3", "1.5"])
def test_days_out_of_range_are_refused_at_the_field_and_nothing_is_written(world, library, days):
    audited = AuditEntry.objects.count()
    answer = client_for(world.users[Role.SECRETARY]).post(
        reverse("partners:liaison_invitation_create", args=[library.pk]), {"days": days}
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'id="id_days_errors"' in html
    assert "Give a whole number of days from 1 to 90." in html
    assert not LiaisonInvitation.objects.exists()
    assert AuditEntry.objects.count() == audited


def test_the_list_shows_who_used_a_link_and_leaves_out_revoked_and_expired_ones(
    world, library, _pinned_clock
):
    used = invite(world, library)
    liaison_invitation_accept(
        token=used.token, phone=NEW_PHONE, code=_code(NEW_PHONE), name="钱联络"
    )
    revoked = invite(world, library)
    liaison_invitation_revoke(actor=world.users[Role.SECRETARY], invitation=revoked.invitation)
    expired = invite(world, library, days=1)
    _pinned_clock.shift(timedelta(days=1, seconds=1))
    open_one = invite(world, library)
    page = client_for(world.users[Role.STREET_ADMIN]).get(
        reverse("partners:partner_detail", args=[library.pk])
    )
    listed = re.findall(r'data-testid="invitation-(\d+)"', page.content.decode())
    assert listed == [str(open_one.invitation.pk), str(used.invitation.pk)]
    assert "used by 钱联络, 2026-03-12 10:00" in page.content.decode()
    assert str(expired.invitation.pk) not in listed


def test_only_staff_who_manage_the_unit_see_the_invitations(world, court):
    invite(world, court)
    for role, shown in [
        (Role.STREET_ADMIN, True),
        (Role.SECRETARY, True),
        (Role.MICRO_GRID_LEAD, False),
        (Role.PARTNER_LIAISON, False),
    ]:
        page = client_for(world.users[role]).get(
            reverse("partners:partner_detail", args=[court.pk])
        )
        assert page.status_code == 200
        assert ('data-testid="liaison-invitations"' in page.content.decode()) is shown, role


def test_revoking_stops_the_link_and_is_audited(world, library):
    issued = invite(world, library)
    answer = client_for(world.users[Role.SECRETARY]).post(
        reverse("partners:liaison_invitation_revoke", args=[library.pk, issued.invitation.pk])
    )
    assert (answer.status_code, answer["Location"]) == (
        302,
        reverse("partners:partner_detail", args=[library.pk]),
    )
    issued.invitation.refresh_from_db()
    assert (issued.invitation.revoked_by, issued.invitation.revoked_at) == (
        world.users[Role.SECRETARY],
        NOW,
    )
    assert AuditEntry.objects.filter(
        object_type="liaison_invitation", action="update", field="revoked_at"
    ).exists()
    page = client_for(None).get(join_path(issued.token))
    assert page.status_code == 404 and INVALID_TEXT in page.content.decode()


def test_a_used_link_cannot_be_revoked(world, library):
    issued = invite(world, library)
    liaison_invitation_accept(
        token=issued.token, phone=NEW_PHONE, code=_code(NEW_PHONE), name="钱联络"
    )
    answer = client_for(world.users[Role.SECRETARY]).post(
        reverse("partners:liaison_invitation_revoke", args=[library.pk, issued.invitation.pk])
    )
    assert answer.status_code == 409
    assert "This invitation was already used." in answer.content.decode()
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is None


# The person who opens the link ----------------------------------------------------------------


def _code(phone: str) -> str:
    phone_code_request(phone=phone, purpose="register", address=ADDRESS)
    return last_code(phone)


def test_a_new_number_becomes_the_units_liaison_and_is_signed_in(world, library):
    issued = invite(world, library)
    client = client_for(None)
    page = client.get(join_path(issued.token))
    assert page.status_code == 200
    assert "区图书馆 · A社区" in page.content.decode()
    answer = web_join(client, issued.token)
    assert (answer.status_code, answer["Location"]) == (
        302,
        reverse("partners:partner_detail", args=[library.pk]),
    )
    user = User.objects.get(phone=NEW_PHONE)
    assert (user.username, user.display_name, user.has_usable_password()) == (
        NEW_PHONE,
        "钱联络",
        False,
    )
    assert signed_in_user(client) == user
    assert PartnerLiaison.objects.get(user=user).partner == library
    post = RoleAssignment.objects.get(user=user)
    assert (post.role, post.post, post.grid_unit) == (
        Role.PARTNER_LIAISON,
        "partner_liaison",
        world.community,
    )
    assert partner_of(User.objects.get(pk=user.pk)) == library
    assert member_community_ids(user=User.objects.get(pk=user.pk)) == [world.community.pk]
    issued.invitation.refresh_from_db()
    assert (issued.invitation.used_by, issued.invitation.used_at) == (user, NOW)
    entries = AuditEntry.objects.filter(actor=user).order_by("id")
    assert [(e.action, e.object_type, e.reason_code) for e in entries] == [
        ("create", "user", "liaison_invitation"),
        ("role_grant", "role_assignment", "liaison_invitation"),
        ("link", "partner_liaison", "liaison_invitation"),
    ]
    assert entries[2].reason == "Joined by an invitation link from secretary"
    # Their unit's page is theirs now.
    assert client.get(reverse("partners:partner_detail", args=[library.pk])).status_code == 200


def test_an_existing_account_of_the_number_becomes_the_liaison(world, library):
    known = User.objects.create_user(username="qian", phone=NEW_PHONE, display_name="钱老师")
    issued = invite(world, library)
    client = client_for(None)
    answer = web_join(client, issued.token, name="别的名字")
    assert answer.status_code == 302
    assert signed_in_user(client) == known
    assert PartnerLiaison.objects.get(user=known).partner == library
    assert User.objects.filter(phone=NEW_PHONE).count() == 1
    known.refresh_from_db()
    assert known.display_name == "钱老师"


def test_a_liaison_of_another_unit_is_refused_naming_it_and_nothing_is_written(
    world, court, library
):
    liaison = world.users[Role.PARTNER_LIAISON]
    liaison.phone = NEW_PHONE
    liaison.save(update_fields=["phone"])
    issued = invite(world, library)
    audited = AuditEntry.objects.count()
    posts = RoleAssignment.objects.count()
    client = client_for(None)
    answer = web_join(client, issued.token)
    assert answer.status_code == 409
    assert (
        "Your login already acts for 静安区人民法院, and a login acts for one partner unit only."
        in answer.content.decode()
    )
    assert PartnerLiaison.objects.get(user=liaison).partner == court
    assert RoleAssignment.objects.count() == posts
    assert AuditEntry.objects.count() == audited
    issued.invitation.refresh_from_db()
    assert issued.invitation.used_at is None
    assert signed_in_user(client) is None


def test_a_wrong_code_is_refused_at_its_field_and_the_link_stays_open(world, library):
    issued = invite(world, library)
    client = client_for(None)
    client.post(join_path(issued.token), {"action": "code", "phone": NEW_PHONE})
    wrong = f"{(int(last_code(NEW_PHONE)) + 1) % 1_000_000:06d}"
    answer = client.post(
        join_path(issued.token),
        {"action": "join", "phone": NEW_PHONE, "name": "钱联络", "code": wrong},
    )
    assert answer.status_code == 400
    assert 'id="id_code_errors"' in answer.content.decode()
    assert not User.objects.filter(phone=NEW_PHONE).exists()
    assert not PartnerLiaison.objects.filter(partner=library).exists()
    issued.invitation.refresh_from_db()
    assert issued.invitation.used_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phone": "12345", "name": "钱联络", "code": "123456"}, "phone"),
        ({"phone": NEW_PHONE, "name": "", "code": "123456"}, "name"),
        ({"phone": NEW_PHONE, "name": "钱" * 51, "code": "123456"}, "name"),
        ({"phone": NEW_PHONE, "name": "钱联络", "code": " "}, "code"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, library, data, field):
    issued = invite(world, library)
    audited, users = AuditEntry.objects.count(), User.objects.count()
    answer = client_for(None).post(join_path(issued.token), {"action": "join", **data})
    assert answer.status_code == 400
    assert f'id="id_{field}_errors"' in answer.content.decode()
    assert (AuditEntry.objects.count(), User.objects.count()) == (audited, users)
    assert not PartnerLiaison.objects.filter(partner=library).exists()


def test_used_expired_revoked_and_unknown_links_read_alike(world, library, _pinned_clock):
    used = invite(world, library)
    web_join(client_for(None), used.token)
    revoked = invite(world, library)
    liaison_invitation_revoke(actor=world.users[Role.SECRETARY], invitation=revoked.invitation)
    expiring = invite(world, library, days=1)
    unknown = "A" * 32
    _pinned_clock.shift(timedelta(hours=23, minutes=59))
    assert client_for(None).get(join_path(expiring.token)).status_code == 200
    _pinned_clock.shift(timedelta(minutes=1))
    answers = [
        client_for(None).get(join_path(token))
        for token in (used.token, revoked.token, expiring.token, unknown, "short")
    ]
    assert {answer.status_code for answer in answers} == {404}
    assert INVALID_TEXT in answers[0].content.decode()
    assert len({body(answer) for answer in answers}) == 1


def test_a_link_stops_working_when_its_maker_loses_the_post(world, library):
    issued = invite(world, library)
    post = RoleAssignment.objects.get(user=world.users[Role.SECRETARY])
    role_revoke(assignment=post, revoked_by=world.users[Role.STREET_ADMIN])
    assert client_for(None).get(join_path(issued.token)).status_code == 404


def test_a_link_is_good_once_even_for_the_same_person_twice(world, library):
    issued = invite(world, library)
    client = client_for(None)
    assert web_join(client, issued.token).status_code == 302
    again = client_for(None).post(
        join_path(issued.token),
        {"action": "join", "phone": NEW_PHONE, "name": "钱联络", "code": _code(NEW_PHONE)},
    )
    assert again.status_code == 404 and INVALID_TEXT in again.content.decode()
    assert PartnerLiaison.objects.filter(partner=library).count() == 1


# Who reaches which route ----------------------------------------------------------------------

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
LOGIN = "login"
# Creating and revoking: staff who manage partners over the unit; those who see the unit but
# may not manage it (the micro-grid lead reads partners, the liaison their own unit) are
# refused; anyone else finds nothing; the anonymous person is sent to log in.
MANAGE_EXPECTED = {
    "anonymous": LOGIN,
    Role.STREET_ADMIN: "ok",
    Role.SECRETARY: "ok",
    Role.MICRO_GRID_LEAD: 403,
    Role.BUILDING_GROUP_LEADER: 404,
    Role.VOLUNTEER: 404,
    Role.PARTNER_LIAISON: 403,
    Role.RESIDENT: 404,
}


def _outcome(answer, ok_status: int):
    if answer.status_code == 302 and answer["Location"].startswith(reverse(settings.LOGIN_URL)):
        return LOGIN
    return "ok" if answer.status_code == ok_status else answer.status_code


@pytest.mark.parametrize("role", ROLES)
def test_create_route_matrix(world, court, role):
    audited = AuditEntry.objects.count()
    answer = client_for(world.users[role]).post(
        reverse("partners:liaison_invitation_create", args=[court.pk]), {"days": "7"}
    )
    assert _outcome(answer, 200) == MANAGE_EXPECTED[role]
    made = 1 if MANAGE_EXPECTED[role] == "ok" else 0
    assert LiaisonInvitation.objects.count() == made
    assert AuditEntry.objects.count() == audited + made


@pytest.mark.parametrize("role", ROLES)
def test_revoke_route_matrix(world, court, role):
    issued = invite(world, court)
    audited = AuditEntry.objects.count()
    answer = client_for(world.users[role]).post(
        reverse("partners:liaison_invitation_revoke", args=[court.pk, issued.invitation.pk])
    )
    assert _outcome(answer, 302) == MANAGE_EXPECTED[role]
    issued.invitation.refresh_from_db()
    revoked = MANAGE_EXPECTED[role] == "ok"
    assert (issued.invitation.revoked_at is not None) is revoked
    assert AuditEntry.objects.count() == audited + (1 if revoked else 0)


def test_an_invitation_of_another_unit_is_not_found_under_this_one(world, court, library):
    issued = invite(world, library)
    answer = client_for(world.users[Role.SECRETARY]).post(
        reverse("partners:liaison_invitation_revoke", args=[court.pk, issued.invitation.pk])
    )
    assert answer.status_code == 404
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is None


def test_staff_of_another_community_find_no_unit(world, court):
    other_secretary = User.objects.create_user(username="c_secretary")
    role_assign(user=other_secretary, role=Role.SECRETARY, grid_unit=world.other_community)
    answer = client_for(other_secretary).post(
        reverse("partners:liaison_invitation_create", args=[court.pk]), {"days": "7"}
    )
    assert answer.status_code == 404
    assert not LiaisonInvitation.objects.exists()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_link_is_public_for_every_role(world, library, role, method):
    issued = invite(world, library)
    client = client_for(world.users[role])
    if method == "get":
        answer = client.get(join_path(issued.token))
    else:
        answer = client.post(join_path(issued.token), {"action": "code", "phone": NEW_PHONE})
    assert answer.status_code == 200
    assert 'data-testid="liaison-join"' in answer.content.decode()
    assert Notification.objects.filter(address=NEW_PHONE, kind="phone_code").count() == (
        1 if method == "post" else 0
    )
    assert not PartnerLiaison.objects.filter(partner=library).exists()


@pytest.mark.parametrize("route", ["liaison_invitation_create", "liaison_invitation_revoke"])
def test_staff_routes_take_no_get(world, court, route):
    issued = invite(world, court)
    args = [court.pk] if route.endswith("create") else [court.pk, issued.invitation.pk]
    answer = client_for(world.users[Role.SECRETARY]).get(reverse(f"partners:{route}", args=args))
    assert answer.status_code == 405


# Two people, one link ---------------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
@pytest.mark.django_db(transaction=True)
def test_one_link_used_twice_at_once_makes_one_liaison():
    world = build_world()
    library = partner_create(
        actor=world.users[Role.SECRETARY],
        community=world.community,
        name="区图书馆",
        partner_type="government",
    )
    issued = invite(world, library)
    phones = ["13500001111", "13500002222"]
    codes = {phone: _code(phone) for phone in phones}
    outcomes: list[str] = []

    def use(phone):
        def action():
            liaison_invitation_accept(
                token=issued.token, phone=phone, code=codes[phone], name="同时"
            )
            outcomes.append(phone)

        return action

    errors = run_together(*(use(phone) for phone in phones))
    assert len(outcomes) == 1 and len(errors) == 1
    # The refusal names the link (its words are in the site's language: a thread has no
    # request to take one from).
    assert list(errors[0].message_dict) == ["token"]
    assert PartnerLiaison.objects.filter(partner=library).count() == 1
    issued.invitation.refresh_from_db()
    assert issued.invitation.used_by.phone == outcomes[0]
