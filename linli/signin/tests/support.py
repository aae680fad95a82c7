"""What the sign-in tests share: the pinned clock, numbers, and reading sent messages."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.test import Client

from linli.notify.models import Notification

NOON = datetime(2027, 3, 15, 12, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# 张桂英's login gets this number in the tests; nobody has UNKNOWN.
KNOWN = "13812341234"
UNKNOWN = "13987654321"


def english_client(**options) -> Client:
    return Client(headers={"Accept-Language": "en"}, **options)


def sent_codes(phone: str) -> list[str]:
    """The codes sent by SMS to `phone`, oldest first (read from the outbox)."""
    titles = Notification.objects.filter(address=phone, kind="phone_code").order_by("id")
    return [
        re.search(r"(?<!\d)(\d{6})(?!\d)", title).group(1)
        for title in titles.values_list("title", flat=True)
    ]


def last_code(phone: str) -> str:
    codes = sent_codes(phone)
    assert codes, f"no code was sent to {phone}"
    return codes[-1]


def wrong(code: str) -> str:
    """A code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"
