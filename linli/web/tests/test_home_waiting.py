"""The home page says what waits for the person today: registrations to approve, messages
from residents to file, and (in the trial setting) where the sign-in codes are."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.inbound.services import inbound_receive
from linli.testing.clients import client_for


def test_a_secretary_sees_the_messages_waiting_to_be_filed(world):
    inbound_receive(channel="sms", external_id="w1", sender="13812341234", text="灯坏了")
    page = client_for(world.users[Role.SECRETARY]).get(reverse("web:home"))
    assert page.context["inbound_waiting"] == 1
    assert b"1 message from a resident waits to be filed" in page.content


def test_the_street_administrator_is_told_where_codes_wait_without_a_gateway(world, settings):
    settings.LINLI_SMS_GATEWAY_URL = ""
    page = client_for(world.users[Role.STREET_ADMIN]).get(reverse("web:home"))
    assert page.context["trial_sms"] is True
    assert reverse("signin:trial_messages").encode() in page.content


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.RESIDENT])
def test_nobody_else_sees_the_trial_codes_link(world, settings, role):
    settings.LINLI_SMS_GATEWAY_URL = ""
    page = client_for(world.users[role]).get(reverse("web:home"))
    assert page.context["trial_sms"] is False
    assert reverse("signin:trial_messages").encode() not in page.content
