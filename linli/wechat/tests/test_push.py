"""The Official Account's message push: the signature check and the XML helpers are pure
functions (the inbound endpoint is built on them elsewhere)."""

import hashlib

import pytest

from linli.wechat.push import (
    MAX_PUSH_BYTES,
    PushRejected,
    parse_push_xml,
    push_signature,
    reply_text_xml,
    verify_push_signature,
)

TOKEN = "push-token"
TIMESTAMP = "1764230400"
NONCE = "372619"
# sha1 of the three sorted as strings: "1764230400" < "372619" < "push-token".
SIGNATURE = hashlib.sha1(b"1764230400372619push-token").hexdigest()

TEXT_PUSH = b"""<xml>
  <ToUserName><![CDATA[gh_linli]]></ToUserName>
  <FromUserName><![CDATA[o-resident-openid]]></FromUserName>
  <CreateTime>1764230400</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[3\xe5\x8f\xb7\xe6\xa5\xbc\xe9\x81\x93\xe7\x81\xaf\xe5\x9d\x8f\xe4\xba\x86 <b>]]></Content>
  <MsgId>24368902345678901</MsgId>
</xml>"""


def test_the_signature_is_the_sha1_of_the_sorted_token_timestamp_and_nonce():
    assert push_signature(TOKEN, TIMESTAMP, NONCE) == SIGNATURE
    assert verify_push_signature(TOKEN, SIGNATURE, TIMESTAMP, NONCE) is True
    assert verify_push_signature(TOKEN, SIGNATURE.upper(), TIMESTAMP, NONCE) is True


@pytest.mark.parametrize(
    "token,signature,timestamp,nonce",
    [
        ("other-token", SIGNATURE, TIMESTAMP, NONCE),
        (TOKEN, SIGNATURE, "1764230401", NONCE),
        (TOKEN, SIGNATURE, TIMESTAMP, "372610"),
        (TOKEN, "0" * 40, TIMESTAMP, NONCE),
        # No token configured, or a part missing: never valid.
        ("", push_signature("", TIMESTAMP, NONCE), TIMESTAMP, NONCE),
        (TOKEN, "", TIMESTAMP, NONCE),
        (TOKEN, SIGNATURE, "", NONCE),
        (TOKEN, SIGNATURE, TIMESTAMP, ""),
    ],
)
def test_a_signature_made_otherwise_is_refused(token, signature, timestamp, nonce):
    assert verify_push_signature(token, signature, timestamp, nonce) is False


def test_a_text_push_is_read_into_its_fields():
    assert parse_push_xml(TEXT_PUSH) == {
        "ToUserName": "gh_linli",
        "FromUserName": "o-resident-openid",
        "CreateTime": "1764230400",
        "MsgType": "text",
        "Content": "3号楼道灯坏了 <b>",
        "MsgId": "24368902345678901",
    }


def test_an_event_push_is_read_from_text_as_well():
    body = (
        "<xml><ToUserName>gh_linli</ToUserName><FromUserName>o-x</FromUserName>"
        "<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe</Event>"
        "<EventKey></EventKey></xml>"
    )
    assert parse_push_xml(body) == {
        "ToUserName": "gh_linli",
        "FromUserName": "o-x",
        "CreateTime": "1",
        "MsgType": "event",
        "Event": "subscribe",
        "EventKey": "",
    }


@pytest.mark.parametrize(
    "body,reason",
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
            "push body declares a DTD or entities",
        ),
        (b"<xml><Content>" + b"a" * MAX_PUSH_BYTES + b"</Content></xml>", "push body too large"),
        (b"<root><Content>x</Content></root>", "push body is not an <xml> message"),
        (b"not xml at all", "push body is not XML: syntax error: line 1, column 0"),
    ],
)
def test_a_body_that_is_no_plain_push_is_refused(body, reason):
    with pytest.raises(PushRejected) as refused:
        parse_push_xml(body)
    assert str(refused.value) == reason


def test_a_text_reply_reads_back_as_the_same_fields_even_with_a_cdata_end_inside():
    xml = reply_text_xml(
        to_user="o-resident-openid",
        from_user="gh_linli",
        content="已收到]]>谢谢",
        create_time=1764230401,
    )
    assert parse_push_xml(xml) == {
        "ToUserName": "o-resident-openid",
        "FromUserName": "gh_linli",
        "CreateTime": "1764230401",
        "MsgType": "text",
        "Content": "已收到]]>谢谢",
    }
