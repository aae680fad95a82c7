"""WeChat against its local fake (linli/wechat/fake_server.py), and nothing else.

`fake_wechat` starts the fake on a free port of 127.0.0.1 and points every WeChat setting at
it. `_only_this_machine` (autouse) refuses, and records, any name look-up of a host other
than this machine during these tests: a request meant for api.weixin.qq.com fails loudly
instead of leaving.
"""

import re
import socket

import pytest

from linli.notify.models import Notification
from linli.wechat.fake_server import FakeWeChat

SITE_URL = "https://linli.example.org"
TEMPLATE_ID = "tmpl-linli-notice"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", None}


class OutsideRequest(AssertionError):
    pass


@pytest.fixture(autouse=True)
def outside_hosts(monkeypatch) -> list[str]:
    """The hosts something tried to reach beyond this machine (each attempt refused)."""
    tried: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in LOCAL_HOSTS:
            tried.append(name)
            raise OutsideRequest(f"a WeChat test tried to reach {name}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    return tried


@pytest.fixture
def fake_wechat(settings, monkeypatch):
    # A proxy from the environment must not intercept requests to the local fake.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with FakeWeChat() as fake:
        settings.LINLI_WECHAT_APP_ID = fake.app_id
        settings.LINLI_WECHAT_APP_SECRET = fake.app_secret
        settings.LINLI_WECHAT_TOKEN = "push-token"
        settings.LINLI_WECHAT_TEMPLATE_ID = TEMPLATE_ID
        settings.LINLI_WECHAT_API_BASE = fake.url
        settings.LINLI_WECHAT_OPEN_BASE = fake.url
        settings.LINLI_SITE_URL = SITE_URL
        yield fake


@pytest.fixture
def wechat_off(settings):
    settings.LINLI_WECHAT_APP_ID = ""
    settings.LINLI_WECHAT_APP_SECRET = ""
    settings.LINLI_WECHAT_TEMPLATE_ID = ""


def sms_code(phone: str) -> str:
    """The code the signin app sent to `phone` (its SMS waits in the outbox: no gateway)."""
    sms = Notification.objects.filter(address=phone).order_by("-id").first()
    assert sms is not None, f"no SMS to {phone}"
    return re.search(r"\b(\d{6})\b", sms.title).group(1)
