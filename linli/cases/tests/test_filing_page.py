"""The filing page: place by building or map point, photos, and the staff's source choice."""

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CasePhoto, CaseSource
from linli.cases.services import case_create, case_photos_add
from linli.grids.models import Building, GridUnit
from linli.testing.browser import CHROMIUM, launched_chromium, log_in
from linli.testing.clients import client_for

URL = "/cases/new/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LINLI_MAP_TILE_URL = ""
    return settings.MEDIA_ROOT


pytestmark = pytest.mark.usefixtures("english")


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    output = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 10)).save(output, "JPEG")
    return SimpleUploadedFile(name, output.getvalue(), "image/jpeg")


def square(lat: float, lng: float, size: float = 0.001) -> dict:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def json_block(html: str, element_id: str):
    opening = f'<script id="{element_id}" type="application/json">'
    return json.loads(html.split(opening, 1)[1].split("</script>", 1)[0])


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


# Place and photos -----------------------------------------------------------------------------


def test_resident_files_at_a_map_point_with_photos(world, category, media_root):
    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))
    response = client_for(world.users[Role.RESIDENT]).post(
        URL,
        {
            "category": category.pk,
            "building": "",
            "latitude": "31.00041234",
            "longitude": "121.0006",
            "description": "绿地被占用种菜",
            "photos": [jpeg("a.jpg"), jpeg("b.jpg")],
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert (case.grid_unit, case.building, str(case.latitude), str(case.longitude)) == (
        world.building_group,
        None,
        "31.000412",
        "121.000600",
    )
    assert case.source == CaseSource.RESIDENT_REPORT
    assert list(case.photos.values_list("event__action", flat=True)) == ["create", "create"]
    assert len(stored_files(media_root)) == 2


def test_a_bad_photo_on_the_page_files_nothing_and_names_photos(world, category, media_root):
    response = client_for(world.users[Role.RESIDENT]).post(
        URL,
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "楼道堆物",
            "photos": [jpeg(), SimpleUploadedFile("scan.pdf", b"%PDF-1.4", "application/pdf")],
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["photos"] == [
        "Photo 2 (scan.pdf) is not a photo we can read (JPEG, PNG or WebP)."
    ]
    assert (Case.objects.count(), CasePhoto.objects.count()) == (0, 0)
    assert stored_files(media_root) == []


def test_a_bad_photo_and_a_missing_description_are_reported_together(world, category):
    response = client_for(world.users[Role.RESIDENT]).post(
        URL,
        {
            "category": category.pk,
            "building": "",
            "description": " ",
            "photos": [jpeg(), jpeg(), jpeg(), jpeg()],
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["photos"] == ["At most 3 photos at a time; 4 were sent."]
    assert "description" in errors
    assert Case.objects.count() == 0


def test_no_building_and_no_point_is_a_place_error(world, category):
    response = client_for(world.users[Role.SECRETARY]).post(
        URL, {"category": category.pk, "building": "", "description": "占道经营"}
    )
    assert response.status_code == 200
    assert response.context["place_errors"] == [
        "Say where the problem is: a building or a point on the map."
    ]
    assert Case.objects.count() == 0


def test_check_for_duplicates_works_with_a_point(world, category):
    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))
    existing = case_create(
        reporter=world.users[Role.MICRO_GRID_LEAD],
        category=category,
        description="绿地被占用",
        source=CaseSource.PATROL,
        latitude="31.000400",
        longitude="121.000600",
    )
    response = client_for(world.users[Role.RESIDENT]).post(
        URL,
        {
            "category": category.pk,
            "latitude": "31.000500",
            "longitude": "121.000600",
            "description": "又占绿地",
            "check": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["duplicates"] == [existing]
    assert Case.objects.count() == 1


# Source -----------------------------------------------------------------------------------------


def test_hotline_transfer_needs_its_reference_number(world, category):
    response = client_for(world.users[Role.SECRETARY]).post(
        URL,
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "市民来电反映楼道堆物",
            "source": CaseSource.HOTLINE_12345,
            "hotline_reference": "  ",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["hotline_reference"] == [
        "A 12345 transfer needs its reference number."
    ]
    assert Case.objects.count() == 0


def test_staff_file_a_hotline_transfer_with_its_reference(world, category):
    response = client_for(world.users[Role.SECRETARY]).post(
        URL,
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "市民来电反映楼道堆物",
            "source": CaseSource.HOTLINE_12345,
            "hotline_reference": "SH20261127-0042",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.source, case.hotline_reference) == ("hotline_12345", "SH20261127-0042")


def test_staff_file_a_patrol_finding_and_a_stray_reference_is_dropped(world, category):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        URL,
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "巡查发现堆物",
            "source": CaseSource.PATROL,
            "hotline_reference": "typed by mistake",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.source, case.hotline_reference) == ("patrol", "")


def test_staff_cannot_pick_a_source_outside_the_three(world, category):
    response = client_for(world.users[Role.SECRETARY]).post(
        URL,
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "x",
            "source": CaseSource.EMERGENCY,
        },
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["source"]
    assert Case.objects.count() == 0


def test_resident_cannot_choose_a_source(world, category):
    client = client_for(world.users[Role.RESIDENT])
    page = client.get(URL)
    assert "source" not in page.context["form"].fields
    assert 'data-testid="source-choice"' not in page.content.decode()
    response = client.post(
        URL,
        {
            "category": category.pk,
            "building": world.building.pk,
            "description": "楼道堆物",
            "source": CaseSource.HOTLINE_12345,
            "hotline_reference": "FAKE-1",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.source, case.hotline_reference) == ("resident_report", "")


# The map ----------------------------------------------------------------------------------------


def test_map_draws_boundaries_and_buildings_without_tiles_by_default(world, category):
    GridUnit.objects.filter(pk=world.community.pk).update(boundary=square(31.0, 121.0, 0.01))
    GridUnit.objects.filter(pk=world.other_community.pk).update(boundary=square(32.0, 121.0))
    Building.objects.filter(pk=world.building.pk).update(latitude="31.001", longitude="121.002")
    response = client_for(world.users[Role.RESIDENT]).get(URL)
    data = response.context["map_data"]
    assert data == {
        "tiles": "",
        "attribution": "",
        "units": [{"name": "A社区", "level": "community", "boundary": square(31.0, 121.0, 0.01)}],
        "buildings": [{"id": world.building.pk, "name": "1号楼", "lat": 31.001, "lng": 121.002}],
    }
    body = response.content.decode()
    assert 'id="case-map-data"' in body
    assert "https://" not in body and "http://" not in body.replace("http://testserver", "")


def test_map_uses_the_configured_tile_server(world, settings):
    settings.LINLI_MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    response = client_for(world.users[Role.SECRETARY]).get(URL)
    payload = json_block(response.content.decode(), "case-map-data")
    assert payload["tiles"] == "https://tiles.example.org/{z}/{x}/{y}.png"


# Partials for the case detail ------------------------------------------------------------------


def test_photo_partial_groups_thumbnails_by_step_with_scoped_links(world, category):
    case = case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description="楼道堆物",
        source=CaseSource.RESIDENT_REPORT,
    )
    first = case_photos_add(
        case=case,
        actor=world.users[Role.RESIDENT],
        files=[jpeg()],
        event=case.events.get(action="create"),
    )
    later = case_photos_add(case=case, actor=world.users[Role.MICRO_GRID_LEAD], files=[jpeg()])
    html = render_to_string("cases/_case_photos.html", {"case": case})
    assert html.index("Reported") < html.index("Photos added")
    for photo in first + later:
        assert f'href="/cases/{case.pk}/photos/{photo.pk}/"' in html


def test_map_partial_renders_only_for_a_case_with_a_point(world, category):
    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))
    at_building = case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description="楼道堆物",
        source=CaseSource.RESIDENT_REPORT,
    )
    at_point = case_create(
        reporter=world.users[Role.MICRO_GRID_LEAD],
        category=category,
        description="占绿",
        source=CaseSource.PATROL,
        latitude="31.0004",
        longitude="121.0006",
    )
    assert render_to_string("cases/_case_map.html", {"case": at_building}).strip() == ""
    html = render_to_string("cases/_case_map.html", {"case": at_point})
    payload = json_block(html, "case-point-data")
    assert (payload["lat"], payload["lng"], payload["tiles"]) == (31.0004, 121.0006, "")
    assert payload["units"][0]["boundary"] == square(31.0, 121.0)


# In Chromium: tapping the map fills the point -------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian Chromium")
def test_resident_taps_the_map_on_a_phone_and_files_with_a_photo(live_server, world):
    # A transactional test starts from empty tables: the seeded categories are gone.
    major, _ = CaseCategory.objects.get_or_create(
        code="ENV", defaults={"name_zh": "环境", "name_en": "Environment"}
    )
    category, _ = CaseCategory.objects.get_or_create(
        code="ENV-09",
        defaults={
            "parent": major,
            "name_zh": "毁绿占绿",
            "name_en": "Green space",
            "sla_hours": 72,
        },
    )

    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))
    photo = jpeg()
    with launched_chromium() as browser:
        page = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, locale="en-US"
        ).new_page()
        log_in(page, live_server.url, world.users[Role.RESIDENT].username)
        page.goto(f"{live_server.url}{URL}")
        page.select_option("#id_category", str(category.pk))
        map_box = page.locator("#case-map")
        map_box.wait_for(state="visible")
        box = map_box.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert page.input_value("#id_building") == ""
        latitude = float(page.input_value("#id_latitude"))
        longitude = float(page.input_value("#id_longitude"))
        page.fill("#id_description", "绿地被占用种菜")
        page.set_input_files(
            "#id_photos", {"name": "a.jpg", "mimeType": "image/jpeg", "buffer": photo.read()}
        )
        page.click("button[type=submit].primary")
        page.wait_for_url(f"{live_server.url}/cases/*/")
    case = Case.objects.get()
    assert (case.grid_unit, case.building) == (world.building_group, None)
    assert (float(case.latitude), float(case.longitude)) == (latitude, longitude)
    assert 31.0 < latitude < 31.001 and 121.0 < longitude < 121.001
    assert case.photos.count() == 1
