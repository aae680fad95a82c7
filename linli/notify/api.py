"""`/api/v1/notifications`: the caller's own inbox.

Mounted by linli/api.py with `api.add_router("/notifications", router)`. Paging follows
grids.api (limit/offset, `{"items", "count"}`); the few helpers are repeated here rather than
imported because notify depends on no domain app.
"""

import json
from datetime import datetime, time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from linli.api_shared import ERRORS, WRITE_ERRORS, Id, PageIn, paginate
from linli.errors import Invalid
from linli.notify import selectors
from linli.notify.events import describe_target
from linli.notify.models import Notification, NotificationPreference
from linli.notify.services import (
    notification_mark_read,
    notifications_mark_all_read,
    preference_update,
    unfollow,
)

router = Router(tags=["notifications"])


class NotificationFilters(Schema):
    unread: bool | None = None


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int
    unread: int = Field(description="Unread notifications of the caller, for the badge")


class MarkedOut(Schema):
    marked: int


def _notification(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.display_title,
        "body": notification.body,
        "link": notification.link,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


@router.get("", response={200: NotificationPage, **ERRORS}, summary="My notifications")
def notification_list(
    request: HttpRequest, filters: Query[NotificationFilters], page: Query[PageIn]
) -> dict[str, Any]:
    notifications = selectors.inbox(request.auth)
    if filters.unread is not None:
        notifications = notifications.filter(read_at__isnull=filters.unread)
    items, count = paginate(notifications, page)
    return {
        "items": [_notification(notification) for notification in items],
        "count": count,
        "unread": selectors.unread_count(request.auth),
    }


@router.post(
    "/{notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    summary="Mark one of my notifications read",
)
def notification_read(request: HttpRequest, notification_id: Id) -> dict[str, Any]:
    # Someone else's notification answers 404 like a missing one (selectors.notification_get).
    notification = selectors.notification_get(user=request.auth, notification_id=notification_id)
    return _notification(notification_mark_read(user=request.auth, notification=notification))


@router.post("/read-all", response={200: MarkedOut, **ERRORS}, summary="Mark all mine read")
def notification_read_all(request: HttpRequest) -> dict[str, int]:
    return {"marked": notifications_mark_all_read(user=request.auth)}


class PreferenceOut(Schema):
    sms: bool
    email: bool
    wechat: bool
    sms_phone: str
    quiet_from: time | None
    quiet_until: time | None
    daily_digest: bool
    muted_kinds: list[str]


class PreferenceIn(Schema):
    sms: bool | None = None
    email: bool | None = None
    wechat: bool | None = None
    sms_phone: str | None = Field(None, max_length=20)
    quiet_from: time | None = None
    quiet_until: time | None = None
    daily_digest: bool | None = None


class FollowTarget(Schema):
    target: str = Field(max_length=120, description='What is followed, e.g. "case:42"')


class FollowOut(Schema):
    target: str
    title: str
    link: str
    created_at: datetime


def _preference(preference: NotificationPreference) -> dict[str, Any]:
    return {
        "sms": preference.sms,
        "email": preference.email,
        "wechat": preference.wechat,
        "sms_phone": preference.sms_phone,
        "quiet_from": preference.quiet_from,
        "quiet_until": preference.quiet_until,
        "daily_digest": preference.daily_digest,
        "muted_kinds": list(preference.muted_kinds or []),
    }


@router.get("/preferences", response={200: PreferenceOut, **ERRORS}, summary="My settings")
def preference_read(request: HttpRequest) -> dict[str, Any]:
    return _preference(selectors.preference_of(request.auth))


@router.patch(
    "/preferences", response={200: PreferenceOut, **WRITE_ERRORS}, summary="Change my settings"
)
def preference_change(request: HttpRequest, payload: PreferenceIn) -> dict[str, Any]:
    # Every field is optional: a body that is no JSON object would read as "change nothing".
    if not isinstance(json.loads(request.body or b"{}"), dict):
        raise Invalid(_("Send the settings as a JSON object."), field="body")
    values = payload.dict(exclude_unset=True)
    for name in ("quiet_from", "quiet_until"):
        if values.get(name) is not None and values[name].tzinfo is not None:
            raise Invalid(_("Give a local time (Beijing time), without a time zone."), field=name)
    current = selectors.preference_of(request.auth)
    # Quiet hours come as a pair; one end given alone keeps the other as it was.
    if "quiet_from" in values or "quiet_until" in values:
        values.setdefault("quiet_from", current.quiet_from)
        values.setdefault("quiet_until", current.quiet_until)
    values = {name: value for name, value in values.items() if value is not None or "quiet" in name}
    preference = preference_update(user=request.auth, updated_by=request.auth, values=values)
    return _preference(preference)


@router.get("/follows", response={200: list[FollowOut], **ERRORS}, summary="What I follow")
def follow_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "target": subscription.target,
            "title": (described := describe_target(subscription.target))[0],
            "link": described[1],
            "created_at": subscription.created_at,
        }
        for subscription in selectors.subscriptions_of(request.auth)
    ]


@router.delete("/follows/{target}", response={204: None, **WRITE_ERRORS}, summary="Stop following")
def follow_delete(request: HttpRequest, target: Path[FollowTarget]):
    unfollow(user=request.auth, target=target.target)
    return Status(204, None)
