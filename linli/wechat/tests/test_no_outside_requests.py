"""Nothing in these tests leaves for WeChat: every call lands on the local fake, and a call
meant for api.weixin.qq.com is stopped at the name look-up (conftest's `outside_hosts`)."""

import importlib

from linli.accounts.roles import Role
from linli.notify.models import Channel, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.testing.clients import client_for
from linli.wechat.tests.conftest import sms_code
from linli.wechat.tests.flow import through_wechat


def test_wechats_own_addresses_are_the_defaults_of_the_settings(monkeypatch):
    monkeypatch.delenv("LINLI_WECHAT_API_BASE", raising=False)
    monkeypatch.delenv("LINLI_WECHAT_OPEN_BASE", raising=False)
    monkeypatch.delenv("LINLI_WECHAT_APP_ID", raising=False)
    module = importlib.reload(importlib.import_module("linli.settings"))
    assert (module.LINLI_WECHAT_API_BASE, module.LINLI_WECHAT_OPEN_BASE) == (
        "https://api.weixin.qq.com",
        "https://open.weixin.qq.com",
    )
    assert module.LINLI_WECHAT_APP_ID == ""


def test_login_bind_and_a_message_make_every_call_to_the_fake_and_none_elsewhere(
    fake_wechat, world, outside_hosts, django_capture_on_commit_callbacks
):
    resident = world.users[Role.RESIDENT]
    resident.phone = "13812341234"
    resident.save(update_fields=["phone"])
    client = client_for(None)
    through_wechat(client, "/wechat/login/", fake_wechat)
    client.post("/wechat/bind/", {"action": "send", "phone": "13812341234"})
    client.post("/wechat/bind/", {"action": "verify", "code": sms_code("13812341234")})
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            recipients=[resident],
            kind="case_closed",
            title="Case closed",
            channels=(Channel.WECHAT,),
        )
    assert OutboxMessage.objects.get(channel=Channel.WECHAT).status == OutboxStatus.SENT
    assert fake_wechat.paths() == [
        "/connect/oauth2/authorize",
        "/sns/oauth2/access_token",
        "/cgi-bin/token",
        "/cgi-bin/message/template/send",
    ]
    assert outside_hosts == []


def test_a_send_meant_for_wechat_itself_is_stopped_before_it_leaves(
    fake_wechat, world, settings, outside_hosts, django_capture_on_commit_callbacks
):
    from linli.wechat.client import WeChatIdentity
    from linli.wechat.services import wechat_bind

    settings.LINLI_WECHAT_API_BASE = "https://api.weixin.qq.com"
    resident = world.users[Role.RESIDENT]
    wechat_bind(user=resident, identity=WeChatIdentity(openid="o-x"), actor=resident)
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            recipients=[resident],
            kind="case_closed",
            title="Case closed",
            channels=(Channel.WECHAT,),
        )
    message = OutboxMessage.objects.get(channel=Channel.WECHAT)
    assert message.status == OutboxStatus.PENDING
    assert outside_hosts == ["api.weixin.qq.com"]
    assert fake_wechat.requests == []
