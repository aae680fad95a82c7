"""Registering as a person does in the tests: ask for a code, read it from the SMS that
linli.signin left in the outbox, send the form."""

import re

from django.test import Client

from linli.grids.models import Building
from linli.notify.models import Notification
from linli.registration import services
from linli.registration.selectors import join_path

ADDRESS = "203.0.113.9"


def last_code(phone: str) -> str:
    message = Notification.objects.filter(address=phone, kind="phone_code").latest("id")
    return re.search(r"(\d{6})", message.title).group(1)


def code_for(phone: str, address: str = ADDRESS) -> str:
    services.registration_code_request(phone=phone, address=address)
    return last_code(phone)


def submit(
    building: Building,
    *,
    phone: str,
    name: str,
    room: str,
    id_last4: str = "",
    invitation: str = "",
    address: str = ADDRESS,
) -> services.Registration:
    return services.registration_submit(
        building=building,
        phone=phone,
        code=code_for(phone, address),
        name=name,
        room=room,
        id_last4=id_last4,
        invitation=invitation,
        address=address,
    )


def web_register(client: Client, building: Building, **fields):
    """The form as a phone sends it: "send me a code", then "register" with the code."""
    url = join_path(building)
    phone = fields["phone"]
    answer = client.post(url, {"action": "code", "phone": phone}, REMOTE_ADDR=ADDRESS)
    assert answer.status_code == 200, answer.content
    data = {"action": "register", "code": last_code(phone), **fields}
    return client.post(url, data, REMOTE_ADDR=ADDRESS)
