"""Open311 GeoReport v2 through the test client: every endpoint as .json and .xml, every
refusal as the spec's error list with nothing written."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent, CaseSource, CaseState
from linli.cases.selectors import public_board, workbench
from linli.cases.services import case_create, case_transition
from linli.grids.models import Building
from linli.grids.services import building_create
from linli.open311.models import Open311Key, Open311Submission
from linli.open311.selectors import STATUS_OF_STATE
from linli.open311.services import open311_key_create, open311_key_revoke
from linli.open311.tests.conftest import BASE, parse_json, parse_xml, xml_rows

NOTICE = "We aim to handle this within 72 hours."


def w3c(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds")


def file_by_point(api, secret: str, fmt: str = "json", **extra):
    return api.post(
        f"{BASE}requests.{fmt}",
        {
            "api_key": secret,
            "service_code": "SAF-01",
            "lat": "31.0005",
            "long": "121.0005",
            "description": "楼道里堆满了纸箱",
            **extra,
        },
    )


def staff_case(world, code: str = "SAF-01", **extra) -> Case:
    return case_create(
        reporter=world.users[Role.SECRETARY],
        category=CaseCategory.objects.get(code=code),
        building=world.building,
        description="楼道堆物，影响通行",
        source=CaseSource.STAFF,
        **extra,
    )


# Services --------------------------------------------------------------------------------


SAF_01 = {
    "service_code": "SAF-01",
    "service_name": "Stairwell clutter",
    "description": "楼道、消防通道内有杂物堆放，影响通行或消防安全。",
    "metadata": False,
    "type": "realtime",
    "keywords": "楼道堆物, Stairwell clutter",
    "group": "Safety hazards",
}
MINOR_CODES = [
    "ENV-01",
    "ENV-02",
    "ENV-03",
    "ENV-04",
    "SAF-01",
    "SAF-02",
    "SAF-03",
    "HOU-01",
    "HOU-02",
    "NEI-01",
    "SVC-01",
    "OTH-01",
]


def test_services_json_lists_each_active_minor_category_once(db, api):
    CaseCategory.objects.filter(code="OTH-01").update(is_active=False)
    rows = parse_json(api.get(f"{BASE}services.json"))
    assert [row["service_code"] for row in rows] == [
        code for code in MINOR_CODES if code != "OTH-01"
    ]
    assert rows[4] == SAF_01


def test_services_xml_uses_the_spec_element_names(db, api):
    root = parse_xml(api.get(f"{BASE}services.xml"))
    assert root.tag == "services"
    assert {item.tag for item in root} == {"service"}
    assert [row["service_code"] for row in xml_rows(root)] == MINOR_CODES
    assert xml_rows(root)[4] == {**SAF_01, "metadata": "false"}


def test_service_names_follow_the_clients_language(db, client):
    chinese = parse_json(client.get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    english = parse_json(client.get(f"{BASE}services.json", HTTP_ACCEPT_LANGUAGE="en"))
    assert (chinese[4]["service_name"], chinese[4]["group"]) == ("楼道堆物", "安全隐患")
    assert (english[4]["service_name"], english[4]["group"]) == (
        "Stairwell clutter",
        "Safety hazards",
    )


def test_services_with_an_unknown_jurisdiction_is_404(db, api):
    response = api.get(f"{BASE}services.json", {"jurisdiction_id": "NOPE"})
    assert response.status_code == 404
    assert parse_json(response) == [
        {"code": 404, "description": "jurisdiction_id: Unknown jurisdiction_id: NOPE"}
    ]


def test_service_definition_in_both_formats(db, api):
    assert parse_json(api.get(f"{BASE}services/SAF-01.json")) == {
        "service_code": "SAF-01",
        "attributes": [],
    }
    root = parse_xml(api.get(f"{BASE}services/SAF-01.xml"))
    assert root.tag == "service_definition"
    assert [(child.tag, child.text, list(child)) for child in root] == [
        ("service_code", "SAF-01", []),
        ("attributes", None, []),
    ]


@pytest.mark.parametrize("code", ["NOPE", "SAF"])
def test_unknown_service_definition_is_404_with_the_error_list(db, api, code):
    response = api.get(f"{BASE}services/{code}.json")
    assert response.status_code == 404
    assert parse_json(response) == [
        {"code": 404, "description": f"service_code: Unknown service_code: {code}"}
    ]
    response = api.get(f"{BASE}services/{code}.xml")
    assert response.status_code == 404
    root = parse_xml(response)
    assert root.tag == "errors"
    assert xml_rows(root) == [
        {"code": "404", "description": f"service_code: Unknown service_code: {code}"}
    ]


def test_unknown_endpoint_answers_with_the_error_list(db, api):
    response = api.get(f"{BASE}nothing.xml")
    assert response.status_code == 404
    assert xml_rows(parse_xml(response)) == [
        {"code": "404", "description": "endpoint: No such Open311 endpoint."}
    ]


# POST requests -----------------------------------------------------------------------------


def test_post_by_lat_long_files_an_ordinary_case_for_the_owning_unit(world, issued, drawn, api):
    response = file_by_point(
        api,
        issued.secret,
        email="li@example.org",
        first_name="Li",
        last_name="Ming",
        phone="138 1234-5678",
        media_url="https://img.example.org/1.jpg",
        device_id="dev-1",
        account_id="acct-9",
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert parse_json(response) == [
        {"service_request_id": case.reference, "service_notice": NOTICE, "account_id": None}
    ]
    assert (case.source, case.reporter, case.category.code) == (CaseSource.OPEN311, None, "SAF-01")
    assert (case.grid_unit, case.owner_unit, case.building) == (
        world.building_group,
        world.building_group,
        None,
    )
    assert (case.latitude, case.longitude) == (Decimal("31.000500"), Decimal("121.000500"))
    assert case.description == "楼道里堆满了纸箱"
    assert case.state == CaseState.REPORTED
    assert list(case.events.values_list("action", "actor")) == [("create", None)]
    submission = Open311Submission.objects.get()
    assert (
        submission.case,
        submission.key,
        submission.first_name,
        submission.last_name,
        submission.email,
        submission.phone,
        submission.media_url,
        submission.device_id,
        submission.account_id,
    ) == (
        case,
        issued.key,
        "Li",
        "Ming",
        "li@example.org",
        "13812345678",
        "https://img.example.org/1.jpg",
        "dev-1",
        "acct-9",
    )
    # An ordinary case: it is in the micro-grid lead's queue.
    assert list(workbench(user=world.users[Role.MICRO_GRID_LEAD])) == [case]


def test_post_answers_in_xml(world, issued, drawn, api):
    response = file_by_point(api, issued.secret, fmt="xml")
    case = Case.objects.get()
    root = parse_xml(response)
    assert root.tag == "service_requests"
    assert xml_rows(root) == [
        {"service_request_id": case.reference, "service_notice": NOTICE, "account_id": None}
    ]


def test_post_by_address_string_matches_a_building_name_in_the_keys_community(world, issued, api):
    response = api.post(
        f"{BASE}requests.json",
        {
            "api_key": issued.secret,
            "jurisdiction_id": "A",
            "service_code": "SAF-02",
            "address_string": "1号楼",
            "description": "电瓶车在楼道充电",
        },
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert (case.building, case.grid_unit, case.category.code) == (
        world.building,
        world.building_group,
        "SAF-02",
    )
    # A unique part of a name is enough.
    api.post(
        f"{BASE}requests.json",
        {
            "api_key": issued.secret,
            "service_code": "SAF-02",
            "address_string": "2号",
            "description": "又在充电",
        },
    )
    assert Case.objects.order_by("id").last().building == Building.objects.get(name="2号楼")


def test_post_accepts_a_json_body(world, issued, drawn, api):
    response = api.post(
        f"{BASE}requests.json",
        {
            "api_key": issued.secret,
            "service_code": "SAF-01",
            "lat": 31.0005,
            "long": 121.0005,
            "description": "纸箱",
            "email": None,
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert (case.grid_unit, case.latitude) == (world.building_group, Decimal("31.000500"))


def _only(response, status: int, description: str) -> None:
    assert response.status_code == status
    assert parse_json(response) == [{"code": status, "description": description}]


def assert_nothing_written() -> None:
    assert Case.objects.count() == 0
    assert Open311Submission.objects.count() == 0
    assert CaseEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "status", "description"),
    [
        ({"api_key": ""}, 403, "api_key: An api_key is required."),
        ({"api_key": "not-a-key"}, 403, "api_key: Invalid api_key."),
        ({"service_code": ""}, 400, "service_code: A service_code is required."),
        ({"service_code": "NOPE"}, 400, "service_code: Unknown service_code: NOPE"),
        # A major class is not a service.
        ({"service_code": "SAF"}, 400, "service_code: Unknown service_code: SAF"),
        (
            {"lat": "", "long": ""},
            400,
            "lat: Say where the problem is: lat and long, or address_string.",
        ),
        ({"long": ""}, 400, "long: Give long with lat."),
        ({"lat": "north"}, 400, "lat: Not a number."),
        ({"long": "200"}, 400, "long: Must be between -180 and 180."),
        ({"description": "  "}, 400, "description: Describe the problem."),
        ({"email": "not-an-address"}, 400, "email: Not an email address."),
        ({"phone": "call me"}, 400, "phone: Not a phone number."),
        ({"media_url": "ftp://x.example/1.jpg"}, 400, "media_url: Not an http(s) URL."),
        ({"first_name": "x" * 101}, 400, "first_name: Limited to 100 characters."),
        ({"jurisdiction_id": "NOPE"}, 404, "jurisdiction_id: Unknown jurisdiction_id: NOPE"),
        (
            {"jurisdiction_id": "C"},
            403,
            "jurisdiction_id: This api_key may only file into A社区 (A).",
        ),
        (
            {"lat": "32.0005"},
            400,
            "lat: This point is outside the grid units we know; choose a building instead.",
        ),
        (
            {"lat": "", "long": "", "address_string": "9号楼"},
            400,
            "address_string: No building named “9号楼” in A社区.",
        ),
    ],
)
def test_post_refusals_are_the_spec_error_list_and_write_nothing(
    world, issued, drawn, api, change, status, description
):
    response = api.post(
        f"{BASE}requests.json",
        {
            "api_key": issued.secret,
            "service_code": "SAF-01",
            "lat": "31.0005",
            "long": "121.0005",
            "description": "纸箱",
            **change,
        },
    )
    _only(response, status, description)
    assert_nothing_written()
    issued.key.refresh_from_db()
    assert issued.key.last_used_at is None


def test_post_with_an_ambiguous_address_is_refused(world, issued, api):
    building_create(grid_unit=world.building_group, name="11号楼")
    response = api.post(
        f"{BASE}requests.json",
        {
            "api_key": issued.secret,
            "service_code": "SAF-01",
            "address_string": "1号",
            "description": "纸箱",
        },
    )
    _only(
        response, 400, "address_string: Several buildings match “1号”; give the full building name."
    )
    assert_nothing_written()


def test_post_lists_every_bad_parameter_and_answers_403_first(world, issued, api):
    open311_key_revoke(actor=world.users[Role.SECRETARY], key=issued.key)
    response = api.post(f"{BASE}requests.xml", {"api_key": issued.secret})
    assert response.status_code == 403
    assert xml_rows(parse_xml(response)) == [
        {"code": "403", "description": "api_key: This api_key has been revoked."}
    ]
    _other, secret = open311_key_create(actor=None, community=world.community, name="Other")
    response = api.post(f"{BASE}requests.json", {"api_key": secret, "jurisdiction_id": "C"})
    assert response.status_code == 403
    assert parse_json(response) == [
        {"code": 403, "description": "jurisdiction_id: This api_key may only file into A社区 (A)."},
        {"code": 400, "description": "service_code: A service_code is required."},
        {
            "code": 400,
            "description": "lat: Say where the problem is: lat and long, or address_string.",
        },
        {"code": 400, "description": "description: Describe the problem."},
    ]
    assert_nothing_written()


def test_post_with_a_body_that_is_not_a_json_object_is_400(world, issued, api):
    response = api.post(f"{BASE}requests.json", "[1, 2]", content_type="application/json")
    _only(response, 400, "The JSON body must be an object.")
    assert_nothing_written()


def test_using_a_key_records_when_it_was_last_used(world, issued, drawn, api):
    assert issued.key.last_used_at is None
    file_by_point(api, issued.secret)
    issued.key.refresh_from_db()
    assert issued.key.last_used_at is not None


# GET requests ------------------------------------------------------------------------------


def public_row(case: Case, **changes) -> dict:
    return {
        "service_request_id": case.reference,
        "status": "open",
        "status_notes": "Reported",
        "service_name": "Stairwell clutter",
        "service_code": "SAF-01",
        "agency_responsible": "1号楼组 / 物业",
        "service_notice": NOTICE,
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.due_at),
        "address": "1号楼",
        "address_id": str(case.building_id),
        "zipcode": None,
        "lat": None,
        "long": None,
        **changes,
    }


def test_public_list_shows_the_public_board_and_no_descriptions(world, api):
    shown = staff_case(world)
    # Neighbour disputes concern named people: off the board.
    staff_case(world, code="NEI-01")
    rejected = staff_case(world)
    case_transition(
        case=rejected, actor=world.users[Role.SECRETARY], action="reject", note="重复反映"
    )
    response = api.get(f"{BASE}requests.json", {"jurisdiction_id": "A"})
    assert parse_json(response) == [public_row(shown)]
    assert [row["reference"] for row in public_board(community=world.community)] == [
        shown.reference
    ]
    root = parse_xml(api.get(f"{BASE}requests.xml", {"jurisdiction_id": "A"}))
    assert root.tag == "service_requests"
    assert [item.tag for item in root] == ["request"]
    assert xml_rows(root) == [public_row(shown)]


def test_a_key_for_the_community_also_reads_descriptions_media_and_finished_cases(
    world, issued, drawn, api
):
    file_by_point(api, issued.secret, media_url="https://img.example.org/1.jpg")
    filed = Case.objects.get()
    # A private category that the key filed itself is readable by that key.
    file_by_point(api, issued.secret, service_code="NEI-01")
    private = Case.objects.get(category__code="NEI-01")
    closed = staff_case(world)
    lead = world.users[Role.SECRETARY]
    for action, note in [
        ("accept", ""),
        ("dispatch", ""),
        ("start", ""),
        ("resolve", "杂物已清理"),
        ("verify", ""),
        ("close", "已结案，通道畅通"),
    ]:
        closed = case_transition(case=closed, actor=lead, action=action, note=note)
    rows = parse_json(api.get(f"{BASE}requests.json", {"api_key": issued.secret}))
    assert [row["service_request_id"] for row in rows] == [
        closed.reference,
        private.reference,
        filed.reference,
    ]
    assert rows[0]["status"] == "closed"
    assert rows[0]["status_notes"] == "Closed (结案): 已结案，通道畅通"
    assert rows[0]["description"] == "楼道堆物，影响通行"
    assert rows[0]["media_url"] is None
    assert rows[2] == {
        "service_request_id": filed.reference,
        "status": "open",
        "status_notes": "Reported",
        "service_name": "Stairwell clutter",
        "service_code": "SAF-01",
        "description": "楼道里堆满了纸箱",
        "agency_responsible": "1号楼组 / 物业",
        "service_notice": NOTICE,
        "requested_datetime": w3c(filed.created_at),
        "updated_datetime": w3c(filed.updated_at),
        "expected_datetime": w3c(filed.due_at),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": 31.0005,
        "long": 121.0005,
        "media_url": "https://img.example.org/1.jpg",
    }
    # Without the key: no private case, no description, no photo, no staff note.
    public = parse_json(api.get(f"{BASE}requests.json", {"jurisdiction_id": "A"}))
    assert [row["service_request_id"] for row in public] == [closed.reference, filed.reference]
    assert public[0]["status_notes"] == "Closed (结案)"
    assert "description" not in public[0] and "media_url" not in public[1]


def test_a_key_of_another_community_is_refused_on_read(world, issued, api):
    response = api.get(f"{BASE}requests.json", {"jurisdiction_id": "C", "api_key": issued.secret})
    _only(response, 403, "api_key: This api_key belongs to another jurisdiction.")


def test_jurisdiction_is_required_when_there_are_several_communities(world, api):
    _only(
        api.get(f"{BASE}requests.json"),
        400,
        "jurisdiction_id: A jurisdiction_id (the community code) is required.",
    )
    _only(
        api.get(f"{BASE}requests.json", {"jurisdiction_id": "A1"}),
        404,
        "jurisdiction_id: Unknown jurisdiction_id: A1",
    )


def test_filters_by_id_code_status_and_dates(world, api):
    lead = world.users[Role.SECRETARY]
    first = staff_case(world)
    second = staff_case(world, code="SAF-02")
    third = staff_case(world)
    duplicate = case_transition(case=third, actor=lead, action="mark_duplicate", duplicate_of=first)
    old = staff_case(world)
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))

    def ids(**params):
        response = api.get(f"{BASE}requests.json", {"jurisdiction_id": "A", **params})
        assert response.status_code == 200
        return [row["service_request_id"] for row in parse_json(response)]

    # The default window is the last 90 days.
    assert ids() == [second.reference, first.reference]
    assert ids(service_code="SAF-02") == [second.reference]
    assert ids(service_code="SAF-02,SAF-01") == [second.reference, first.reference]
    assert ids(status="closed") == []
    assert ids(status="open,closed") == [second.reference, first.reference]
    # Asking by id overrides the other filters (and the window), never the visibility.
    assert ids(
        service_request_id=f"{old.reference},{first.reference},{duplicate.reference}",
        service_code="SAF-02",
    ) == [first.reference, old.reference]
    start = timezone.localtime() - timedelta(days=120)
    assert ids(start_date=start.isoformat(), end_date=(start + timedelta(days=30)).isoformat()) == [
        old.reference
    ]
    assert ids(start_date="2026-01-01T00:00:00Z", end_date="2026-01-02T00:00:00Z") == []
    # "+08:00" sent without URL-encoding arrives as " 08:00".
    assert ids(
        start_date=start.isoformat(timespec="seconds").replace("+", " "),
        end_date=(start + timedelta(days=30)).isoformat(),
    ) == [old.reference]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert ids(end_date=tomorrow) == [second.reference, first.reference]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        (
            {"start_date": "yesterday"},
            "start_date: Not a W3C datetime such as 2026-11-27T08:00:00+08:00: yesterday",
        ),
        (
            {"end_date": "2026-13-01T00:00:00Z"},
            "end_date: Not a W3C datetime such as 2026-11-27T08:00:00+08:00: 2026-13-01T00:00:00Z",
        ),
        (
            {"start_date": "2026-03-01", "end_date": "2026-01-01"},
            "end_date: end_date is before start_date.",
        ),
        (
            {"start_date": "2026-01-01", "end_date": "2026-06-01"},
            "end_date: start_date and end_date may not span more than 90 days.",
        ),
        ({"status": "open,pending"}, "status: Unknown status: pending (open or closed)"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(world, api, params, description):
    response = api.get(f"{BASE}requests.json", {"jurisdiction_id": "A", **params})
    _only(response, 400, description)
    response = api.get(f"{BASE}requests.xml", {"jurisdiction_id": "A", **params})
    assert response.status_code == 400
    assert xml_rows(parse_xml(response)) == [{"code": "400", "description": description}]


def test_every_case_state_has_an_open311_status(world, issued, api):
    assert set(STATUS_OF_STATE) == set(CaseState.values)
    case = staff_case(world)
    seen = {}
    for state in CaseState.values:
        Case.objects.filter(pk=case.pk).update(
            state=state, duplicate_of=case if state == CaseState.DUPLICATE else None
        )
        response = api.get(f"{BASE}requests/{case.reference}.json", {"api_key": issued.secret})
        seen[state] = parse_json(response)[0]["status"]
    assert seen == {
        "reported": "open",
        "accepted": "open",
        "dispatched": "open",
        "in_progress": "open",
        "resolved": "open",
        "verified": "open",
        "closed": "closed",
        "rejected": "closed",
        "duplicate": "closed",
        "returned": "open",
    }


def test_status_notes_name_the_case_a_duplicate_joined(world, issued, api):
    original = staff_case(world)
    copy = staff_case(world)
    case_transition(
        case=copy,
        actor=world.users[Role.SECRETARY],
        action="mark_duplicate",
        duplicate_of=original,
        note="同一处堆物",
    )
    rows = parse_json(api.get(f"{BASE}requests/{copy.reference}.json", {"api_key": issued.secret}))
    assert rows[0]["status_notes"] == f"Duplicate: merged into {original.reference}: 同一处堆物"


def test_one_request_by_id_in_both_formats(world, api):
    case = staff_case(world)
    response = api.get(f"{BASE}requests/{case.reference}.json")
    assert parse_json(response) == [public_row(case)]
    root = parse_xml(api.get(f"{BASE}requests/{case.reference}.xml", {"jurisdiction_id": "A"}))
    assert root.tag == "service_requests"
    assert xml_rows(root) == [public_row(case)]


@pytest.mark.parametrize("jurisdiction", ["", "C"])
def test_unknown_or_hidden_request_id_is_404(world, issued, api, jurisdiction):
    private = staff_case(world, code="NEI-01")
    shown = staff_case(world)
    params = {"jurisdiction_id": jurisdiction} if jurisdiction else {}
    for reference in ["A20200101999999", private.reference] + (
        [shown.reference] if jurisdiction else []
    ):
        response = api.get(f"{BASE}requests/{reference}.json", params)
        _only(response, 404, f"service_request_id: Unknown service_request_id: {reference}")


def test_public_list_reads_in_a_fixed_number_of_queries(world, api, django_assert_num_queries):
    for _index in range(5):
        staff_case(world)
    # The community, then the cases with their category, building and owner in one query.
    with django_assert_num_queries(2):
        response = api.get(f"{BASE}requests.json", {"jurisdiction_id": "A"})
    assert len(parse_json(response)) == 5


def test_keyed_list_reads_in_a_fixed_number_of_queries(
    world, issued, api, django_assert_num_queries
):
    for _index in range(5):
        staff_case(world)
    Open311Key.objects.filter(pk=issued.key.pk).update(last_used_at=timezone.now())
    # The key (with its community), then the cases with their last notes and submissions.
    with django_assert_num_queries(2):
        response = api.get(f"{BASE}requests.json", {"api_key": issued.secret})
    assert len(parse_json(response)) == 5
