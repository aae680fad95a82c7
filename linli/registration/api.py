"""`/api/v1/registration`: register from a building's poster, and the leaders' decisions.

Mounted by linli/api.py with `api.add_router("/registration", router)`.

Registering takes a code first: `POST /api/v1/signin/phone-codes` with `purpose:
"register"`. Then `POST /api/v1/registration` answers `linked` (the registry matched: sign
in with the phone, `POST /api/v1/signin/phone-sessions`) or `requested` (the building-group
leader decides; an SMS follows) — the same `requested` whatever kept it from matching.
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.addresses import client_address
from linli.api_shared import ERRORS, WRITE_ERRORS, ErrorOut, Id, PageIn, paginate, visible_or_404
from linli.errors import Invalid, NotVisible
from linli.grids.models import Building
from linli.grids.selectors import needs_registry
from linli.registration import selectors, services
from linli.registration.models import (
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    ROOM_MAX_LENGTH,
    RegistrationRequest,
    RequestStatus,
)
from linli.registration.tokens import building_for_token

router = Router(tags=["registration"])


class RegistrationIn(Schema):
    # The token of the building's poster (the last part of its address), or an invitation.
    building_token: str = Field("", max_length=200)
    invitation: str = Field("", max_length=200)
    phone: str = Field(..., max_length=32)
    code: str = Field(..., max_length=12)
    name: str = Field(..., max_length=NAME_MAX_LENGTH * 2)
    room: str = Field("", max_length=ROOM_MAX_LENGTH * 2)
    # The last four characters of the ID number; empty when the phone is the registered one.
    id_last4: str = Field("", max_length=8)


class RegistrationOut(Schema):
    outcome: Literal["linked", "requested"]
    message: str


class CandidateOut(Schema):
    id: int
    name: str
    room: str
    sex: str
    birth_year: int
    id_number_masked: str
    phone_masked: str
    has_login: bool
    suggested: bool


class RegistrationRequestOut(Schema):
    id: int
    building_id: int
    building: str
    room: str
    name: str
    phone_masked: str
    cause: str
    status: str
    reason: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    resident_id: int | None
    candidates: list[CandidateOut]


class RegistrationRequestPage(Schema):
    items: list[RegistrationRequestOut]
    count: int


class RequestFilters(Schema):
    status: Literal[tuple(RequestStatus.values)] = RequestStatus.PENDING.value  # type: ignore[valid-type]


class ApproveIn(Schema):
    resident_id: int = Field(..., ge=1, le=2_147_483_647)


class RejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=REASON_MAX_LENGTH)


def sent_message() -> str:
    return _(
        "Your request went to your building-group leader, who checks it against the "
        "register. You will get an SMS when it is decided."
    )


@router.post(
    "",
    auth=None,
    response={200: RegistrationOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Register from a building's poster (or an invitation) with a phone code",
)
def registration_create(request: HttpRequest, payload: RegistrationIn):
    building = None
    if payload.building_token:
        building = building_for_token(payload.building_token)
        if building is None:
            raise NotVisible("building_token")
    elif payload.invitation:
        prefill = services.invitation_prefill(payload.invitation)
        if prefill is not None:
            building = Building.objects.filter(pk=prefill["building_id"]).first()
        if building is None:
            raise Invalid(services.invitation_invalid_message(), field="invitation")
    else:
        raise Invalid(_("Give the building's code or an invitation."), field="building_token")
    outcome = services.registration_submit(
        building=building,
        phone=payload.phone,
        code=payload.code,
        name=payload.name,
        room=payload.room,
        id_last4=payload.id_last4,
        invitation=payload.invitation,
        address=client_address(request),
    )
    if outcome.matched:
        return {
            "outcome": "linked",
            "message": _("You are registered. Sign in with your phone number."),
        }
    return {"outcome": "requested", "message": sent_message()}


def _request_out(row: RegistrationRequest) -> dict[str, Any]:
    candidates = selectors.candidates_for(request=row) if row.is_pending else []
    return {
        "id": row.pk,
        "building_id": row.building_id,
        "building": row.building.name,
        "room": row.room,
        "name": row.name,
        "phone_masked": row.phone_masked,
        "cause": row.cause,
        "status": row.status,
        "reason": row.reason,
        "created_at": row.created_at,
        "decided_at": row.decided_at,
        "decided_by": str(row.decided_by) if row.decided_by else None,
        "resident_id": row.resident_id,
        "candidates": [
            {
                "id": resident.pk,
                "name": resident.name,
                "room": resident.household.room,
                "sex": resident.sex,
                "birth_year": resident.birth_year,
                "id_number_masked": resident.id_number_masked,
                "phone_masked": resident.phone_masked,
                "has_login": resident.has_login,
                "suggested": resident.pk == row.candidate_id,
            }
            for resident in candidates
        ],
    }


@router.get(
    "/requests",
    response={200: RegistrationRequestPage, **ERRORS},
    summary="Registration requests of my area (building-group leader and above)",
)
def request_list(
    request: HttpRequest, filters: Query[RequestFilters], page: Query[PageIn]
) -> dict[str, Any]:
    needs_registry(user=request.auth, permission=selectors.DECIDE)
    rows = selectors.requests_to_decide(user=request.auth).filter(status=filters.status)
    items, count = paginate(rows.order_by("-created_at", "-id"), page)
    return {"items": [_request_out(row) for row in items], "count": count}


def _request(request: HttpRequest, request_id: int) -> RegistrationRequest:
    return visible_or_404(
        selectors.request_get, "request_id", user=request.auth, request_id=request_id
    )


@router.post(
    "/requests/{int:request_id}/approve",
    response={200: RegistrationRequestOut, **WRITE_ERRORS},
    summary="Approve a request as one resident of its building (links their login)",
)
def request_approve(request: HttpRequest, request_id: Id, payload: ApproveIn):
    row = _request(request, request_id)
    resident = next(
        (
            candidate
            for candidate in selectors.candidates_for(request=row)
            if candidate.pk == payload.resident_id
        ),
        None,
    )
    if resident is None:
        if not row.is_pending:
            # Decided already: the refusal says so, whoever is named.
            raise services.already_decided()
        raise NotVisible("resident_id")
    services.registration_approve(
        actor=request.auth, request=row, resident=resident, ip_address=client_address(request)
    )
    return Status(200, _request_out(selectors.request_get(user=request.auth, request_id=row.pk)))


@router.post(
    "/requests/{int:request_id}/reject",
    response={200: RegistrationRequestOut, **WRITE_ERRORS},
    summary="Reject a request, with a reason the person reads by SMS",
)
def request_reject(request: HttpRequest, request_id: Id, payload: RejectIn):
    row = _request(request, request_id)
    services.registration_reject(
        actor=request.auth, request=row, reason=payload.reason, ip_address=client_address(request)
    )
    return Status(200, _request_out(selectors.request_get(user=request.auth, request_id=row.pk)))
