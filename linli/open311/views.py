"""Open311 GeoReport v2 at /open311/v2/ (each endpoint as .json and .xml), and the pages on
which a secretary issues and revokes the keys that clients file with.

The API answers in the spec's shapes: a list of services or of requests, and on any error
the spec's error list (`[{"code": 400, "description": "..."}]`, or `<errors><error>...`) with
HTTP 400, 403 (key problems) or 404 (unknown ids). Reads go through
`linli.open311.selectors`, writes through `linli.open311.services`.

POST requests honour an `Idempotency-Key` header (linli.idempotency): a retry with the same
key answers the first answer; a malformed key, or one already used for another request,
answers 422 in the same error list, and one whose first request is unfinished 409.
"""

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.grid_paths import is_within
from linli.accounts.roles import Permission
from linli.cases.models import Case
from linli.errors import NotAllowed, status_for
from linli.grids.selectors import scope_for
from linli.idempotency.services import idempotent_response
from linli.open311 import selectors, services
from linli.open311.models import Open311Key, Open311Submission

# The parameters of POST requests that the service takes (attribute[...] is not used: no
# service has metadata).
CREATE_PARAMS = (
    "jurisdiction_id",
    "service_code",
    "lat",
    "long",
    "address_string",
    "description",
    "email",
    "first_name",
    "last_name",
    "phone",
    "media_url",
    "device_id",
    "account_id",
)
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
# XML element names of list items, by the name of the list.
XML_ITEMS = {"attributes": "attribute", "values": "value"}


# Rendering -------------------------------------------------------------------------------


def _xml_value(element: ET.Element, value) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, list):
        for item in value:
            _xml_fields(ET.SubElement(element, XML_ITEMS.get(element.tag, "item")), item)
    else:
        element.text = str(value)


def _xml_fields(element: ET.Element, fields: dict) -> None:
    for name, value in fields.items():
        _xml_value(ET.SubElement(element, name), value)


def _render(fmt: str, data, *, root: str, item: str | None = None, status: int = 200):
    """JSON as the spec's arrays and objects; XML with the spec's element names."""
    if fmt == "json":
        return HttpResponse(
            json.dumps(data, ensure_ascii=False),
            status=status,
            content_type="application/json; charset=utf-8",
        )
    element = ET.Element(root)
    if item is None:
        _xml_fields(element, data)
    else:
        for row in data:
            _xml_fields(ET.SubElement(element, item), row)
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")
    return HttpResponse(body, status=status, content_type="application/xml; charset=utf-8")


def _status(each: ValidationError) -> int:
    # An unknown id is Open311's own 404; every other refusal has the platform's status.
    return 404 if each.code == services.NOT_FOUND else status_for(each)


def _errors(fmt: str, error: ValidationError):
    """The spec's error list; the HTTP status is the gravest: a key problem, then an unknown
    id, then bad input."""
    rows = []
    if hasattr(error, "error_dict"):
        for param, errors in error.error_dict.items():
            for each in errors:
                rows.append(
                    {"code": _status(each), "description": f"{param}: {' '.join(each.messages)}"}
                )
    else:
        for each in error.error_list:
            rows.append({"code": _status(each), "description": " ".join(each.messages)})
    codes = {row["code"] for row in rows}
    status = 403 if 403 in codes else 404 if 404 in codes else 400
    return _render(fmt, rows, root="errors", item="error", status=status)


def _not_found(fmt: str, param: str, message: str):
    return _errors(fmt, ValidationError({param: ValidationError(message, code=services.NOT_FOUND)}))


def _w3c(value: datetime | None) -> str | None:
    # W3C datetime with the offset, in the site's time zone (Asia/Shanghai).
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _service_row(category) -> dict:
    keywords = [category.name_zh, category.name_en]
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.acceptance_condition,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(word for word in keywords if word),
        "group": category.parent.name,
    }


def _media_url(case: Case) -> str | None:
    try:
        return case.open311_submission.media_url or None
    except Open311Submission.DoesNotExist:
        return None


def _request_row(case: Case, *, keyed: bool) -> dict:
    row = {
        "service_request_id": case.reference,
        "status": selectors.STATUS_OF_STATE[case.state],
        "status_notes": selectors.status_notes(case, keyed=keyed),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": selectors.agency_responsible(case),
        "service_notice": selectors.service_notice(case.category),
        "requested_datetime": _w3c(case.created_at),
        "updated_datetime": _w3c(case.updated_at),
        "expected_datetime": _w3c(case.due_at),
        "address": case.building.name if case.building_id else None,
        "address_id": str(case.building_id) if case.building_id else None,
        "zipcode": None,
        "lat": float(case.latitude) if case.latitude is not None else None,
        "long": float(case.longitude) if case.longitude is not None else None,
        "media_url": _media_url(case) if keyed else None,
    }
    if not keyed:
        # The public board shows no descriptions or photos: left out, not emptied.
        del row["description"], row["media_url"]
    return row


# Parameters ------------------------------------------------------------------------------


def _bad(param: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({param: ValidationError(message, code=code)})


def _key_from(params) -> Open311Key | None:
    raw = (params.get("api_key") or "").strip()
    return services.open311_key_authenticate(raw=raw) if raw else None


def _jurisdiction(params, key: Open311Key | None):
    code = (params.get("jurisdiction_id") or "").strip()
    if code:
        community = selectors.jurisdiction_get(code=code)
        if community is None:
            raise _bad(
                "jurisdiction_id",
                _("Unknown jurisdiction_id: %(code)s") % {"code": code},
                services.NOT_FOUND,
            )
        if key is not None and key.community_id != community.pk:
            raise NotAllowed(_("This api_key belongs to another jurisdiction."), field="api_key")
        return community
    if key is not None:
        return key.community
    community = selectors.only_jurisdiction()
    if community is None:
        raise _bad(
            "jurisdiction_id",
            _("A jurisdiction_id (the community code) is required."),
            "required",
        )
    return community


def _datetime(params, param: str) -> datetime | None:
    value = (params.get(param) or "").strip()
    if not value:
        return None
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    value = _SPACED_OFFSET.sub(r"+\1", value)
    try:
        parsed = parse_datetime(value)
        if parsed is None and parse_date(value) is not None:
            parsed = datetime.combine(parse_date(value), time.min)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _bad(
            param,
            _("Not a W3C datetime such as 2026-11-27T08:00:00+08:00: %(value)s") % {"value": value},
        )
    # Without an offset the time is read in the site's time zone.
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _list(params, param: str) -> list[str]:
    return [part.strip() for part in (params.get(param) or "").split(",") if part.strip()]


def _filters(params) -> dict:
    start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
    if start is not None and end is not None:
        if end < start:
            raise _bad("end_date", _("end_date is before start_date."))
        if end - start > selectors.DEFAULT_WINDOW:
            raise _bad("end_date", _("start_date and end_date may not span more than 90 days."))
    statuses = _list(params, "status")
    unknown = [status for status in statuses if status not in selectors.STATUSES]
    if unknown:
        raise _bad(
            "status", _("Unknown status: %(status)s (open or closed)") % {"status": unknown[0]}
        )
    return {
        "references": _list(params, "service_request_id"),
        "service_codes": _list(params, "service_code"),
        "start": start,
        "end": end,
        "statuses": statuses,
    }


def _post_params(request) -> dict[str, str]:
    """The form body (as the spec says), or a JSON object; the query string fills the gaps
    (some clients send api_key there)."""
    params = dict(request.GET.items())
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            raise ValidationError(_("The JSON body must be an object."), code="invalid")
        params.update({name: "" if value is None else str(value) for name, value in body.items()})
    else:
        params.update(request.POST.items())
    return params


# API ---------------------------------------------------------------------------------------


@require_GET
def service_list(request, fmt: str):
    try:
        _jurisdiction(request.GET, None) if request.GET.get("jurisdiction_id") else None
    except ValidationError as error:
        return _errors(fmt, error)
    rows = [_service_row(category) for category in selectors.services_list()]
    return _render(fmt, rows, root="services", item="service")


@require_GET
def service_definition(request, service_code: str, fmt: str):
    try:
        _jurisdiction(request.GET, None) if request.GET.get("jurisdiction_id") else None
    except ValidationError as error:
        return _errors(fmt, error)
    category = selectors.service_get(service_code=service_code)
    if category is None:
        return _not_found(
            fmt, "service_code", _("Unknown service_code: %(code)s") % {"code": service_code}
        )
    # No service asks extra questions (metadata is false), so the list of attributes is empty.
    return _render(
        fmt, {"service_code": category.code, "attributes": []}, root="service_definition"
    )


@csrf_exempt  # An API for external clients, authenticated by api_key, never by a session.
@require_http_methods(["GET", "POST"])
def requests_endpoint(request, fmt: str):
    if request.method == "POST":
        return _request_create(request, fmt)
    try:
        key = _key_from(request.GET)
        community = _jurisdiction(request.GET, key)
        filters = _filters(request.GET)
    except ValidationError as error:
        return _errors(fmt, error)
    keyed = key is not None
    cases = selectors.requests_search(community=community, key=key, **filters)
    if key is not None:
        services.open311_key_touch(key=key)
    rows = [_request_row(case, keyed=keyed) for case in cases]
    return _render(fmt, rows, root="service_requests", item="request")


def _request_create(request, fmt: str):
    try:
        params = _post_params(request)
        key = services.open311_key_authenticate(raw=params.get("api_key", ""))
    except ValidationError as error:
        return _errors(fmt, error)

    def file_request():
        try:
            case = services.open311_request_create(
                key=key, **{name: params.get(name, "") for name in CREATE_PARAMS}
            )
        except ValidationError as error:
            return _errors(fmt, error)
        row = {
            "service_request_id": case.reference,
            "service_notice": selectors.service_notice(case.category),
            "account_id": None,
        }
        return _render(fmt, [row], root="service_requests", item="request")

    def refuse(message: str, status: int):
        return _render(
            fmt,
            [{"code": status, "description": message}],
            root="errors",
            item="error",
            status=status,
        )

    # A client retrying with the same Idempotency-Key gets the first answer (and the same
    # service_request_id) instead of filing the case twice; keys are per api_key.
    return idempotent_response(
        request,
        caller=f"open311:{key.pk}",
        route="linli.open311.views.requests_endpoint",
        respond=file_request,
        refuse=refuse,
    )


@require_GET
def request_detail(request, request_id: str, fmt: str):
    try:
        key = _key_from(request.GET)
        community = _jurisdiction(request.GET, key) if request.GET.get("jurisdiction_id") else None
    except ValidationError as error:
        return _errors(fmt, error)
    case = selectors.request_get(reference=request_id, key=key)
    if case is not None and community is not None:
        if not is_within(case.grid_path, [community.path]):
            case = None
    if case is None:
        return _not_found(
            fmt,
            "service_request_id",
            _("Unknown service_request_id: %(id)s") % {"id": request_id},
        )
    keyed = key is not None and is_within(case.grid_path, [key.community.path])
    if key is not None:
        services.open311_key_touch(key=key)
    return _render(fmt, [_request_row(case, keyed=keyed)], root="service_requests", item="request")


@csrf_exempt
def unknown_endpoint(request, rest: str = ""):
    fmt = "xml" if rest.endswith(".xml") else "json"
    return _not_found(fmt, "endpoint", _("No such Open311 endpoint."))


# Key pages ---------------------------------------------------------------------------------


def _require_key_manager(user) -> None:
    # Like the case workbench for volunteers: the page is simply not there for them.
    if not scope_for(user).allows_anywhere(Permission.OPEN311_KEYS):
        raise Http404


@login_required
def key_list(request):
    _require_key_manager(request.user)
    return render(
        request,
        "open311/keys.html",
        {
            "keys": selectors.keys_visible(user=request.user),
            "endpoint": request.build_absolute_uri(
                reverse("open311:services", args=["json"])
            ).rsplit("/", 1)[0]
            + "/",
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def key_new(request):
    _require_key_manager(request.user)
    communities = selectors.communities_for_keys(user=request.user)
    errors: dict[str, list[str]] = {}
    values = {"name": "", "community": str(communities[0].pk) if len(communities) == 1 else ""}
    if request.method == "POST":
        values = {
            "name": request.POST.get("name", ""),
            "community": request.POST.get("community", ""),
        }
        community = next((c for c in communities if str(c.pk) == values["community"]), None)
        try:
            key, secret = services.open311_key_create(
                actor=request.user, community=community, name=values["name"]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                errors = error.message_dict
            else:
                errors = {"form": error.messages}
        else:
            # Shown on this response only: the secret is not stored and cannot be shown again.
            return render(
                request,
                "open311/key_issued.html",
                {"key": key, "secret": secret, "jurisdiction_id": key.community.code},
            )
    return render(
        request,
        "open311/key_new.html",
        {"communities": communities, "values": values, "errors": errors},
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_revoke(request, key_id: int):
    key = selectors.key_get(user=request.user, key_id=key_id)
    if request.method == "POST":
        try:
            services.open311_key_revoke(actor=request.user, key=key)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Key %(name)s revoked.") % {"name": key})
        return redirect("open311:keys")
    return render(request, "open311/key_revoke.html", {"key": key})


@login_required
def case_submitter(request, case_id: int):
    """Who filed a case through Open311 (masked), for staff who may see the case."""
    submission = selectors.submission_for_case(user=request.user, case_id=case_id)
    if submission is None:
        raise Http404
    return render(request, "open311/submitter.html", {"submission": submission})
