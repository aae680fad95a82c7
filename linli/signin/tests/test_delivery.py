"""With a gateway configured, a code leaves by it, to the number typed: through the outbox,
after the commit (linli.notify)."""

import pytest
import time_machine

from linli.accounts.roles import Role
from linli.notify.models import OutboxMessage, OutboxStatus
from linli.signin.models import PhoneCodePurpose
from linli.signin.services import phone_code_request
from linli.signin.tests.support import KNOWN, NOON, UNKNOWN, last_code


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_a_code_reaches_the_sms_gateway_for_the_number_only(
    world, clock, gateway, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_SMS_GATEWAY_URL = f"{gateway.url}/sms"
    resident = world.users[Role.RESIDENT]
    resident.phone = KNOWN
    resident.save(update_fields=["phone"])
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_request(phone=KNOWN, purpose=PhoneCodePurpose.LOGIN, address="127.0.0.1")
        phone_code_request(phone=UNKNOWN, purpose=PhoneCodePurpose.LOGIN, address="127.0.0.1")
    [received] = gateway.requests
    assert (received.json()["to"], received.json()["text"]) == (
        KNOWN,
        f"Linli: your login code is {last_code(KNOWN)}, valid for 5 minutes. Never tell it to "
        "anyone, staff included.",
    )
    assert list(OutboxMessage.objects.values_list("status", flat=True)) == [OutboxStatus.SENT]
