"""`/api/v1/notifications`: the caller's own inbox.

Mounted by linli/api.py with `api.add_router("/notifications", router)`. Paging follows
grids.api (limit/offset, `{"items", "count"}`); the few helpers are repeated here rather than
imported because notify depends on no domain app.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from linli.api_shared import ERRORS, Id, PageIn, paginate
from linli.notify import selectors
from linli.notify.models import Notification
from linli.notify.services import notification_mark_read, notifications_mark_all_read

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
