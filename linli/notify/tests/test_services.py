"""Sending, delivering and reading notifications through the real services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from linli.accounts.roles import Role
from linli.notify import selectors, tasks
from linli.notify.models import Channel, Notification, OutboxMessage, OutboxStatus
from linli.notify.services import (
    notification_mark_read,
    notification_send,
    notifications_mark_all_read,
)
from linli.notify.tasks import NO_TRANSPORT, outbox_deliver, outbox_retry_pending


def send(recipients, **kwargs):
    options = {"kind": "case_escalated", "title": "Case 7 escalated to you", **kwargs}
    return notification_send(recipients=recipients, **options)


def test_send_writes_one_notification_per_recipient_and_one_outbox_row_per_channel(
    world, django_capture_on_commit_callbacks
):
    lead = world.users[Role.MICRO_GRID_LEAD]
    secretary = world.users[Role.SECRETARY]
    with django_capture_on_commit_callbacks(execute=False):
        notifications = send(
            [lead, secretary, lead],
            body="Overdue by 2 days",
            link="/cases/7/",
            channels=("inapp", "sms"),
        )

    assert len(notifications) == 2
    assert sorted(n.recipient.username for n in Notification.objects.all()) == [
        Role.MICRO_GRID_LEAD,
        Role.SECRETARY,
    ]
    notification = Notification.objects.get(recipient=lead)
    assert (notification.kind, notification.title, notification.body, notification.link) == (
        "case_escalated",
        "Case 7 escalated to you",
        "Overdue by 2 days",
        "/cases/7/",
    )
    assert notification.read_at is None
    assert sorted(
        OutboxMessage.objects.values_list("notification__recipient__username", "channel", "status")
    ) == [
        (Role.MICRO_GRID_LEAD, "inapp", "pending"),
        (Role.MICRO_GRID_LEAD, "sms", "pending"),
        (Role.SECRETARY, "inapp", "pending"),
        (Role.SECRETARY, "sms", "pending"),
    ]


def test_delivery_runs_on_commit_marks_inapp_sent_and_leaves_sms_pending(
    world, django_capture_on_commit_callbacks
):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send([lead], channels=("inapp", "sms"))

    assert len(callbacks) == 1
    inapp = OutboxMessage.objects.get(channel=Channel.INAPP)
    assert (inapp.status, inapp.attempts, inapp.last_error) == (OutboxStatus.SENT, 1, "")
    assert inapp.sent_at is not None
    sms = OutboxMessage.objects.get(channel=Channel.SMS)
    assert (sms.status, sms.attempts, sms.last_error, sms.sent_at) == (
        OutboxStatus.PENDING,
        0,
        NO_TRANSPORT,
        None,
    )


def test_rolled_back_caller_sends_nothing(world, django_capture_on_commit_callbacks):
    lead = world.users[Role.MICRO_GRID_LEAD]

    class CallerFailed(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(CallerFailed),
        transaction.atomic(),
    ):
        send([lead])
        raise CallerFailed

    assert callbacks == []
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_delivery_is_not_lost_when_the_broker_is_down(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_outbox, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        send([world.users[Role.MICRO_GRID_LEAD]])

    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.PENDING
    monkeypatch.undo()

    assert outbox_retry_pending() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT


def test_retry_sweep_delivers_once_a_transport_is_registered(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        send([world.users[Role.MICRO_GRID_LEAD]], channels=("inapp", "sms"))
    delivered = []
    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, delivered.append)

    assert outbox_retry_pending() == 1

    sms = OutboxMessage.objects.get(channel=Channel.SMS)
    assert delivered == [sms]
    assert (sms.status, sms.attempts, sms.last_error) == (OutboxStatus.SENT, 1, "")
    # Sent messages are not sent again.
    assert outbox_retry_pending() == 0
    assert delivered == [sms]


def test_failing_transport_is_retried_then_marked_failed(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    def gateway_down(message):
        raise tasks.DeliveryError("gateway timeout")

    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, gateway_down)
    with django_capture_on_commit_callbacks(execute=True):
        send([world.users[Role.MICRO_GRID_LEAD]], channels=("sms",))
    sms = OutboxMessage.objects.get()
    assert (sms.status, sms.attempts, sms.last_error) == (
        OutboxStatus.PENDING,
        1,
        "gateway timeout",
    )

    # Each sweep runs a day later: well past any back-off.
    for day in range(1, tasks.MAX_ATTEMPTS):
        outbox_retry_pending(now=timezone.now() + timedelta(days=day))

    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (OutboxStatus.FAILED, tasks.MAX_ATTEMPTS)
    assert outbox_deliver(message_ids=[sms.pk]) == 0
    sms.refresh_from_db()
    assert sms.attempts == tasks.MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": ""}, "kind"),
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"link": "https://evil.example/"}, "link"),
        ({"link": "//evil.example/"}, "link"),
        ({"channels": ("pigeon",)}, "channels"),
        ({"channels": ()}, "channels"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, kwargs, field):
    with pytest.raises(ValidationError) as error:
        send([world.users[Role.MICRO_GRID_LEAD]], **kwargs)

    assert list(error.value.message_dict) == [field]
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_no_recipients_writes_nothing(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert send([]) == []
    assert callbacks == []
    assert Notification.objects.count() == 0


def test_mark_read_by_recipient_sets_read_at_once(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    [notification] = send([lead])

    notification_mark_read(user=lead, notification=notification)
    first_read = Notification.objects.get().read_at
    notification_mark_read(user=lead, notification=notification)

    assert first_read is not None
    assert Notification.objects.get().read_at == first_read
    assert selectors.unread_count(lead) == 0


def test_mark_read_by_someone_else_is_refused_and_changes_nothing(world):
    [notification] = send([world.users[Role.MICRO_GRID_LEAD]])

    with pytest.raises(ValidationError) as error:
        notification_mark_read(user=world.users[Role.SECRETARY], notification=notification)

    assert list(error.value.message_dict) == ["notification"]
    assert Notification.objects.get().read_at is None


def test_mark_all_read_touches_only_the_users_unread(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    secretary = world.users[Role.SECRETARY]
    [already] = send([lead], title="old")
    notification_mark_read(user=lead, notification=already)
    already_read_at = Notification.objects.get(pk=already.pk).read_at
    send([lead, secretary], title="new")
    send([lead], title="newer")

    assert notifications_mark_all_read(user=lead) == 2

    assert selectors.unread_count(lead) == 0
    assert selectors.unread_count(secretary) == 1
    assert Notification.objects.get(pk=already.pk).read_at == already_read_at


def test_inbox_lists_own_notifications_newest_first(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    send([lead], title="first")
    send([world.users[Role.SECRETARY]], title="not mine")
    send([lead], title="second")

    assert [n.title for n in selectors.inbox(lead)] == ["second", "first"]
    assert selectors.unread_count(lead) == 2


def test_a_title_sent_as_a_message_id_is_read_in_the_readers_language(world):
    from django.utils import translation
    from django.utils.translation import gettext_noop

    from linli.notify.models import Notification
    from linli.notify.services import notification_send

    template = gettext_noop("Case %(reference)s was escalated to %(unit)s")
    with translation.override("en"):
        notification_send(
            recipients=[world.users["secretary"]],
            kind="case_escalated",
            title=template,
            title_params={"reference": "A1", "unit": "A社区"},
        )
    notification = Notification.objects.get()
    # Stored in the site's language for channels that carry plain text ...
    assert notification.title == "民情事项 A1 已上报至A社区"
    # ... and shown in whatever language the reader reads in.
    with translation.override("en"):
        assert notification.display_title == "Case A1 was escalated to A社区"
    with translation.override("zh-hans"):
        assert notification.display_title == "民情事项 A1 已上报至A社区"


def test_title_parameters_that_do_not_fit_are_refused_and_nothing_is_sent(world):
    import pytest
    from django.core.exceptions import ValidationError

    from linli.notify.models import Notification
    from linli.notify.services import notification_send

    with pytest.raises(ValidationError) as error:
        notification_send(
            recipients=[world.users["secretary"]],
            kind="case_escalated",
            title="Case %(reference)s was escalated to %(unit)s",
            title_params={"reference": "A1"},
        )
    assert list(error.value.message_dict) == ["title"]
    assert Notification.objects.count() == 0
