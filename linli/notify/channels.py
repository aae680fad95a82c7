"""Transports for the outbox: e-mail, a WeCom (企业微信) group robot and an SMS gateway.

A sender takes one OutboxMessage and returns when the message was handed over, or raises:
DeliveryError for what may pass (network down, timeout, HTTP 5xx, rate limit), which the
outbox retries with back-off, and UndeliverableError for what no retry can fix (the recipient
has no e-mail address or phone, the gateway refuses the message), which fails the message
at once with the reason.

Settings are read at call time, not import time: a sender whose variables are missing says
so through `is_configured()`, and its messages wait untouched until it is configured.
`notify` imports no domain app, so everything a sender needs is on the notification and its
recipient (the User).
"""

import json
import smtplib
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from http.client import HTTPException
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation

from linli.notify.contacts import message_address
from linli.notify.events import event_for
from linli.notify.models import Channel, Notification, OutboxMessage
from linli.notify.unsubscribe import unsubscribe_url

# WeCom rejects text content over 2048 bytes (UTF-8).
WECOM_MAX_BYTES = 2048
# Gateways bill a long text as several messages; the whole notification is in the inbox.
SMS_MAX_CHARACTERS = 300
# A gateway's answer is only read for its status (and WeCom's errcode): never read much.
MAX_RESPONSE_BYTES = 64 * 1024
# Statuses that say "try again later" although they are 4xx.
RETRYABLE_CLIENT_STATUSES = {408, 425, 429}


class DeliveryError(Exception):
    """A sender could not deliver this time; the message is retried until MAX_ATTEMPTS."""


class UndeliverableError(DeliveryError):
    """Retrying cannot help (no address, refused by the gateway): the message fails now."""


def notification_text(notification: Notification) -> str:
    """What a message outside the site carries: the title, then the body."""
    return "\n".join(part for part in (notification.title, notification.body.strip()) if part)


def group_text(notification: Notification) -> str:
    """What a group channel carries: the notification's group title, never its title or body
    (they may name a household, its address or a health need: DESIGN §5), then where to read
    the rest. Rendered in the site's language, since a group has no single reader."""
    with translation.override(settings.LANGUAGE_CODE):
        headline = notification.group_title or translation.gettext("There is news in Linli.")
        return "\n".join([headline, translation.gettext("Log in to Linli to read it.")])


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    # Cut on a character boundary and mark the cut.
    return encoded[: max_bytes - len("…".encode())].decode(errors="ignore") + "…"


def _host(url: str) -> str:
    # Errors are stored in the outbox and shown in the admin: name the host only, never the
    # URL, whose query holds the WeCom robot's key.
    return urlsplit(url).hostname or "gateway"


def post_json(url: str, payload: dict, *, headers: dict[str, str] | None = None) -> bytes:
    """POST `payload` as JSON; returns the response body of a 2xx answer.

    Raises DeliveryError on network errors, timeouts, 5xx and 408/425/429, and
    UndeliverableError on any other 4xx (the gateway refused this very request).
    """
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "linli-notify",
            **(headers or {}),
        },
    )
    # A new opener per call reads the proxy variables of the moment (no module-level cache).
    opener = urllib.request.build_opener()
    host = _host(url)
    try:
        with opener.open(request, timeout=settings.LINLI_NOTIFY_TIMEOUT_SECONDS) as response:
            return response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as error:
        reason = f"{host} answered HTTP {error.code}"
        if error.code >= 500 or error.code in RETRYABLE_CLIENT_STATUSES:
            raise DeliveryError(reason) from None
        detail = error.read(200).decode(errors="replace").strip()
        raise UndeliverableError(f"{reason}: {detail}" if detail else reason) from None
    except (OSError, HTTPException) as error:
        # URLError, refused connections and timeouts are all OSError.
        reason = getattr(error, "reason", None) or error
        raise DeliveryError(f"{host} unreachable: {reason}") from None


class ChannelSender(ABC):
    """A callable sender that can tell whether its settings are there."""

    @abstractmethod
    def is_configured(self) -> bool: ...

    @abstractmethod
    def __call__(self, message: OutboxMessage) -> None: ...


def message_id_header(message: OutboxMessage) -> str:
    """A Message-ID made from the outbox message's dedupe key, in the sender's domain."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return f"<linli-outbox.{message.dedupe_key}@{domain}>"


class EmailSender(ChannelSender):
    """Through Django's mail (EMAIL_* settings, from LINLI_EMAIL_*) to the user's address."""

    def is_configured(self) -> bool:
        return bool(settings.EMAIL_HOST)

    def __call__(self, message: OutboxMessage) -> None:
        notification = message.notification
        address = message_address(notification, Channel.EMAIL)
        if not address:
            raise UndeliverableError("recipient has no e-mail address")
        # A subject is one line: a newline in it is refused as header injection.
        subject = " ".join(notification.title.split())
        headers = {
            # The same on every attempt: a resend after a lost answer is the same mail, which
            # mail clients show once.
            "Message-ID": message_id_header(message)
        }
        body = notification_text(notification)
        unsubscribe = unsubscribe_link(notification)
        if unsubscribe:
            # RFC 8058: mail clients offer their own one-click unsubscribe button.
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            with translation.override(settings.LANGUAGE_CODE):
                footer = translation.gettext("Stop these messages: %(link)s") % {
                    "link": unsubscribe
                }
            body = f"{body}\n\n-- \n{footer}"
        mail = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers=headers,
        )
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _reply in error.recipients.values()]
            reason = f"mail server refused the recipient (SMTP {', '.join(map(str, codes))})"
            if all(code >= 500 for code in codes):
                raise UndeliverableError(reason) from None
            raise DeliveryError(reason) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"mail server: {error}") from None


class WeComSender(ChannelSender):
    """A WeCom group robot: one text message to the group per send (see GROUP_CHANNELS).

    The post names nobody and no household (`group_text`): the group sees that something
    happened, each person the detail in their own inbox, behind login. The
    robot takes no dedupe key: a post resent after a worker died mid-send may appear twice.
    """

    def is_configured(self) -> bool:
        return bool(settings.LINLI_WECOM_WEBHOOK_URL)

    def __call__(self, message: OutboxMessage) -> None:
        content = _truncate_utf8(group_text(message.notification), WECOM_MAX_BYTES)
        url = settings.LINLI_WECOM_WEBHOOK_URL
        answer = post_json(url, {"msgtype": "text", "text": {"content": content}})
        # WeCom answers HTTP 200 also when it refuses: the verdict is in errcode.
        try:
            result = json.loads(answer)
            errcode, errmsg = result["errcode"], result.get("errmsg", "")
        except (ValueError, TypeError, KeyError):
            raise DeliveryError(f"{_host(url)} answered without an errcode") from None
        if errcode != 0:
            # e.g. 45009: the robot's rate limit (20 a minute); worth retrying later.
            raise DeliveryError(f"WeCom errcode {errcode}: {errmsg}")


class SmsSender(ChannelSender):
    """A generic HTTP SMS gateway: POST {"to": phone, "text": ..., "dedupe_key": ...},
    optional bearer token.

    The message's dedupe key goes in the body and as the `Idempotency-Key` header, the same
    on every attempt: a gateway that honours either sends a resent message once.
    """

    def is_configured(self) -> bool:
        return bool(settings.LINLI_SMS_GATEWAY_URL)

    def __call__(self, message: OutboxMessage) -> None:
        notification = message.notification
        phone = message_address(notification, Channel.SMS)
        if not phone:
            raise UndeliverableError("recipient has no mobile phone")
        text = notification_text(notification)
        unsubscribe = unsubscribe_link(notification)
        footer = ""
        if unsubscribe:
            with translation.override(settings.LANGUAGE_CODE):
                footer = " " + translation.gettext("Stop: %(link)s") % {"link": unsubscribe}
        room = SMS_MAX_CHARACTERS - len(footer)
        if len(text) > room:
            text = text[: room - 1] + "…"
        text += footer
        dedupe_key = str(message.dedupe_key)
        headers = {"Idempotency-Key": dedupe_key}
        if settings.LINLI_SMS_GATEWAY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.LINLI_SMS_GATEWAY_TOKEN}"
        post_json(
            settings.LINLI_SMS_GATEWAY_URL,
            {"to": phone, "text": text, "dedupe_key": dedupe_key},
            headers=headers,
        )


def unsubscribe_link(notification: Notification) -> str:
    """The message's one-click unsubscribe link: for the events of the table
    (linli.notify.events) that are not urgent (an emergency cannot be muted), to a person (a
    code or an invitation to a bare address has nothing to stop)."""
    event = event_for(notification.kind)
    if notification.recipient_id is None or event is None or event.urgent:
        return ""
    return unsubscribe_url(notification)


def _send_inapp(message: OutboxMessage) -> None:
    # The Notification row already is the inbox entry: delivering it is only bookkeeping.
    return None


Sender = Callable[[OutboxMessage], None]

# One sender per channel; a channel without an entry (WeChat template messages) has no
# transport yet. A sender with `is_configured()` counts only while that says yes.
CHANNEL_SENDERS: dict[str, Sender] = {
    Channel.INAPP: _send_inapp,
    Channel.EMAIL: EmailSender(),
    Channel.WECOM: WeComSender(),
    Channel.SMS: SmsSender(),
}


def sender_for(channel: str) -> Sender | None:
    """The channel's sender if it is registered and configured, else None."""
    sender = CHANNEL_SENDERS.get(channel)
    is_configured = getattr(sender, "is_configured", None)
    if sender is None or (is_configured is not None and not is_configured()):
        return None
    return sender


def configured_channels() -> list[str]:
    """The channels that can deliver now, in-app first."""
    return [channel for channel in CHANNEL_SENDERS if sender_for(channel) is not None]
