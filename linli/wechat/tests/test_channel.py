"""WeChat template messages through the outbox, against the local fake: the exact payload,
the access token cached and renewed once when WeChat says it lapsed, and which errcodes
fail a message at once and which are retried."""

import socket
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache

from linli.accounts.models import User
from linli.conftest import make_user
from linli.notify.channels import CHANNEL_SENDERS, sender_for
from linli.notify.contacts import contact_address
from linli.notify.models import AttemptOutcome, Channel, OutboxMessage, OutboxStatus
from linli.notify.services import message_send_to_address, notification_send
from linli.notify.tasks import NO_TRANSPORT, outbox_deliver
from linli.wechat.channel import WeChatSender
from linli.wechat.client import WeChatIdentity
from linli.wechat.services import wechat_bind, wechat_unbind
from linli.wechat.tests.conftest import TEMPLATE_ID

# 16:00 in Asia/Shanghai.
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
OPENID = "o-resident-openid-000000000001"
TOKEN_PATH = "/cgi-bin/token"
SEND_PATH = "/cgi-bin/message/template/send"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def person(db) -> User:
    user = make_user("guiying")
    wechat_bind(user=user, identity=WeChatIdentity(openid=OPENID), actor=user)
    return user


def send(recipient, django_capture_on_commit_callbacks, **kwargs) -> OutboxMessage:
    options = {
        "kind": "case_state_changed",
        "title": "Case 42 accepted",
        "body": "The building-group leader will call you.\nCase 42: broken stair light.",
        "link": "/cases/42/",
        **kwargs,
    }
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipients=[recipient], channels=(Channel.WECHAT,), **options)
    return OutboxMessage.objects.filter(channel=Channel.WECHAT).latest("id")


def state(message: OutboxMessage) -> tuple:
    message.refresh_from_db()
    return (message.status, message.attempts, message.last_error)


def test_the_wechat_sender_is_registered_and_configured_with_the_settings(fake_wechat, db):
    assert isinstance(CHANNEL_SENDERS[Channel.WECHAT], WeChatSender)
    assert sender_for(Channel.WECHAT) is CHANNEL_SENDERS[Channel.WECHAT]


def test_without_a_template_the_channel_waits_untouched(
    fake_wechat, person, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_WECHAT_TEMPLATE_ID = ""
    assert sender_for(Channel.WECHAT) is None
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (OutboxStatus.PENDING, 0, NO_TRANSPORT)
    assert fake_wechat.requests == []


def test_a_template_message_carries_exactly_the_title_first_line_time_and_link(
    fake_wechat, person, django_capture_on_commit_callbacks
):
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (OutboxStatus.SENT, 1, "")
    assert fake_wechat.paths() == [TOKEN_PATH, SEND_PATH]
    assert fake_wechat.requests[0].query == {
        "grant_type": "client_credential",
        "appid": "wx-fake-app-id",
        "secret": "fake-app-secret",
    }
    assert fake_wechat.requests[1].query == {"access_token": "fake-access-token-1"}
    assert fake_wechat.requests[1].json() == {
        "touser": OPENID,
        "template_id": TEMPLATE_ID,
        "data": {
            "thing1": {"value": "Case 42 accepted"},
            "thing2": {"value": "The building-group …"},
            "time3": {"value": "2026年11月27日 16:00"},
        },
        "url": "https://linli.example.org/cases/42/",
    }


def test_long_texts_are_cut_to_wechats_twenty_characters_and_an_empty_body_says_where_to_read(
    fake_wechat, person, settings, django_capture_on_commit_callbacks
):
    # The template is filled in the site's language (its Chinese words are the catalogue's).
    settings.LANGUAGE_CODE = "en"
    send(
        person,
        django_capture_on_commit_callbacks,
        title="您报告的楼道灯问题已由楼组长受理并派给物业维修",
        body="",
        link="",
    )
    assert fake_wechat.messages == [
        {
            "touser": OPENID,
            "template_id": TEMPLATE_ID,
            "data": {
                "thing1": {"value": "您报告的楼道灯问题已由楼组长受理并派给…"},
                "thing2": {"value": "Read it in Linli"},
                "time3": {"value": "2026年11月27日 16:00"},
            },
        }
    ]


def test_the_access_token_is_cached_between_sends(
    fake_wechat, person, django_capture_on_commit_callbacks
):
    first = send(person, django_capture_on_commit_callbacks, link="/cases/1/")
    second = send(person, django_capture_on_commit_callbacks, link="/cases/2/")
    assert [state(first)[0], state(second)[0]] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert fake_wechat.paths() == [TOKEN_PATH, SEND_PATH, SEND_PATH]
    assert cache.get("wechat:access_token:wx-fake-app-id") == "fake-access-token-1"


def test_a_token_wechat_calls_invalid_is_renewed_once_and_the_message_sent(
    fake_wechat, person, django_capture_on_commit_callbacks
):
    send(person, django_capture_on_commit_callbacks)
    fake_wechat.answer_next(40001, "invalid credential, access_token is invalid")
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (OutboxStatus.SENT, 1, "")
    assert fake_wechat.paths() == [TOKEN_PATH, SEND_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH]
    assert [r.query["access_token"] for r in fake_wechat.requests if r.path == SEND_PATH] == [
        "fake-access-token-1",
        "fake-access-token-1",
        "fake-access-token-2",
    ]
    assert cache.get("wechat:access_token:wx-fake-app-id") == "fake-access-token-2"


def test_an_expired_token_is_renewed_as_well(
    fake_wechat, person, django_capture_on_commit_callbacks
):
    send(person, django_capture_on_commit_callbacks)
    fake_wechat.expire_tokens()
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (OutboxStatus.SENT, 1, "")
    assert fake_wechat.paths() == [TOKEN_PATH, SEND_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH]


def test_a_token_refused_twice_in_a_row_is_a_failed_attempt_retried_later(
    fake_wechat, person, django_capture_on_commit_callbacks
):
    fake_wechat.answer_next(40001, "invalid credential")
    fake_wechat.answer_next(40001, "invalid credential")
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (
        OutboxStatus.PENDING,
        1,
        "WeChat errcode 40001: invalid credential",
    )
    assert fake_wechat.paths() == [TOKEN_PATH, SEND_PATH, TOKEN_PATH, SEND_PATH]


@pytest.mark.parametrize(
    "errcode,reason",
    [
        (43004, "the recipient does not follow the Official Account"),
        (40003, "the recipient's openid is not valid for this Official Account"),
    ],
)
def test_a_recipient_wechat_cannot_reach_fails_the_message_at_once(
    fake_wechat, person, django_capture_on_commit_callbacks, errcode, reason
):
    fake_wechat.answer_next(errcode, "require subscribe")
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (
        OutboxStatus.FAILED,
        1,
        f"{reason} (WeChat errcode {errcode}: require subscribe)",
    )
    assert message.delivery_attempts.get().outcome == AttemptOutcome.REFUSED
    # Not retried: no new token, no second send.
    assert fake_wechat.paths() == [TOKEN_PATH, SEND_PATH]


def test_any_other_errcode_is_retried_with_back_off(
    fake_wechat, person, django_capture_on_commit_callbacks
):
    fake_wechat.answer_next(45009, "reach max api daily quota limit")
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (
        OutboxStatus.PENDING,
        1,
        "WeChat errcode 45009: reach max api daily quota limit",
    )
    assert message.delivery_attempts.get().outcome == AttemptOutcome.FAILED
    assert message.next_attempt_at is not None


def test_a_refused_app_secret_keeps_the_message_waiting(
    fake_wechat, person, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_WECHAT_APP_SECRET = "wrong-secret"
    message = send(person, django_capture_on_commit_callbacks)
    assert state(message) == (
        OutboxStatus.PENDING,
        1,
        "access token: WeChat errcode 40125: invalid appsecret",
    )
    assert fake_wechat.paths() == [TOKEN_PATH]


def test_wechat_unreachable_is_retried_and_names_the_host_only(
    fake_wechat, person, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.LINLI_WECHAT_API_BASE = f"http://127.0.0.1:{closed}"
    message = send(person, django_capture_on_commit_callbacks)
    status, attempts, error = state(message)
    assert (status, attempts) == (OutboxStatus.PENDING, 1)
    assert error.startswith("127.0.0.1 unreachable: ")
    assert "secret" not in error


def test_a_person_without_a_bound_wechat_is_undeliverable_and_wechat_is_not_asked(
    fake_wechat, db, django_capture_on_commit_callbacks
):
    message = send(make_user("nobody"), django_capture_on_commit_callbacks)
    assert state(message) == (OutboxStatus.FAILED, 1, "recipient has not bound WeChat")
    assert fake_wechat.requests == []


def test_the_openid_is_the_persons_contact_address_on_wechat_until_unbound(person):
    assert contact_address(person, Channel.WECHAT) == OPENID
    wechat_unbind(user=person, actor=person)
    assert contact_address(person, Channel.WECHAT) == ""


def test_a_message_to_a_bare_openid_goes_to_that_openid(
    fake_wechat, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = message_send_to_address(
            channel=Channel.WECHAT,
            address="o-someone-without-a-login",
            kind="registration_answer",
            title="Your registration was approved",
        )
    message = notification.outbox_messages.get()
    assert state(message) == (OutboxStatus.SENT, 1, "")
    assert fake_wechat.messages[0]["touser"] == "o-someone-without-a-login"
    assert "url" not in fake_wechat.messages[0]


def test_a_resend_of_the_same_message_uses_the_same_payload(
    fake_wechat, person, django_capture_on_commit_callbacks
):
    fake_wechat.answer_next(45009, "busy")
    message = send(person, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime(2026, 11, 27, 9, 0, tzinfo=UTC), tick=False):
        outbox_deliver(message_ids=[message.pk])
    assert state(message)[0] == OutboxStatus.SENT
    assert fake_wechat.messages[0] == fake_wechat.messages[1]
