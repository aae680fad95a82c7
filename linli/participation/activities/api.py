"""`/api/v1/activities`: activities for apps.

Mounted by linli/api.py with `api.add_router("/activities", router)`. Conventions follow
cases.api (limit/offset paging, `{"items", "count"}`, errors `{"message", "field"}`, 404 for
anything outside the caller's scope, 403 for a refused action). Reads go through
activities.selectors, writes through activities.services. A sign-up list names people
by their display name only; phones never appear.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    BoundedDateTime,
    Id,
    PageIn,
    column_int,
    column_text,
    paginate,
    visible_or_404,
)
from linli.errors import NotAllowed
from linli.idempotency.decorators import idempotent
from linli.participation.activities import selectors, services
from linli.participation.activities.models import Activity, Feedback, Occurrence, SignUp

router = Router(tags=["activities"])


# Schemas ------------------------------------------------------------------------------


class OccurrenceOut(Schema):
    id: int
    activity_id: int
    kind: str
    title: str
    organiser: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    confirmed: int = Field(description="Places taken")
    waitlisted: int
    state: str
    my_status: str | None = Field(None, description="confirmed, waitlisted or null")


class OccurrencePage(Schema):
    items: list[OccurrenceOut]
    count: int


class StallOut(Schema):
    id: int
    service: str
    label: str
    provider_kind: str
    provider: str
    served_count: int | None


class OccurrenceDetailOut(OccurrenceOut):
    description: str
    rrule: str
    invited_posts: str
    minutes: str
    decisions: str
    stalls: list[StallOut]
    my_sign_up_id: int | None = None
    my_checked_in: bool = False


class ListFilters(Schema):
    scope: Literal["mine", "staff"] = Field(
        "mine", description="mine: upcoming in my communities; staff: organised"
    )
    past: bool = Field(False, description="staff: include past occurrences")


class SignUpOut(Schema):
    id: int
    occurrence_id: int
    status: str
    created_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    hours_credited: bool


class SignUpPage(Schema):
    items: list[SignUpOut]
    count: int


class AttendeeOut(SignUpOut):
    name: str
    check_in_method: str


class AttendancePage(Schema):
    items: list[AttendeeOut]
    count: int


class CheckInIn(Schema):
    token: column_text(Occurrence, "check_in_token")


class FeedbackIn(Schema):
    rating: column_int(Feedback, "rating")
    comment: column_text(Feedback, "comment") = ""


class FeedbackOut(Schema):
    id: int
    occurrence_id: int
    rating: int
    comment: str


class ActivityIn(Schema):
    organiser_id: Id
    kind: column_text(Activity, "kind")
    title: column_text(Activity, "title")
    description: column_text(Activity, "description") = ""
    venue_id: Id | None = None
    capacity: column_int(Activity, "capacity")
    starts_at: BoundedDateTime
    ends_at: BoundedDateTime
    rrule: column_text(Activity, "rrule") = Field(
        "", description="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TH;COUNT=8"
    )
    invited_community_ids: list[Id] = []
    invited_posts: column_text(Activity, "invited_posts") = ""


class ActivityOut(Schema):
    id: int
    kind: str
    title: str
    capacity: int
    rrule: str
    occurrence_ids: list[int]


# Serialisation --------------------------------------------------------------------------


def _my_status(occurrence) -> str | None:
    if getattr(occurrence, "my_confirmed", False):
        return "confirmed"
    if getattr(occurrence, "my_waitlisted", False):
        return "waitlisted"
    return None


def _occurrence(occurrence: Occurrence) -> dict:
    activity = occurrence.activity
    return {
        "id": occurrence.pk,
        "activity_id": activity.pk,
        "kind": activity.kind,
        "title": activity.title,
        "organiser": activity.organiser.name,
        "venue": activity.venue.name if activity.venue_id else "",
        "starts_at": timezone.localtime(occurrence.starts_at),
        "ends_at": timezone.localtime(occurrence.ends_at),
        "capacity": occurrence.capacity,
        "confirmed": occurrence.confirmed_count,
        "waitlisted": occurrence.waitlist_count,
        "state": occurrence.state,
        "my_status": _my_status(occurrence),
    }


def _sign_up(sign_up: SignUp) -> dict:
    return {
        "id": sign_up.pk,
        "occurrence_id": sign_up.occurrence_id,
        "status": sign_up.status,
        "created_at": timezone.localtime(sign_up.created_at),
        "checked_in_at": sign_up.checked_in_at,
        "checked_out_at": sign_up.checked_out_at,
        "hours_credited": sign_up.hours_credited_at is not None,
    }


def _visible(user, occurrence_id: Id) -> Occurrence:
    return visible_or_404(
        selectors.occurrence_get, "occurrence_id", user=user, occurrence_id=occurrence_id
    )


def _managed(user, occurrence_id: Id) -> Occurrence:
    return visible_or_404(
        selectors.occurrence_get_managed, "occurrence_id", user=user, occurrence_id=occurrence_id
    )


# Routes ---------------------------------------------------------------------------------


@router.get("", response={200: OccurrencePage, **ERRORS}, summary="Upcoming or organised")
def occurrence_list(request: HttpRequest, filters: Query[ListFilters], page: Query[PageIn]):
    user = request.auth
    if filters.scope == "staff":
        if not selectors.may_manage(user):
            raise NotAllowed(_("You organise no activities."))
        queryset = selectors.occurrences_for_staff(user=user, upcoming_only=not filters.past)
    elif filters.scope == "mine":
        queryset = selectors.upcoming_for(user=user)
    else:
        raise DjangoValidationError({"scope": _("Give scope=mine or scope=staff.")})
    items, count = paginate(queryset, page)
    return {"items": [_occurrence(item) for item in items], "count": count}


@router.get("/sign-ups", response={200: SignUpPage, **ERRORS}, summary="My sign-ups")
def my_sign_ups(request: HttpRequest, page: Query[PageIn]):
    items, count = paginate(selectors.my_sign_ups(user=request.auth), page)
    return {"items": [_sign_up(item) for item in items], "count": count}


@router.get("/{int:occurrence_id}", response={200: OccurrenceDetailOut, **ERRORS})
def occurrence_detail(request: HttpRequest, occurrence_id: Id):
    user = request.auth
    found = _visible(user, occurrence_id)
    counted = selectors.with_counts(
        selectors.occurrences_visible(user=user).filter(pk=found.pk), user=user
    ).get()
    activity = found.activity
    mine = selectors.my_sign_up_for(user=user, occurrence=found)
    return {
        **_occurrence(counted),
        "description": activity.description,
        "rrule": activity.rrule,
        "invited_posts": activity.invited_posts,
        "minutes": found.minutes,
        "decisions": found.decisions,
        "stalls": [
            {
                "id": stall.pk,
                "service": stall.service,
                "label": stall.label,
                "provider_kind": stall.provider_kind,
                "provider": stall.provider_name,
                "served_count": stall.served_count,
            }
            for stall in found.stalls.select_related("volunteer", "team", "partner")
        ],
        "my_sign_up_id": mine.pk if mine else None,
        "my_checked_in": bool(mine and mine.checked_in_at),
    }


@router.post("/{int:occurrence_id}/sign-up", response={201: SignUpOut, **WRITE_ERRORS})
@idempotent
def sign_up(request: HttpRequest, occurrence_id: Id):
    found = _visible(request.auth, occurrence_id)
    return Status(201, _sign_up(services.signup_create(occurrence=found, user=request.auth)))


@router.post("/sign-ups/{int:sign_up_id}/cancel", response={200: SignUpOut, **WRITE_ERRORS})
def cancel(request: HttpRequest, sign_up_id: Id):
    user = request.auth
    try:
        sign_up = selectors.sign_up_get_own(user=user, sign_up_id=sign_up_id)
    except Http404:
        sign_up = visible_or_404(
            selectors.sign_up_get_managed, "sign_up_id", user=user, sign_up_id=sign_up_id
        )
    return _sign_up(services.signup_cancel(sign_up=sign_up, actor=user))


@router.post("/check-in", response={200: SignUpOut, **WRITE_ERRORS}, summary="Scan a code")
def check_in(request: HttpRequest, payload: CheckInIn):
    return _sign_up(services.occurrence_check_in(token=payload.token, user=request.auth))


@router.get("/{int:occurrence_id}/attendance", response={200: AttendancePage, **ERRORS})
def attendance(request: HttpRequest, occurrence_id: Id, page: Query[PageIn]):
    found = _managed(request.auth, occurrence_id)
    items, count = paginate(selectors.sign_ups_of(user=request.auth, occurrence=found), page)
    return {
        "items": [
            {
                **_sign_up(item),
                "name": item.user.display_name or item.user.username,
                "check_in_method": item.check_in_method,
            }
            for item in items
        ],
        "count": count,
    }


@router.post("/sign-ups/{int:sign_up_id}/check-in", response={200: SignUpOut, **WRITE_ERRORS})
def organiser_check_in(request: HttpRequest, sign_up_id: Id):
    sign_up = visible_or_404(
        selectors.sign_up_get_managed, "sign_up_id", user=request.auth, sign_up_id=sign_up_id
    )
    return _sign_up(services.signup_check_in(sign_up=sign_up, actor=request.auth))


@router.post("/{int:occurrence_id}/feedback", response={201: FeedbackOut, **WRITE_ERRORS})
def feedback(request: HttpRequest, occurrence_id: Id, payload: FeedbackIn):
    found = _visible(request.auth, occurrence_id)
    created = services.feedback_submit(
        occurrence=found, user=request.auth, rating=payload.rating, comment=payload.comment
    )
    return Status(
        201,
        {
            "id": created.pk,
            "occurrence_id": found.pk,
            "rating": created.rating,
            "comment": created.comment,
        },
    )


@router.post("/{int:occurrence_id}/close", response={200: dict[str, int], **WRITE_ERRORS})
def close(request: HttpRequest, occurrence_id: Id):
    found = _managed(request.auth, occurrence_id)
    return {"credited": services.occurrence_close(occurrence=found, actor=request.auth)}


class CancelIn(Schema):
    reason: Annotated[str, Field(max_length=500)]


@router.post("/{int:occurrence_id}/cancel", response={200: OccurrenceOut, **WRITE_ERRORS})
def cancel_occurrence(request: HttpRequest, occurrence_id: Id, payload: CancelIn):
    user = request.auth
    found = _managed(user, occurrence_id)
    services.occurrence_cancel(occurrence=found, actor=user, reason=payload.reason)
    counted = selectors.with_counts(
        selectors.occurrences_managed(user=user).filter(pk=found.pk), user=user
    ).get()
    return _occurrence(counted)


@router.post("", response={201: ActivityOut, **WRITE_ERRORS}, summary="Staff: create")
def activity_create(request: HttpRequest, payload: ActivityIn):
    user = request.auth
    if not selectors.may_manage(user):
        raise NotAllowed(_("You organise no activities."))
    organiser = selectors.communities_managed(user=user).filter(pk=payload.organiser_id).first()
    if organiser is None:
        raise DjangoValidationError({"organiser_id": _("Unknown organiser.")})
    venue = None
    if payload.venue_id is not None:
        venue = selectors.venues_usable(user=user).filter(pk=payload.venue_id).first()
        if venue is None:
            raise DjangoValidationError({"venue_id": _("Unknown venue.")})
    # Only communities of the organiser's area (a street administrator's holds them all):
    # one answer for an unknown community and one outside the area.
    communities = list(
        selectors.communities_invitable(user=user).filter(pk__in=payload.invited_community_ids)
    )
    if len(communities) != len(set(payload.invited_community_ids)):
        raise DjangoValidationError({"invited_community_ids": services.INVITATION_OUTSIDE})
    activity = services.activity_create(
        actor=user,
        organiser=organiser,
        kind=payload.kind,
        title=payload.title,
        description=payload.description,
        venue=venue,
        capacity=payload.capacity,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        rrule=payload.rrule,
        invited_communities=communities,
        invited_posts=payload.invited_posts,
    )
    return Status(
        201,
        {
            "id": activity.pk,
            "kind": activity.kind,
            "title": activity.title,
            "capacity": activity.capacity,
            "rrule": activity.rrule,
            "occurrence_ids": list(
                activity.occurrences.order_by("starts_at").values_list("id", flat=True)
            ),
        },
    )
