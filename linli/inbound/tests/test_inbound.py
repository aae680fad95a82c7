"""Residents without the app write by SMS or WeChat; staff file it in one step."""

import json

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseSource
from linli.inbound.models import InboundMessage, InboundState
from linli.inbound.services import inbound_receive
from linli.notify.models import Notification, NotificationPreference
from linli.testing.clients import client_for
from linli.wechat.push import push_signature

TOKEN = "inbound-test-token"


@pytest.fixture(autouse=True)
def _tokens(settings):
    settings.LINLI_SMS_INBOUND_TOKEN = TOKEN
    settings.LINLI_WECHAT_TOKEN = "wechat-push-token"


def post_sms(payload, token=TOKEN):
    return client_for(None).post(
        reverse("inbound:sms_webhook"),
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_an_sms_from_a_registered_phone_is_matched_to_the_resident(world):
    response = post_sms({"id": "g-1", "from": "+86 138-1234-1234", "text": "楼道灯坏了"})
    assert response.status_code == 200
    assert response.json() == {"status": "received"}
    message = InboundMessage.objects.get()
    assert (message.sender, message.resident, message.grid_path) == (
        "13812341234",
        world.resident,
        world.resident.grid_path,
    )
    assert message.state == InboundState.NEW


def test_the_same_sms_pushed_twice_is_stored_once(world):
    post_sms({"id": "g-1", "from": "13812341234", "text": "楼道灯坏了"})
    post_sms({"id": "g-1", "from": "13812341234", "text": "楼道灯坏了"})
    assert InboundMessage.objects.count() == 1


def test_staff_of_the_senders_community_are_told(world):
    post_sms({"id": "g-1", "from": "13812341234", "text": "楼道灯坏了"})
    told = set(
        Notification.objects.filter(kind="inbound_message").values_list(
            "recipient__username", flat=True
        )
    )
    assert world.users[Role.SECRETARY].username in told
    assert world.users[Role.RESIDENT].username not in told


def test_a_stop_reply_turns_sms_off_instead_of_becoming_a_message(world):
    resident = world.users[Role.RESIDENT]
    resident.phone = "13800000001"
    resident.save()
    assert post_sms({"id": "g-2", "from": "13800000001", "text": "td"}).json() == {
        "status": "unsubscribed"
    }
    assert NotificationPreference.objects.get(user=resident).sms is False
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"id": "", "from": "13812341234", "text": "x"}, "id"),
        ({"id": "g-3", "from": "", "text": "x"}, "from"),
        ({"id": "g-3", "from": "13812341234", "text": "  "}, "text"),
    ],
)
def test_an_incomplete_sms_is_400_naming_the_field_and_stores_nothing(db, payload, field):
    response = post_sms(payload)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not InboundMessage.objects.exists()


def test_the_sms_webhook_refuses_a_wrong_token_and_is_off_without_one(db, settings):
    assert post_sms({"id": "g", "from": "1", "text": "x"}, token="wrong").status_code == 401
    settings.LINLI_SMS_INBOUND_TOKEN = ""
    assert post_sms({"id": "g", "from": "1", "text": "x"}).status_code == 404
    assert not InboundMessage.objects.exists()


def signed(query: dict) -> dict:
    signature = push_signature("wechat-push-token", "1700000000", "n1")
    return {**query, "signature": signature, "timestamp": "1700000000", "nonce": "n1"}


def test_the_wechat_endpoint_check_echoes_only_when_signed(db):
    client = client_for(None)
    url = reverse("inbound:wechat_push")
    assert client.get(url, signed({"echostr": "abc"})).content == b"abc"
    bad = {"echostr": "abc", "signature": "0" * 40, "timestamp": "1", "nonce": "n"}
    assert client.get(url, bad).status_code == 403


def test_a_wechat_text_message_is_stored_and_thanked(db):
    body = (
        "<xml><ToUserName><![CDATA[gh_oa]]></ToUserName>"
        "<FromUserName><![CDATA[openid-1]]></FromUserName><CreateTime>1700000000</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[门口积水]]></Content>"
        "<MsgId>900</MsgId></xml>"
    )
    url = reverse("inbound:wechat_push") + "?" + "&".join(f"{k}={v}" for k, v in signed({}).items())
    response = client_for(None).post(url, body, content_type="text/xml")
    assert response.status_code == 200
    assert b"<ToUserName><![CDATA[openid-1]]></ToUserName>" in response.content
    message = InboundMessage.objects.get()
    assert (message.channel, message.sender, message.text, message.resident) == (
        "wechat",
        "openid-1",
        "门口积水",
        None,
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.STREET_ADMIN, 200),
        (Role.SECRETARY, 200),
        (Role.MICRO_GRID_LEAD, 200),
        (Role.VOLUNTEER, 404),
        (Role.RESIDENT, 404),
    ],
)
def test_who_may_open_the_messages_list(world, role, status):
    assert client_for(world.users[role]).get(reverse("inbound:list")).status_code == status


def test_the_list_needs_a_login(db):
    assert client_for(None).get(reverse("inbound:list")).status_code == 302


def test_an_unmatched_message_is_seen_by_community_staff_not_by_a_micro_grid_lead(world):
    message = inbound_receive(channel="sms", external_id="u1", sender="13000000000", text="求助")
    url = reverse("inbound:detail", args=[message.pk])
    assert client_for(world.users[Role.SECRETARY]).get(url).status_code == 200
    assert client_for(world.users[Role.MICRO_GRID_LEAD]).get(url).status_code == 404


def minor_category():
    return (
        CaseCategory.objects.filter(parent__isnull=False, is_active=True).order_by("code").first()
    )


def test_staff_file_a_message_as_a_case_in_the_residents_name(world):
    message = inbound_receive(
        channel="sms", external_id="c1", sender="13812341234", text="楼道灯坏了"
    )
    category = minor_category()
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("inbound:detail", args=[message.pk]),
        {
            "action": "case",
            "category": category.pk,
            "building": world.building.pk,
            "description": "楼道灯坏了",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.source, case.reporter_resident, case.building, case.category) == (
        CaseSource.SMS,
        world.resident,
        world.building,
        category,
    )
    message.refresh_from_db()
    assert (message.state, message.case, message.handled_by) == (
        InboundState.CASE_FILED,
        case,
        world.users[Role.SECRETARY],
    )


def test_a_message_filed_once_cannot_be_filed_again(world):
    message = inbound_receive(channel="sms", external_id="c1", sender="13812341234", text="灯坏了")
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("inbound:detail", args=[message.pk])
    client.post(url, {"action": "dismiss", "reason": "重复"})
    response = client.post(url, {"action": "dismiss", "reason": "再次"})
    assert response.status_code in (400, 409)
    message.refresh_from_db()
    assert message.dismiss_reason == "重复"


def test_dismissing_needs_a_reason_and_writes_nothing_without(world):
    message = inbound_receive(channel="sms", external_id="d1", sender="13812341234", text="灯坏了")
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("inbound:detail", args=[message.pk]), {"action": "dismiss", "reason": ""}
    )
    assert response.status_code == 400
    assert response.context["dismiss_form"].errors == {"reason": ["This field is required."]}
    message.refresh_from_db()
    assert message.state == InboundState.NEW


def test_a_help_request_needs_a_live_emergency(world):
    message = inbound_receive(
        channel="sms", external_id="h1", sender="13812341234", text="需要送药"
    )
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("inbound:detail", args=[message.pk]),
        {"action": "help", "kind": "medicine", "urgency": 2, "description": "需要送药"},
    )
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.state == InboundState.NEW


def test_a_sender_with_a_login_is_the_reporter_of_the_case(world):
    resident_login = world.users[Role.RESIDENT]
    resident_login.phone = "13800000001"
    resident_login.save()
    message = inbound_receive(channel="sms", external_id="r1", sender="13800000001", text="灯坏了")
    assert message.user == resident_login
    client_for(world.users[Role.SECRETARY]).post(
        reverse("inbound:detail", args=[message.pk]),
        {
            "action": "case",
            "category": minor_category().pk,
            "building": world.building.pk,
            "description": "灯坏了",
        },
    )
    case = Case.objects.get()
    assert case.reporter == resident_login
    assert not Notification.objects.filter(kind="inbound_recorded").exists()


def test_a_sender_without_a_login_gets_an_sms_with_the_reference(world, settings):
    settings.LANGUAGE_CODE = "en"
    message = inbound_receive(channel="sms", external_id="r2", sender="13812341234", text="灯坏了")
    client_for(world.users[Role.SECRETARY]).post(
        reverse("inbound:detail", args=[message.pk]),
        {
            "action": "case",
            "category": minor_category().pk,
            "building": world.building.pk,
            "description": "灯坏了",
        },
    )
    case = Case.objects.get()
    (told,) = Notification.objects.filter(kind="inbound_recorded")
    assert (told.address, told.title) == (
        "13812341234",
        f"Linli: your message was recorded as case {case.reference}. The community office "
        "will handle it.",
    )
