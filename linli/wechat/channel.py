"""WeChat template messages as a notification channel (linli.notify.channels).

One message per notification, to the openid the recipient bound (linli.wechat.models), with
the Official Account's template LINLI_WECHAT_TEMPLATE_ID. The template is one the operator
picks in the Official Account's template library; Linli fills three fields:

    thing1  the notification's title                  (WeChat's "thing": 20 characters at most)
    thing2  the first line of its body, or "Read it in Linli" (请进入邻里查看) without one (20 at most)
    time3   when it was made, in Asia/Shanghai, e.g. "2026年11月27日 16:00"

and links it to the notification's page on LINLI_SITE_URL. Longer texts are cut with "…"
(WeChat refuses a "thing" over 20 characters); the whole notification is in the inbox.

The recipient is the person themselves (as with SMS), so the title and body may go; a WeChat
group never gets them (that is the WeCom channel's group text).

Errors: 40001/40014/42001 (the access token lapsed) fetch a new token and send once more;
43004 (the person does not follow the Official Account) and 40003 (an openid that is not
ours) fail the message at once (UndeliverableError); any other errcode, and no answer, is a
DeliveryError the outbox retries with back-off.
"""

from django.conf import settings
from django.utils import timezone, translation

from linli.notify.channels import (
    ChannelSender,
    DeliveryError,
    UndeliverableError,
    post_json,
)
from linli.notify.contacts import message_address
from linli.notify.models import Channel, Notification, OutboxMessage
from linli.wechat import client

# WeChat's limit on a "thing" field of a template message.
THING_MAX_CHARACTERS = 20
# The person does not follow the Official Account / the openid is not one of ours.
UNDELIVERABLE_ERRCODES = {
    43004: "the recipient does not follow the Official Account",
    40003: "the recipient's openid is not valid for this Official Account",
}


def _thing(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= THING_MAX_CHARACTERS:
        return text
    return text[: THING_MAX_CHARACTERS - 1] + "…"


def template_data(notification: Notification) -> dict:
    """The template's fields (see the module's docstring), in the site's language."""
    first_line = next((line for line in notification.body.splitlines() if line.strip()), "")
    with translation.override(settings.LANGUAGE_CODE):
        detail = first_line or translation.gettext("Read it in Linli")
        made = timezone.localtime(notification.created_at)
        return {
            "thing1": {"value": _thing(notification.title)},
            "thing2": {"value": _thing(detail)},
            "time3": {"value": f"{made:%Y年%m月%d日 %H:%M}"},
        }


def template_payload(notification: Notification, openid: str) -> dict:
    payload = {
        "touser": openid,
        "template_id": settings.LINLI_WECHAT_TEMPLATE_ID,
        "data": template_data(notification),
    }
    if notification.link:
        payload["url"] = f"{settings.LINLI_SITE_URL}{notification.link}"
    return payload


class WeChatSender(ChannelSender):
    """Registered as CHANNEL_SENDERS[Channel.WECHAT] by linli.wechat's AppConfig."""

    def is_configured(self) -> bool:
        return bool(
            settings.LINLI_WECHAT_APP_ID
            and settings.LINLI_WECHAT_APP_SECRET
            and settings.LINLI_WECHAT_TEMPLATE_ID
        )

    def __call__(self, message: OutboxMessage) -> None:
        notification = message.notification
        openid = message_address(notification, Channel.WECHAT)
        if not openid:
            raise UndeliverableError("recipient has not bound WeChat")
        payload = template_payload(notification, openid)
        try:
            self._send(payload, refresh=False)
        except client.WeChatError as error:
            if error.errcode not in client.TOKEN_EXPIRED_ERRCODES:
                raise self._refusal(error) from None
            # The token lapsed (or a newer one was fetched elsewhere): once more, anew.
            try:
                self._send(payload, refresh=True)
            except client.WeChatError as again:
                raise self._refusal(again) from None

    @staticmethod
    def _send(payload: dict, *, refresh: bool) -> None:
        try:
            token = client.access_token(refresh=refresh)
        except client.WeChatUnreachable as error:
            raise DeliveryError(str(error)) from None
        except client.WeChatError as error:
            # The app id or secret is refused, or the server's address is not on the
            # Official Account's list: the operator fixes it, the message waits.
            raise DeliveryError(f"access token: {error}") from None
        url = client.api_url("/cgi-bin/message/template/send", access_token=token)
        answer = post_json(url, payload)
        try:
            client.checked_answer(answer, url)
        except client.WeChatUnreachable as error:
            raise DeliveryError(str(error)) from None

    @staticmethod
    def _refusal(error: "client.WeChatError") -> DeliveryError:
        if error.errcode in UNDELIVERABLE_ERRCODES:
            return UndeliverableError(f"{UNDELIVERABLE_ERRCODES[error.errcode]} ({error})")
        return DeliveryError(str(error))
