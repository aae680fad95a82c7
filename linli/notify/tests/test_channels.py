"""E-mail, WeCom and SMS channels against local servers, and the back-off between attempts.

Each channel is configured through the settings its environment variables feed; the HTTP
gateway and the SMTP server are local stand-ins (conftest.py) that record what arrives.
Delivery times are injected (`now=`), so back-off deltas are asserted exactly.
"""

import email
import email.policy
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from linli.conftest import make_user
from linli.notify import tasks
from linli.notify.models import Channel, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.notify.tasks import NO_TRANSPORT, outbox_deliver, outbox_retry_pending, retry_delay

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
ROBOT_KEY = "robot-key-0123456789"


@pytest.fixture(autouse=True)
def _clock_at_t0():
    # Deliveries the on-commit hook makes read the clock, and the tests then inject times
    # relative to T0 (`now=`): both must be on the same clock, whatever today's date is.
    with time_machine.travel(T0, tick=True):
        yield


@pytest.fixture
def lead(db):
    user = make_user("lead")
    user.email = "lead@example.org"
    user.phone = "13800138000"
    user.save(update_fields=["email", "phone"])
    return user


@pytest.fixture
def wecom(settings, gateway):
    settings.LINLI_WECOM_WEBHOOK_URL = f"{gateway.url}/cgi-bin/webhook/send?key={ROBOT_KEY}"
    return gateway


@pytest.fixture
def sms(settings, gateway):
    settings.LINLI_SMS_GATEWAY_URL = f"{gateway.url}/sms/send"
    settings.LINLI_SMS_GATEWAY_TOKEN = "gateway-token"
    return gateway


def send(recipients, channel, django_capture_on_commit_callbacks, *, deliver=True, **kwargs):
    """Send through the real service; with deliver=False the on-commit delivery is held back
    so that the test delivers at a time of its choosing."""
    options = {"kind": "sample_escalated", "title": "Case 7 escalated to you", **kwargs}
    with django_capture_on_commit_callbacks(execute=deliver):
        notification_send(recipients=recipients, channels=(channel,), **options)
    return list(OutboxMessage.objects.filter(channel=channel).order_by("id"))


def state(message: OutboxMessage) -> tuple:
    message.refresh_from_db()
    return (message.status, message.attempts, message.last_error)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# WeCom group robot -----------------------------------------------------------------------


def test_wecom_posts_the_group_title_never_the_title_or_body(
    lead, wecom, django_capture_on_commit_callbacks
):
    [message] = send(
        [lead],
        Channel.WECOM,
        django_capture_on_commit_callbacks,
        title="求助：1号楼 101，医疗",
        body="沈阿姨 13812345678 需要胰岛素",
        group_title="A help request has come in",
    )

    assert state(message) == (OutboxStatus.SENT, 1, "")
    [request] = wecom.requests
    assert (request.method, request.path) == ("POST", f"/cgi-bin/webhook/send?key={ROBOT_KEY}")
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json() == {
        "msgtype": "text",
        "text": {"content": "收到一条求助\n请登录邻里查看详情。"},
    }


def test_wecom_without_a_group_title_says_only_that_there_is_news(
    lead, wecom, django_capture_on_commit_callbacks
):
    send(
        [lead],
        Channel.WECOM,
        django_capture_on_commit_callbacks,
        title="求助：1号楼 101，医疗",
        body="Overdue by 2 days",
    )

    assert wecom.requests[0].json()["text"]["content"] == "邻里有新消息。\n请登录邻里查看详情。"


def test_wecom_posts_once_per_send_whatever_the_number_of_recipients(
    lead, wecom, django_capture_on_commit_callbacks
):
    others = [make_user("second"), make_user("third")]
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            recipients=[lead, *others],
            kind="sample_escalated",
            title="Case 7 escalated",
            group_title="A help request has come in",
            channels=(Channel.INAPP, Channel.WECOM),
        )

    assert sorted(
        OutboxMessage.objects.values_list("notification__recipient__username", "channel", "status")
    ) == [
        ("lead", "inapp", "sent"),
        ("lead", "wecom", "sent"),
        ("second", "inapp", "sent"),
        ("third", "inapp", "sent"),
    ]
    assert [request.json()["text"]["content"] for request in wecom.requests] == [
        "收到一条求助\n请登录邻里查看详情。"
    ]


def test_a_group_title_longer_than_a_title_is_refused_and_nothing_is_sent(lead, wecom):
    with pytest.raises(ValidationError) as refused:
        notification_send(
            recipients=[lead],
            kind="sample_escalated",
            title="Case 7 escalated",
            group_title="紧急" * 101,
            channels=(Channel.WECOM,),
        )

    assert list(refused.value.message_dict) == ["group_title"]
    assert OutboxMessage.objects.count() == 0


def test_wecom_refusal_in_errcode_is_retried_with_the_reason(
    lead, wecom, django_capture_on_commit_callbacks
):
    wecom.answer_with((200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    [message] = send([lead], Channel.WECOM, django_capture_on_commit_callbacks, deliver=False)

    assert outbox_deliver(message_ids=[message.pk], now=T0) == 0

    assert state(message) == (OutboxStatus.PENDING, 1, "WeCom errcode 45009: api freq out of limit")
    assert message.next_attempt_at == T0 + timedelta(seconds=30)


def test_wecom_outage_is_retried_after_the_back_off_and_delivered_once(
    lead, wecom, django_capture_on_commit_callbacks
):
    wecom.answer_with((500, b"upstream down"), (200, {"errcode": 0, "errmsg": "ok"}))
    [message] = send([lead], Channel.WECOM, django_capture_on_commit_callbacks, deliver=False)

    assert outbox_deliver(message_ids=[message.pk], now=T0) == 0
    assert state(message) == (OutboxStatus.PENDING, 1, "127.0.0.1 answered HTTP 500")
    assert message.next_attempt_at == T0 + timedelta(seconds=30)

    # Not due yet: neither the sweep nor a late delivery task tries it.
    assert outbox_retry_pending(now=T0 + timedelta(seconds=29)) == 0
    assert outbox_deliver(message_ids=[message.pk], now=T0 + timedelta(seconds=29)) == 0
    assert len(wecom.requests) == 1

    assert outbox_retry_pending(now=T0 + timedelta(seconds=30)) == 1
    assert state(message) == (OutboxStatus.SENT, 2, "")
    assert (message.sent_at, message.next_attempt_at) == (T0 + timedelta(seconds=30), None)

    # Delivered once: later sweeps and tasks send nothing more.
    assert outbox_retry_pending(now=T0 + timedelta(days=1)) == 0
    assert outbox_deliver(message_ids=[message.pk], now=T0 + timedelta(days=1)) == 0
    assert len(wecom.requests) == 2
    assert wecom.requests[0].body == wecom.requests[1].body


def test_a_failure_reason_never_shows_the_robots_key(
    lead, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_WECOM_WEBHOOK_URL = f"http://127.0.0.1:{closed_port()}/send?key={ROBOT_KEY}"

    [message] = send([lead], Channel.WECOM, django_capture_on_commit_callbacks)

    status, attempts, reason = state(message)
    assert (status, attempts) == (OutboxStatus.PENDING, 1)
    assert reason.startswith("127.0.0.1 unreachable: ")
    assert ROBOT_KEY not in reason


# SMS gateway -----------------------------------------------------------------------------


def test_sms_posts_phone_and_text_with_the_bearer_token(
    lead, sms, django_capture_on_commit_callbacks
):
    [message] = send([lead], Channel.SMS, django_capture_on_commit_callbacks, body="Overdue")

    assert state(message) == (OutboxStatus.SENT, 1, "")
    [request] = sms.requests
    assert (request.method, request.path) == ("POST", "/sms/send")
    assert request.headers["authorization"] == "Bearer gateway-token"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    # The message's dedupe key, in the body and as the Idempotency-Key header.
    key = str(OutboxMessage.objects.get(pk=message.pk).dedupe_key)
    assert request.headers["idempotency-key"] == key
    assert request.json() == {
        "to": "13800138000",
        "text": "Case 7 escalated to you\nOverdue",
        "dedupe_key": key,
    }


def test_sms_without_a_token_sends_no_authorization_header(
    lead, sms, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_SMS_GATEWAY_TOKEN = ""

    send([lead], Channel.SMS, django_capture_on_commit_callbacks)

    [request] = sms.requests
    assert "authorization" not in request.headers


def test_sms_text_is_cut_to_a_few_messages(lead, sms, django_capture_on_commit_callbacks):
    send([lead], Channel.SMS, django_capture_on_commit_callbacks, body="紧" * 1000)

    text = sms.requests[0].json()["text"]
    assert len(text) == 300
    assert text.endswith("…")


def test_sms_to_a_user_without_a_phone_fails_at_once_with_the_reason(
    db, sms, django_capture_on_commit_callbacks
):
    [message] = send([make_user("no-phone")], Channel.SMS, django_capture_on_commit_callbacks)

    assert state(message) == (OutboxStatus.FAILED, 1, "recipient has no mobile phone")
    assert message.next_attempt_at is None
    assert sms.requests == []
    # Failed messages are left alone.
    assert outbox_retry_pending(now=T0 + timedelta(days=1)) == 0


def test_sms_refused_by_the_gateway_fails_at_once(lead, sms, django_capture_on_commit_callbacks):
    sms.answer_with((400, {"error": "bad number"}))

    [message] = send([lead], Channel.SMS, django_capture_on_commit_callbacks)

    assert state(message) == (
        OutboxStatus.FAILED,
        1,
        '127.0.0.1 answered HTTP 400: {"error": "bad number"}',
    )


@pytest.mark.parametrize("status", [429, 502, 503])
def test_sms_rate_limit_and_server_errors_are_retried(
    lead, sms, status, django_capture_on_commit_callbacks
):
    sms.answer_with((status, b""))

    [message] = send([lead], Channel.SMS, django_capture_on_commit_callbacks)

    assert state(message) == (OutboxStatus.PENDING, 1, f"127.0.0.1 answered HTTP {status}")
    assert message.next_attempt_at is not None


def test_a_hung_gateway_times_out_and_is_retried(
    lead, sms, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_NOTIFY_TIMEOUT_SECONDS = 1
    sms.delay_seconds = 2

    [message] = send([lead], Channel.SMS, django_capture_on_commit_callbacks)

    status, attempts, reason = state(message)
    assert (status, attempts) == (OutboxStatus.PENDING, 1)
    assert reason == "127.0.0.1 unreachable: timed out"


def test_a_channel_that_just_failed_is_not_tried_again_in_the_same_run(
    db, sms, django_capture_on_commit_callbacks
):
    first, second = make_user("first"), make_user("second")
    for user in (first, second):
        user.phone = "13800138000"
        user.save(update_fields=["phone"])
    sms.answer_with((503, b""))

    messages = send([first, second], Channel.SMS, django_capture_on_commit_callbacks)

    assert len(sms.requests) == 1
    assert [state(message)[:2] for message in messages] == [
        (OutboxStatus.PENDING, 1),
        (OutboxStatus.PENDING, 0),
    ]
    # The untouched one waits for no back-off; the next sweep sends both once due.
    assert outbox_retry_pending(now=T0 + timedelta(days=1)) == 2
    assert len(sms.requests) == 3


# E-mail ----------------------------------------------------------------------------------


def test_email_goes_to_the_recipients_address(lead, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_HOST = "mail.example.org"  # tests keep Django's in-memory mail backend
    settings.DEFAULT_FROM_EMAIL = "linli@example.org"

    [message] = send([lead], Channel.EMAIL, django_capture_on_commit_callbacks, body="Overdue")

    assert state(message) == (OutboxStatus.SENT, 1, "")
    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.from_email, sent.to) == (
        "Case 7 escalated to you",
        "Case 7 escalated to you\nOverdue",
        "linli@example.org",
        ["lead@example.org"],
    )


def test_email_without_an_address_fails_at_once_with_the_reason(
    db, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_HOST = "mail.example.org"

    [message] = send([make_user("no-mail")], Channel.EMAIL, django_capture_on_commit_callbacks)

    assert state(message) == (OutboxStatus.FAILED, 1, "recipient has no e-mail address")
    assert mail.outbox == []


@pytest.fixture
def smtp(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.DEFAULT_FROM_EMAIL = "linli@example.org"
    return smtp_server


def test_email_through_an_smtp_server(lead, smtp, django_capture_on_commit_callbacks):
    [message] = send(
        [lead],
        Channel.EMAIL,
        django_capture_on_commit_callbacks,
        title="7号事项已上报",
        body="超期",
    )

    assert state(message) == (OutboxStatus.SENT, 1, "")
    [received] = smtp.mails
    assert (received.sender, received.recipients) == ("linli@example.org", ["lead@example.org"])
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert (parsed["Subject"], parsed["To"]) == ("7号事项已上报", "lead@example.org")
    assert parsed.get_content() == "7号事项已上报\r\n超期\r\n"
    # Made from the message's dedupe key: a resend is the same mail to the reader's client.
    key = OutboxMessage.objects.get(pk=message.pk).dedupe_key
    assert parsed["Message-ID"] == f"<linli-outbox.{key}@example.org>"


def test_every_attempt_at_an_email_carries_the_same_message_id(
    lead, smtp, django_capture_on_commit_callbacks
):
    smtp.recipient_reply = "450 4.2.1 try later"
    [message] = send([lead], Channel.EMAIL, django_capture_on_commit_callbacks)
    assert state(message)[:2] == (OutboxStatus.PENDING, 1)
    smtp.recipient_reply = "250 OK"

    assert outbox_deliver(message_ids=[message.pk], now=T0 + timedelta(hours=1)) == 1

    [received] = smtp.mails
    parsed = email.message_from_bytes(received.data, policy=email.policy.default)
    assert parsed["Message-ID"] == f"<linli-outbox.{message.dedupe_key}@example.org>"
    assert list(message.delivery_attempts.values_list("number", "outcome")) == [
        (1, "failed"),
        (2, "sent"),
    ]


def test_a_hung_mail_server_times_out_and_is_retried(
    lead, settings, django_capture_on_commit_callbacks
):
    # A server that accepts the connection and never says a word (a hung process).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = 1  # what LINLI_NOTIFY_TIMEOUT_SECONDS=1 sets
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings.EMAIL_HOST, settings.EMAIL_PORT = silent.getsockname()[:2]

        started = time.monotonic()
        [message] = send([lead], Channel.EMAIL, django_capture_on_commit_callbacks)
        elapsed = time.monotonic() - started

    assert elapsed < 3
    assert state(message) == (
        OutboxStatus.PENDING,
        1,
        "mail server: Connection unexpectedly closed: timed out",
    )


@pytest.mark.parametrize(
    ("reply", "status"),
    [("550 5.1.1 no such user", OutboxStatus.FAILED), ("450 4.2.1 try later", "pending")],
)
def test_email_refused_recipient_fails_for_good_only_on_a_permanent_reply(
    lead, smtp, reply, status, django_capture_on_commit_callbacks
):
    smtp.recipient_reply = reply

    [message] = send([lead], Channel.EMAIL, django_capture_on_commit_callbacks)

    code = reply.split(" ")[0]
    assert state(message) == (
        status,
        1,
        f"mail server refused the recipient (SMTP {code})",
    )
    assert smtp.mails == []


def test_unreachable_mail_server_is_retried(lead, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()

    [message] = send([lead], Channel.EMAIL, django_capture_on_commit_callbacks)

    status, attempts, reason = state(message)
    assert (status, attempts) == (OutboxStatus.PENDING, 1)
    assert reason.startswith("mail server: ")


# Configuration and back-off --------------------------------------------------------------


def test_unconfigured_channels_wait_untouched_until_configured(
    lead, settings, gateway, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            recipients=[lead],
            kind="sample_escalated",
            title="Case 7 escalated to you",
            channels=(Channel.EMAIL, Channel.WECOM, Channel.SMS),
        )

    assert sorted(
        OutboxMessage.objects.values_list("channel", "status", "attempts", "last_error")
    ) == [
        ("email", "pending", 0, NO_TRANSPORT),
        ("sms", "pending", 0, NO_TRANSPORT),
        ("wecom", "pending", 0, NO_TRANSPORT),
    ]
    # The sweep does not even read them: one query, nothing written.
    with django_assert_num_queries(1):
        assert outbox_retry_pending(now=T0) == 0

    settings.LINLI_WECOM_WEBHOOK_URL = f"{gateway.url}/send?key={ROBOT_KEY}"
    assert outbox_retry_pending(now=T0) == 1
    assert len(gateway.requests) == 1
    assert sorted(OutboxMessage.objects.values_list("channel", "status", "attempts")) == [
        ("email", "pending", 0),
        ("sms", "pending", 0),
        ("wecom", "sent", 1),
    ]


def test_back_off_doubles_from_30_seconds_to_an_hour_then_the_message_fails(
    lead, monkeypatch, django_capture_on_commit_callbacks
):
    calls: list[int] = []

    def gateway_down(message):
        calls.append(message.pk)
        raise tasks.DeliveryError("gateway down")

    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, gateway_down)
    [message] = send([lead], Channel.SMS, django_capture_on_commit_callbacks, deliver=False)

    now, waits = T0, []
    for attempt in range(1, tasks.MAX_ATTEMPTS):
        assert outbox_retry_pending(now=now) == 0
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, attempt)
        waits.append(int((message.next_attempt_at - now).total_seconds()))
        # A moment before it is due, the sweep leaves it alone.
        assert outbox_retry_pending(now=message.next_attempt_at - timedelta(microseconds=1)) == 0
        now = message.next_attempt_at

    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert outbox_retry_pending(now=now) == 0
    assert state(message) == (OutboxStatus.FAILED, tasks.MAX_ATTEMPTS, "gateway down")
    assert message.next_attempt_at is None
    assert len(calls) == tasks.MAX_ATTEMPTS


def test_back_off_base_and_cap_come_from_the_settings(settings):
    settings.LINLI_OUTBOX_BACKOFF_SECONDS = 5
    settings.LINLI_OUTBOX_BACKOFF_MAX_SECONDS = 15

    assert [retry_delay(attempts).total_seconds() for attempts in (1, 2, 3, 4, 60)] == [
        5,
        10,
        15,
        15,
        15,
    ]
