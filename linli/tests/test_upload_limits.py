"""Uploaded images are bounded before they are decoded, and each user's uploads per hour are
limited (issue 13, hole 17)."""

import io
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CasePhoto, CaseSource
from linli.cases.services import case_create
from linli.testing.clients import client_for

API = "/api/v1/cases"
NOON = datetime(2026, 12, 5, 4, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


pytestmark = pytest.mark.usefixtures("english")


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """A valid black-and-white PNG of width × height pixels: a few kilobytes on the wire,
    100 megapixels (and at least 100 MB as Pillow holds it) once decoded."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then 1 bit per pixel
    pixels = zlib.compress(row * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def jpeg() -> SimpleUploadedFile:
    output = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(output, "JPEG")
    return SimpleUploadedFile("IMG_0001.jpg", output.getvalue(), "image/jpeg")


def resident_case(world) -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=CaseCategory.objects.get(code="SAF-01"),
        building=world.building,
        description="楼道里堆满了纸箱",
        source=CaseSource.RESIDENT_REPORT,
    )


def test_the_bomb_is_small_and_its_header_says_ten_thousand_squared(monkeypatch):
    # Pillow's own guard (set from LINLI_UPLOAD_MAX_PIXELS) refuses even to open it.
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(png_bomb()))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    data = png_bomb()
    assert len(data) < 20_000
    with Image.open(io.BytesIO(data)) as probe:
        assert (probe.format, probe.size) == ("PNG", (10_000, 10_000))


def test_api_refuses_an_image_with_too_many_pixels_before_decoding_it(world, media_root):
    case = resident_case(world)
    bomb = SimpleUploadedFile("bomb.png", png_bomb(), "image/png")
    response = client_for(world.users[Role.RESIDENT]).post(
        f"{API}/{case.pk}/photos", {"photos": [bomb]}
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Photo 1 (bomb.png) has too many pixels; at most 24 megapixels are accepted.",
        "field": "photos",
    }
    assert CasePhoto.objects.count() == 0
    assert stored_files(media_root) == []


def test_the_pixel_bound_is_a_setting(world, settings):
    settings.LINLI_UPLOAD_MAX_PIXELS = 2_000_000
    case = resident_case(world)
    small = SimpleUploadedFile("small.png", png_bomb(2000, 1001), "image/png")
    response = client_for(world.users[Role.RESIDENT]).post(
        f"{API}/{case.pk}/photos", {"photos": [small]}
    )
    assert (response.status_code, response.json()["field"]) == (400, "photos")
    assert response.json()["message"] == (
        "Photo 1 (small.png) has too many pixels (2000 × 1001); at most 2 megapixels are accepted."
    )


def test_the_filing_page_refuses_thirty_megapixels_and_files_nothing(world, media_root):
    category = CaseCategory.objects.get(code="SAF-01")
    response = client_for(world.users[Role.RESIDENT]).post(
        "/cases/new/",
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "楼道里堆满了纸箱",
            # 30 megapixels: under Pillow's own guard, and under the 50 the code once allowed.
            "photos": [SimpleUploadedFile("big.png", png_bomb(6000, 5000), "image/png")],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["photos"] == [
        "Photo 1 (big.png) has too many pixels (6000 × 5000); at most 24 megapixels are accepted."
    ]
    assert (Case.objects.count(), stored_files(media_root)) == (0, [])


def test_api_refuses_uploads_over_the_hourly_quota_with_429(world, settings, media_root):
    settings.LINLI_UPLOADS_PER_HOUR = 3
    case = resident_case(world)
    client = client_for(world.users[Role.RESIDENT])
    with time_machine.travel(NOON, tick=False):
        first = client.post(f"{API}/{case.pk}/photos", {"photos": [jpeg(), jpeg()]})
        second = client.post(f"{API}/{case.pk}/photos", {"photos": [jpeg()]})
        over = client.post(f"{API}/{case.pk}/photos", {"photos": [jpeg()]})
    assert (first.status_code, second.status_code, over.status_code) == (201, 201, 429)
    assert over.json() == {
        "message": "You may send at most 3 photos an hour; try again later. Nothing was saved.",
        "field": "photos",
    }
    assert CasePhoto.objects.count() == 3
    # The next clock hour starts a new count.
    with time_machine.travel(NOON.replace(hour=5), tick=False):
        later = client.post(f"{API}/{case.pk}/photos", {"photos": [jpeg()]})
    assert later.status_code == 201


def test_the_quota_is_per_user(world, settings):
    settings.LINLI_UPLOADS_PER_HOUR = 1
    case = resident_case(world)
    lead = Client(headers={"Accept-Language": "en"})
    lead.force_login(world.users[Role.MICRO_GRID_LEAD])
    with time_machine.travel(NOON, tick=False):
        assert (
            client_for(world.users[Role.RESIDENT])
            .post(f"{API}/{case.pk}/photos", {"photos": [jpeg()]})
            .status_code
            == 201
        )
        assert lead.post(f"{API}/{case.pk}/photos", {"photos": [jpeg()]}).status_code == 201
        refused = client_for(world.users[Role.RESIDENT]).post(
            f"{API}/{case.pk}/photos", {"photos": [jpeg()]}
        )
    assert refused.status_code == 429


def test_the_filing_page_says_the_quota_is_used_up(world, settings, media_root):
    settings.LINLI_UPLOADS_PER_HOUR = 1
    category = CaseCategory.objects.get(code="SAF-01")
    client = client_for(world.users[Role.RESIDENT])

    def file_with_photo():
        return client.post(
            "/cases/new/",
            {
                "category": category.pk,
                "building": world.building.pk,
                "description": "楼道里堆满了纸箱",
                "photos": [jpeg()],
            },
        )

    with time_machine.travel(NOON, tick=False):
        assert file_with_photo().status_code == 302
        refused = file_with_photo()
    assert refused.status_code == 200
    assert refused.context["form"].errors["photos"] == [
        "You may send at most 1 photo an hour; try again later. Nothing was saved."
    ]
    assert (Case.objects.count(), CasePhoto.objects.count()) == (1, 1)
