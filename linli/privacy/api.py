"""`/api/v1/privacy`: the privacy notice and its acceptance, correction requests.

Mounted by linli/api.py with `api.add_router("/privacy", router)`. The notice routes stay open
to a person who has not accepted the notice yet (linli.privacy.middleware); everything else
in the API answers them 403 with `field: "privacy_notice"`.
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.services import client_address
from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    NotVisible,
    PageIn,
    paginate,
    visible_or_404,
)
from linli.errors import NotAllowed
from linli.privacy import corrections, notice
from linli.privacy.models import (
    CORRECTION_NOTE_MAX_LENGTH,
    CORRECTION_VALUE_MAX_LENGTH,
    DECISION_NOTE_MAX_LENGTH,
    CorrectionField,
    CorrectionRequest,
    CorrectionState,
    PrivacyNoticeAcceptance,
)

router = Router(tags=["privacy"])


class PrivacyNoticeOut(Schema):
    version: str = Field(description="The current version (LINLI_PRIVACY_NOTICE_VERSION)")
    text_url: str = Field(description="Where the notice is shown, in the site's languages")
    required: bool = Field(description="Whether the API refuses callers who have not accepted it")
    accepted: bool = Field(description="Whether the caller accepted this version")
    accepted_at: datetime | None


class PrivacyNoticeAcceptIn(Schema):
    # The version the caller read: accepting an older text is refused.
    version: str = Field(..., min_length=1, max_length=20)


class PrivacyNoticeAcceptanceOut(Schema):
    version: str
    accepted_at: datetime


def _notice(request: HttpRequest) -> dict[str, Any]:
    version = notice.current_version()
    acceptance = PrivacyNoticeAcceptance.objects.filter(user=request.auth, version=version).first()
    return {
        "version": version,
        "text_url": request.build_absolute_uri(reverse("privacy:notice")),
        "required": notice.required(),
        "accepted": acceptance is not None,
        "accepted_at": acceptance.accepted_at if acceptance else None,
    }


@router.get(
    "/notice",
    response={200: PrivacyNoticeOut, **ERRORS},
    summary="The current privacy notice and whether I accepted it",
    url_name="privacy_notice",
)
def privacy_notice(request: HttpRequest) -> dict[str, Any]:
    return _notice(request)


@router.post(
    "/notice/accept",
    response={200: PrivacyNoticeAcceptanceOut, 400: ErrorOut, **ERRORS},
    summary="Accept the current privacy notice",
)
def privacy_notice_accept(request: HttpRequest, payload: PrivacyNoticeAcceptIn) -> dict[str, Any]:
    acceptance = notice.privacy_notice_accept(
        user=request.auth, version=payload.version, ip_address=client_address(request)
    )
    return {"version": acceptance.version, "accepted_at": acceptance.accepted_at}


# Corrections -----------------------------------------------------------------------------


class PrivacyCorrectionIn(Schema):
    resident_id: int = Field(..., ge=1, le=2_147_483_647)
    field: Literal[tuple(CorrectionField.values)]  # type: ignore[valid-type]
    requested_value: str = Field("", max_length=CORRECTION_VALUE_MAX_LENGTH)
    note: str = Field("", max_length=CORRECTION_NOTE_MAX_LENGTH)


class CorrectionApplyIn(Schema):
    # The value to record; left out, the value the resident asked for.
    value: str | None = Field(None, max_length=CORRECTION_VALUE_MAX_LENGTH)
    decision_note: str = Field("", max_length=DECISION_NOTE_MAX_LENGTH)


class CorrectionDeclineIn(Schema):
    reason: str = Field(..., min_length=1, max_length=DECISION_NOTE_MAX_LENGTH)


class PrivacyCorrectionFilters(Schema):
    state: Literal[tuple(CorrectionState.values)] | None = None  # type: ignore[valid-type]
    mine: bool = Field(False, description="Only requests about my own household")


class PrivacyCorrectionOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    household: str
    field: str
    requested_value: str
    note: str
    state: str
    created_at: datetime
    handled_at: datetime | None
    decision_note: str
    may_handle: bool


class PrivacyCorrectionPage(Schema):
    items: list[PrivacyCorrectionOut]
    count: int


def _correction(request: HttpRequest, correction: CorrectionRequest) -> dict[str, Any]:
    return {
        "id": correction.pk,
        "resident_id": correction.resident_id,
        "resident_name": correction.resident.name,
        "household": f"{correction.household.building.name} {correction.household.room}",
        "field": correction.field,
        "requested_value": correction.requested_value,
        "note": correction.note,
        "state": correction.state,
        "created_at": correction.created_at,
        "handled_at": correction.handled_at,
        "decision_note": correction.decision_note,
        "may_handle": corrections.may_handle(user=request.auth, correction=correction),
    }


@router.get(
    "/corrections",
    response={200: PrivacyCorrectionPage, **ERRORS},
    summary="Correction requests: about my household, and those I may handle",
)
def correction_list(
    request: HttpRequest, filters: Query[PrivacyCorrectionFilters], page: Query[PageIn]
) -> dict[str, Any]:
    if filters.mine:
        items = corrections.corrections_own(user=request.auth)
    else:
        items = corrections.corrections_visible(user=request.auth)
    if filters.state:
        items = items.filter(state=filters.state)
    rows, count = paginate(items, page)
    return {"items": [_correction(request, row) for row in rows], "count": count}


@router.post(
    "/corrections",
    response={201: PrivacyCorrectionOut, **WRITE_ERRORS},
    summary="Ask for a correction of a member of my household",
)
def correction_create(request: HttpRequest, payload: PrivacyCorrectionIn):
    resident = corrections.own_residents(user=request.auth).filter(pk=payload.resident_id).first()
    if resident is None:
        raise NotVisible("resident_id")
    correction = corrections.correction_request_create(
        user=request.auth,
        resident=resident,
        field=payload.field,
        requested_value=payload.requested_value,
        note=payload.note,
        ip_address=client_address(request),
    )
    correction = corrections.correction_get(user=request.auth, correction_id=correction.pk)
    return Status(201, _correction(request, correction))


def _handleable(request: HttpRequest, correction_id: Id) -> CorrectionRequest:
    correction = visible_or_404(
        corrections.correction_get,
        "correction_id",
        user=request.auth,
        correction_id=correction_id,
    )
    if not corrections.may_handle(user=request.auth, correction=correction):
        # The resident sees their own request but may not decide it.
        raise NotAllowed(_("You may not handle this request."))
    return correction


@router.post(
    "/corrections/{int:correction_id}/apply",
    response={200: PrivacyCorrectionOut, **WRITE_ERRORS},
    summary="Apply a correction request",
)
def correction_apply(request: HttpRequest, correction_id: Id, payload: CorrectionApplyIn):
    correction = _handleable(request, correction_id)
    corrections.correction_request_apply(
        actor=request.auth,
        correction=correction,
        value=payload.value,
        decision_note=payload.decision_note,
        ip_address=client_address(request),
    )
    correction = corrections.correction_get(user=request.auth, correction_id=correction_id)
    return Status(200, _correction(request, correction))


@router.post(
    "/corrections/{int:correction_id}/decline",
    response={200: PrivacyCorrectionOut, **WRITE_ERRORS},
    summary="Decline a correction request, with a reason the resident reads",
)
def correction_decline(request: HttpRequest, correction_id: Id, payload: CorrectionDeclineIn):
    correction = _handleable(request, correction_id)
    corrections.correction_request_decline(
        actor=request.auth,
        correction=correction,
        reason=payload.reason,
        ip_address=client_address(request),
    )
    correction = corrections.correction_get(user=request.auth, correction_id=correction_id)
    return Status(200, _correction(request, correction))
