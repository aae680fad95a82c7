"""Invitations by SMS: one message per household to the invited resident's registered
phone, through the notify outbox, with the link and the last day; households without a
phone are listed back for a letter."""

import pytest
from django.test import override_settings

from linli.accounts.roles import Role
from linli.invitations.models import Invitation, InvitationBatch
from linli.invitations.tests.conftest import invite, pdf_page_count
from linli.notify.models import Notification, OutboxMessage
from linli.testing.clients import client_for

pytestmark = pytest.mark.django_db


@override_settings(LANGUAGE_CODE="en", LINLI_SITE_URL="https://linli.example.cn")
def test_each_household_with_a_phone_gets_one_sms_with_its_link(world, more, pinned):
    result = invite(
        world.users[Role.SECRETARY],
        kind="grid_unit",
        grid_unit=world.community,
        channel="sms",
        days=7,
        skip_registered=False,
    )

    # 101 张桂英, 102 李建国, 201 王芳 have phones; 103 孙秀兰 has none.
    assert [issued.household.room for issued in result.issued] == ["101", "102", "201"]
    assert [household.room for household in result.no_phone] == ["103"]
    sent = list(Notification.objects.filter(kind="invitation").order_by("id"))
    assert [(n.address, n.recipient_id) for n in sent] == [
        ("13812341234", None),
        ("13912345678", None),
        ("13700001111", None),
    ]
    for notification, issued in zip(sent, result.issued, strict=True):
        assert notification.title == (
            "Linli: your community invites you to join. Register at "
            f"https://linli.example.cn/invitations/i/{issued.token}/ (valid until 2026-12-12)."
        )
        assert notification.body == ""
    assert (
        list(OutboxMessage.objects.filter(notification__in=sent).values_list("channel", "status"))
        == [("sms", "pending")] * 3
    )
    assert [i.phone for i in Invitation.objects.order_by("id")] == [
        "13812341234",
        "13912345678",
        "13700001111",
    ]
    batch = result.batch
    assert (batch.count, batch.channel) == (3, "sms")
    assert [h.room for h in batch.no_phone_households.all()] == ["103"]


def test_the_elderly_alone_without_a_phone_are_listed_and_no_message_is_written(world, more):
    result = invite(world.users[Role.SECRETARY], kind="elderly_alone", channel="sms")

    assert result.issued == []
    assert [household.room for household in result.no_phone] == ["103"]
    assert not Notification.objects.exists()
    assert InvitationBatch.objects.get().count == 0


def test_the_batch_page_lists_the_phoneless_households_and_prints_their_letters(world, more):
    secretary = world.users[Role.SECRETARY]
    result = invite(secretary, building=world.building, channel="sms")
    client = client_for(secretary)

    page = client.get(f"/invitations/batches/{result.batch.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "No registered phone: print a letter" in html
    assert "1号楼 103" in html
    assert "139****5678" in html and "13912345678" not in html

    letters = client.post(f"/invitations/batches/{result.batch.pk}/no-phone-letters/")
    assert letters.status_code == 200 and letters["Content-Type"] == "application/pdf"
    assert pdf_page_count(b"".join(letters.streaming_content)) == 1
    letter_batch = InvitationBatch.objects.get(channel="letter")
    assert letter_batch.description == "1号楼 · no registered phone"
    assert [i.household.room for i in letter_batch.invitations.all()] == ["103"]


def test_sending_from_the_form_queues_the_sms_and_shows_the_batch(world, more):
    secretary = world.users[Role.SECRETARY]
    response = client_for(secretary).post(
        "/invitations/",
        {
            "selection": "building",
            "building": world.building.pk,
            "days": "30",
            "channel": "sms",
            "skip_registered": "on",
            "action": "create",
        },
        follow=True,
    )

    batch = InvitationBatch.objects.get()
    assert response.redirect_chain == [(f"/invitations/batches/{batch.pk}/", 302)]
    html = response.content.decode()
    assert "1 invitation queued by SMS." in html
    assert "No registered phone: print a letter" in html
    assert Notification.objects.filter(kind="invitation", address="13912345678").count() == 1


def test_resending_an_sms_batch_sends_new_links_and_revokes_the_old(world, more):
    from linli.invitations.selectors import invitation_prefill
    from linli.invitations.services import invitation_batch_reissue

    secretary = world.users[Role.SECRETARY]
    first = invite(secretary, building=world.building, channel="sms")
    again = invitation_batch_reissue(actor=secretary, batch=first.batch)

    assert again.pdf is None
    assert Notification.objects.filter(kind="invitation", address="13912345678").count() == 2
    assert invitation_prefill(first.issued[0].token) is None
    assert invitation_prefill(again.issued[0].token)["room"] == "102"
