"""The trial page of SMS messages (/signin/trial-messages/): only a street administrator
reads it; it lists what waits in the outbox from the last 24 hours while no gateway is
configured, under the trial banner, and nothing once one is."""

from datetime import timedelta

import pytest
import time_machine

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.notify.models import Channel, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.signin.models import PhoneCodePurpose
from linli.signin.services import phone_code_request
from linli.signin.tests.support import KNOWN, NOON, UNKNOWN, last_code
from linli.testing.clients import client_for

TRIAL = "/signin/trial-messages/"
ROLES = [
    "anonymous",
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    Role.STREET_ADMIN,
]
# Written out by hand: the street administrator reads it, everyone else is told it is not
# there; the anonymous visitor is asked to log in first.
EXPECTED = {
    "anonymous": 302,
    Role.RESIDENT: 404,
    Role.VOLUNTEER: 404,
    Role.PARTNER_LIAISON: 404,
    Role.BUILDING_GROUP_LEADER: 404,
    Role.MICRO_GRID_LEAD: 404,
    Role.SECRETARY: 404,
    Role.STREET_ADMIN: 200,
}


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def waiting(world, clock):
    """A login code for 张桂英's number and a registration code for a new one."""
    resident = world.users[Role.RESIDENT]
    resident.phone = KNOWN
    resident.save(update_fields=["phone"])
    phone_code_request(phone=KNOWN, purpose=PhoneCodePurpose.LOGIN, address="127.0.0.1")
    clock.shift(timedelta(minutes=1))
    phone_code_request(phone=UNKNOWN, purpose=PhoneCodePurpose.REGISTER, address="127.0.0.1")
    return world


@pytest.mark.parametrize("role", ROLES)
def test_only_the_street_administrator_reads_the_trial_page(waiting, role):
    response = client_for(waiting.users[role]).get(TRIAL)
    assert response.status_code == EXPECTED[role]
    if role == "anonymous":
        assert response["Location"] == f"/login/?next={TRIAL}"
    if response.status_code == 404:
        assert last_code(KNOWN) not in response.content.decode()


def test_a_superuser_reads_it_too(waiting, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x-long-password-1")
    assert client_for(root).get(TRIAL).status_code == 200


def test_the_page_lists_waiting_sms_newest_first_under_the_trial_banner(waiting):
    page = client_for(waiting.users[Role.STREET_ADMIN]).get(TRIAL).content.decode()
    assert 'data-testid="trial-banner"' in page
    assert "Trial setting: SMS messages do not leave this machine" in page
    assert "Production must configure LINLI_SMS_GATEWAY_URL." in page
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert [row.split("</td>")[0] for row in rows] == [
        '<td class="masked nowrap">139****4321',
        '<td class="masked nowrap">138****1234',
    ]
    assert f"Linli: your login code is {last_code(KNOWN)}, valid for 5 minutes." in rows[1]
    assert "2027-03-15 12:01:00" in rows[0] and "2027-03-15 12:00:00" in rows[1]


def test_sent_messages_and_those_older_than_a_day_are_not_listed(waiting, clock):
    OutboxMessage.objects.filter(notification__address=UNKNOWN).update(
        status=OutboxStatus.SENT, sent_at=NOON
    )
    clock.shift(timedelta(hours=24) - timedelta(seconds=30))
    page = client_for(waiting.users[Role.STREET_ADMIN]).get(TRIAL).content.decode()
    assert "138****1234" not in page and "139****4321" not in page
    assert 'data-testid="trial-empty"' in page


def test_sms_to_people_with_a_login_are_listed_at_their_number(world, clock):
    volunteer = make_user("lin")
    volunteer.phone = "13700007777"
    volunteer.save(update_fields=["phone"])
    notification_send(
        recipients=[volunteer], kind="test", title="Thursday action day", channels=(Channel.SMS,)
    )
    page = client_for(world.users[Role.STREET_ADMIN]).get(TRIAL).content.decode()
    assert "137****7777" in page and "Thursday action day" in page


def test_with_a_gateway_configured_the_page_says_so_and_lists_nothing(waiting, settings):
    settings.LINLI_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    page = client_for(waiting.users[Role.STREET_ADMIN]).get(TRIAL).content.decode()
    assert 'data-testid="gateway-configured"' in page
    assert 'data-testid="trial-banner"' not in page
    assert "138****1234" not in page and last_code(KNOWN) not in page


def test_the_street_administrator_gets_the_link_on_the_code_page(waiting):
    browser = client_for(waiting.users[Role.STREET_ADMIN])
    session = browser.session
    session["linli_signin"] = {"reset_phone": KNOWN}
    session.save()
    page = browser.get("/signin/reset/code/").content.decode()
    assert f'<a href="{TRIAL}" data-testid="trial-link">Trial messages</a>' in page
