"""The Official Account's message push (消息推送), as pure functions: the signature check, the
XML of a pushed message and of a passive text reply. Nothing here reads settings, the
database or the network; the endpoint that receives pushes passes LINLI_WECHAT_TOKEN in.

WeChat signs each push (and the GET that checks the endpoint, whose `echostr` is answered
as is) with `signature = sha1("".join(sorted([token, timestamp, nonce])))`. This is the
plain-text mode; the encrypted ("safe") mode signs and wraps the body differently.
"""

import hashlib
import hmac
import xml.etree.ElementTree as ElementTree

# A pushed message is a few hundred bytes; refuse anything much larger before parsing.
MAX_PUSH_BYTES = 64 * 1024


class PushRejected(ValueError):
    """The body is not a pushed message Linli reads (too large, a DTD, not flat XML)."""


def push_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def verify_push_signature(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """Whether a push (or the endpoint check) was signed with our token. False when the
    token is not configured or a part is missing."""
    if not (token and signature and timestamp and nonce):
        return False
    expected = push_signature(token, timestamp, nonce)
    return hmac.compare_digest(expected, signature.strip().lower())


def parse_push_xml(body: bytes | str) -> dict[str, str]:
    """The fields of a pushed message: `<xml><ToUserName>…</ToUserName><FromUserName>…`
    becomes {"ToUserName": …, "FromUserName": …, "CreateTime": …, "MsgType": …,
    "Content": …, "MsgId": …} (an event has "Event", "EventKey" instead of "Content").
    FromUserName is the sender's openid. Values are stripped text ("" for an empty element).

    Raises PushRejected for a body over MAX_PUSH_BYTES, one with a DOCTYPE or an entity
    (no entity expansion, ever), or one that is not an <xml> element of plain fields."""
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_PUSH_BYTES:
        raise PushRejected("push body too large")
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise PushRejected("push body declares a DTD or entities")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as error:
        raise PushRejected(f"push body is not XML: {error}") from None
    if root.tag != "xml":
        raise PushRejected("push body is not an <xml> message")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            # Nested elements (e.g. a location's or a menu's details): kept as their text.
            fields[child.tag] = "".join(child.itertext()).strip()
        else:
            fields[child.tag] = (child.text or "").strip()
    return fields


def _cdata(text: str) -> str:
    # "]]>" would end the section: split it across two.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def reply_text_xml(*, to_user: str, from_user: str, content: str, create_time: int) -> str:
    """A passive text reply to a push: `to_user` is the sender's openid (the push's
    FromUserName), `from_user` the Official Account (the push's ToUserName)."""
    return (
        "<xml>"
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )
