"""Open311 POST requests with an Idempotency-Key: a client retrying a filing gets the same
service_request_id back, and one case is filed. Keys are per api_key (per client)."""

import pytest
from django.db import connection
from django.test import Client

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseEvent
from linli.conftest import build_world, run_together
from linli.grids.models import GridUnit
from linli.idempotency.models import IdempotencyRecord
from linli.idempotency.tests.helpers import KEY, OTHER_KEY
from linli.open311.models import Open311Submission
from linli.open311.services import open311_key_create
from linli.open311.tests.conftest import BASE, parse_json, parse_xml, square, xml_rows


def file_by_point(api, secret: str, *, key: str = KEY, fmt: str = "json", **extra):
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
        headers={"Idempotency-Key": key},
    )


def filed() -> tuple[int, int, int]:
    return Case.objects.count(), CaseEvent.objects.count(), Open311Submission.objects.count()


def test_filing_twice_with_the_same_key_files_one_case(world, issued, drawn, api):
    first = file_by_point(api, issued.secret)
    second = file_by_point(api, issued.secret)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert parse_json(second) == [
        {
            "service_request_id": Case.objects.get().reference,
            "service_notice": "We aim to handle this within 72 hours.",
            "account_id": None,
        }
    ]
    assert filed() == (1, 1, 1)
    record = IdempotencyRecord.objects.get()
    assert (record.caller, record.route) == (
        f"open311:{issued.key.pk}",
        "linli.open311.views.requests_endpoint",
    )


def test_an_xml_filing_is_replayed_as_xml(world, issued, drawn, api):
    first = file_by_point(api, issued.secret, fmt="xml")
    second = file_by_point(api, issued.secret, fmt="xml")
    assert second.content == first.content
    assert xml_rows(parse_xml(second))[0]["service_request_id"] == Case.objects.get().reference
    assert filed() == (1, 1, 1)


def test_without_a_key_the_same_filing_twice_files_two_cases(world, issued, drawn, api):
    for _ in range(2):
        api.post(
            f"{BASE}requests.json",
            {
                "api_key": issued.secret,
                "service_code": "SAF-01",
                "lat": "31.0005",
                "long": "121.0005",
                "description": "楼道里堆满了纸箱",
            },
        )
    assert filed() == (2, 2, 2)


def test_a_different_key_files_a_second_case(world, issued, drawn, api):
    file_by_point(api, issued.secret)
    file_by_point(api, issued.secret, key=OTHER_KEY)
    assert filed() == (2, 2, 2)


def test_the_same_key_with_another_request_is_refused_in_the_spec_error_list(
    world, issued, drawn, api
):
    file_by_point(api, issued.secret)
    refused = file_by_point(api, issued.secret, description="电梯异响")
    assert refused.status_code == 422
    assert parse_json(refused) == [
        {
            "code": 422,
            "description": "This Idempotency-Key was already used for a different request; "
            "send a new key with a new request.",
        }
    ]
    # The same body as XML is another request too: its answer would be in another format.
    assert file_by_point(api, issued.secret, fmt="xml").status_code == 422
    assert filed() == (1, 1, 1)


def test_a_malformed_key_is_refused_in_the_spec_error_list(world, issued, drawn, api):
    refused = file_by_point(api, issued.secret, key="not a key")
    assert refused.status_code == 422
    assert parse_json(refused)[0]["description"].startswith("The Idempotency-Key header must")
    assert filed() == (0, 0, 0)
    assert IdempotencyRecord.objects.count() == 0


def test_the_same_key_from_another_client_files_its_own_case(world, issued, drawn, api):
    _other, other_secret = open311_key_create(
        actor=world.users[Role.SECRETARY], community=world.community, name="市民热线App"
    )
    file_by_point(api, issued.secret)
    theirs = file_by_point(api, other_secret)
    assert theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs
    assert filed() == (2, 2, 2)


def test_a_bad_api_key_is_refused_before_the_key_is_claimed(world, issued, drawn, api):
    assert file_by_point(api, "wrong-secret").status_code == 403
    assert IdempotencyRecord.objects.count() == 0


def test_a_refused_filing_is_replayed_as_refused(world, issued, drawn, api):
    first = file_by_point(api, issued.secret, service_code="NOPE")
    second = file_by_point(api, issued.secret, service_code="NOPE")
    assert first.status_code == second.status_code == 400
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert filed() == (0, 0, 0)


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
def test_the_same_filing_sent_twice_at_once_files_one_case(transactional_db):
    world = build_world()
    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))
    _key, secret = open311_key_create(
        actor=world.users[Role.SECRETARY], community=world.community, name="FixMyStreet"
    )
    answers = []

    def send():
        answers.append(file_by_point(Client(HTTP_ACCEPT_LANGUAGE="en"), secret))

    assert run_together(send, send) == []
    assert sorted(response.status_code for response in answers) == [200, 200]
    assert answers[0].content == answers[1].content
    assert filed() == (1, 1, 1)
