"""Filing a case with an Idempotency-Key: a retried POST answers the first case again and
files nothing more (JSON and the multipart filing with photos)."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent, CasePhoto
from linli.cases.tests.test_photos import image_bytes, stored_files
from linli.conftest import build_world, run_together
from linli.idempotency.tests.helpers import (
    KEY,
    OTHER_KEY,
    assert_refused_as_reused,
    assert_replayed,
    assert_same_redirect,
    form_token,
    keyed_post,
    records,
)
from linli.notify.models import Notification, OutboxMessage
from linli.testing.clients import client_for

URL = "/api/v1/cases"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def filing(world) -> dict:
    return {"category": "SAF-01", "description": "楼道里堆满纸箱", "building_id": world.building.pk}


def counts() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Notification.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_filing_twice_with_the_same_key_files_one_case(world):
    resident = client_for(world.users[Role.RESIDENT])
    first = keyed_post(resident, URL, filing(world))
    second = keyed_post(resident, URL, filing(world))

    assert_replayed(first, second, 201)
    # One case, its one filing step, one notice to each of the place's two leaders (inbox).
    assert counts() == (1, 1, 2, 2)
    assert second.json()["id"] == Case.objects.get().pk
    assert records() == 1


def test_without_a_key_the_same_filing_twice_files_two_cases(world):
    resident = client_for(world.users[Role.RESIDENT])
    keyed_post(resident, URL, filing(world), key=None)
    keyed_post(resident, URL, filing(world), key=None)
    assert counts() == (2, 2, 4, 4)


def test_a_different_key_files_a_second_case(world):
    resident = client_for(world.users[Role.RESIDENT])
    first = keyed_post(resident, URL, filing(world))
    second = keyed_post(resident, URL, filing(world), key=OTHER_KEY)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["reference"] != second.json()["reference"]
    assert counts() == (2, 2, 4, 4)


def test_the_same_key_with_another_description_is_refused_and_files_nothing(world):
    resident = client_for(world.users[Role.RESIDENT])
    keyed_post(resident, URL, filing(world))
    refused = keyed_post(resident, URL, {**filing(world), "description": "电梯异响"})
    assert_refused_as_reused(refused)
    assert counts() == (1, 1, 2, 2)
    assert Case.objects.get().description == "楼道里堆满纸箱"


def test_the_same_key_from_another_user_files_their_own_case(world):
    keyed_post(client_for(world.users[Role.RESIDENT]), URL, filing(world))
    theirs = keyed_post(client_for(world.users[Role.MICRO_GRID_LEAD]), URL, filing(world))
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["source"] == "staff"
    # (The lead who filed the second is not told of it; the building-group leader is.)
    assert counts() == (2, 2, 3, 3)


def test_a_refused_filing_is_replayed_as_refused(world):
    resident = client_for(world.users[Role.RESIDENT])
    body = {**filing(world), "building_id": world.other_community_household.building_id}
    first = keyed_post(resident, URL, body)
    second = keyed_post(resident, URL, body)
    assert_replayed(first, second, 403)
    assert counts() == (0, 0, 0, 0)


def with_photos(client: Client, world, *, key: str = KEY, description: str = "绿地被占用"):
    return client.post(
        f"{URL}/with-photos",
        {
            "category": "SAF-01",
            "description": description,
            "building_id": world.building.pk,
            "photos": [
                SimpleUploadedFile("IMG_0001.jpg", image_bytes(), "image/jpeg"),
                SimpleUploadedFile("IMG_0002.jpg", image_bytes(size=(30, 40)), "image/jpeg"),
            ],
        },
        headers={"Idempotency-Key": key},
    )


def test_filing_with_photos_twice_stores_one_case_and_its_photos_once(world, media_root):
    resident = client_for(world.users[Role.RESIDENT])
    first = with_photos(resident, world)
    files = stored_files(media_root)
    second = with_photos(resident, world)

    assert_replayed(first, second, 201)
    assert counts() == (1, 1, 2, 2)
    assert CasePhoto.objects.count() == 2
    assert stored_files(media_root) == files and len(files) == 2


def test_filing_with_other_photos_under_the_same_key_is_refused(world, media_root):
    resident = client_for(world.users[Role.RESIDENT])
    with_photos(resident, world)
    refused = resident.post(
        f"{URL}/with-photos",
        {
            "category": "SAF-01",
            "description": "绿地被占用",
            "building_id": world.building.pk,
            "photos": [SimpleUploadedFile("IMG_0001.jpg", image_bytes(fmt="PNG"), "image/png")],
        },
        headers={"Idempotency-Key": KEY},
    )
    assert_refused_as_reused(refused)
    assert (Case.objects.count(), CasePhoto.objects.count()) == (1, 2)
    assert len(stored_files(media_root)) == 2


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
def test_the_same_filing_sent_three_times_at_once_files_one_case(transactional_db):
    world = build_world()
    answers = []

    def send():
        answers.append(keyed_post(client_for(world.users[Role.RESIDENT]), URL, filing(world)))

    assert run_together(send, send, send) == []
    assert sorted(response.status_code for response in answers) == [201, 201, 201]
    assert len({response.content for response in answers}) == 1
    assert counts() == (1, 1, 2, 2)


# The filing page: a double tap on "file" files one case, its photos once --------------------


def test_the_filing_page_sent_twice_files_one_case(world, media_root):
    resident = client_for(world.users[Role.RESIDENT])
    page = resident.get("/cases/new/").content.decode()
    token = form_token(page, 'data-testid="case-form"')
    category = CaseCategory.objects.get(code="SAF-01")

    def send():
        return resident.post(
            "/cases/new/",
            {
                "category": category.pk,
                "building": world.building.pk,
                "description": "楼道里堆满纸箱",
                "photos": [SimpleUploadedFile("a.jpg", image_bytes(), "image/jpeg")],
                "once_token": token,
            },
        )

    first, second = send(), send()
    assert_same_redirect(first, second)
    assert counts() == (1, 1, 2, 2)
    assert CasePhoto.objects.count() == 1
    assert len(stored_files(media_root)) == 1
