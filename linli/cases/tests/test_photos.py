"""Case photos: checked and re-encoded before anything is written, stored without metadata
under dated random names, served only within the case's scope."""

import io
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseEvent, CasePhoto, CaseSource
from linli.cases.services import case_create, case_photos_add
from linli.conftest import ID_NUMBERS, World, make_user
from linli.grids.models import GridUnit
from linli.grids.services import resident_create, role_assign
from linli.testing.clients import client_for

API = "/api/v1/cases"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# Messages are compared in English, whatever the site language and its catalogue.
pytestmark = pytest.mark.usefixtures("english")


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def image_bytes(fmt: str = "JPEG", size=(40, 30), exif: Image.Exif | None = None) -> bytes:
    output = io.BytesIO()
    image = Image.new("RGB", size, (200, 40, 40))
    if exif is not None:
        image.save(output, fmt, exif=exif)
    else:
        image.save(output, fmt)
    return output.getvalue()


def upload(name: str = "IMG_0001.jpg", data: bytes | None = None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type)


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (31.0, 13.0, 40.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 27.0, 10.0),
    }
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    return exif


def resident_case(world: World, category) -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description="楼道里堆满了纸箱",
        source=CaseSource.RESIDENT_REPORT,
    )


def filing_step(case: Case) -> CaseEvent:
    return case.events.get(action="create")


def other_community_secretary(world: World):
    user = make_user("c-secretary")
    role_assign(
        user=user, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    return user


def neighbour_with_account(world: World):
    user = make_user("neighbour-resident")
    resident_create(
        household=world.neighbour_household,
        name="钱红",
        sex="female",
        birth_year=1980,
        id_number=ID_NUMBERS[4],
        user=user,
    )
    return user


# Storing ------------------------------------------------------------------------------------


def test_filing_photos_are_stored_reencoded_under_dated_random_names(world, category, media_root):
    case = resident_case(world, category)
    photos = case_photos_add(
        case=case,
        actor=world.users[Role.RESIDENT],
        files=[upload("张桂英-101室.jpg"), upload("second.png", image_bytes("PNG"), "image/png")],
        event=filing_step(case),
    )
    assert [photo.content_type for photo in photos] == ["image/jpeg", "image/png"]
    assert [(photo.width, photo.height) for photo in photos] == [(40, 30), (40, 30)]
    assert {photo.event.action for photo in photos} == {"create"}
    assert {photo.uploaded_by for photo in photos} == {world.users[Role.RESIDENT]}
    for photo, extension in zip(photos, ["jpg", "png"], strict=True):
        assert re.fullmatch(rf"cases/\d{{4}}/\d{{2}}/[0-9a-f]{{32}}\.{extension}", photo.image.name)
        on_disk = media_root / photo.image.name
        assert photo.size == on_disk.stat().st_size
    assert len(stored_files(media_root)) == 2
    assert "101" not in " ".join(photo.image.name for photo in photos)


def test_exif_gps_is_removed_and_the_orientation_applied(world, category, media_root):
    original = image_bytes(size=(40, 30), exif=gps_exif(orientation=6))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    case = resident_case(world, category)
    (photo,) = case_photos_add(
        case=case,
        actor=world.users[Role.RESIDENT],
        files=[upload(data=original)],
        event=filing_step(case),
    )
    with Image.open(media_root / photo.image.name) as stored:
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
        # Orientation 6 means "rotate 90° to show": the stored pixels are already upright.
        assert stored.size == (30, 40)
    assert (photo.width, photo.height) == (30, 40)


def test_webp_is_kept_as_webp(world, category):
    case = resident_case(world, category)
    (photo,) = case_photos_add(
        case=case,
        actor=world.users[Role.RESIDENT],
        files=[upload("a.webp", image_bytes("WEBP"), "image/webp")],
        event=filing_step(case),
    )
    assert (photo.content_type, photo.image.name[-5:]) == ("image/webp", ".webp")


# Refusals: clear error on `photos`, nothing written -------------------------------------------


def assert_nothing_written(case: Case, media_root: Path, events: int = 1) -> None:
    assert CasePhoto.objects.count() == 0
    assert stored_files(media_root) == []
    assert case.events.count() == events


def test_a_non_image_is_refused_by_position_and_name_and_nothing_is_written(
    world, category, media_root
):
    case = resident_case(world, category)
    with pytest.raises(ValidationError) as error:
        case_photos_add(
            case=case,
            actor=world.users[Role.RESIDENT],
            files=[upload(), SimpleUploadedFile("notes.txt", b"just text", "image/jpeg")],
            event=filing_step(case),
        )
    assert error.value.message_dict == {
        "photos": ["Photo 2 (notes.txt) is not a photo we can read (JPEG, PNG or WebP)."]
    }
    assert_nothing_written(case, media_root)


def test_a_heic_file_pillow_cannot_read_is_refused(world, category, media_root):
    case = resident_case(world, category)
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(ValidationError) as error:
        case_photos_add(
            case=case,
            actor=world.users[Role.RESIDENT],
            files=[SimpleUploadedFile("IMG_0002.HEIC", heic, "image/heic")],
            event=filing_step(case),
        )
    assert error.value.message_dict == {
        "photos": ["Photo 1 (IMG_0002.HEIC) is not a photo we can read (JPEG, PNG or WebP)."]
    }
    assert_nothing_written(case, media_root)


def test_a_truncated_jpeg_is_refused(world, category, media_root):
    case = resident_case(world, category)
    broken = image_bytes(size=(200, 200))[:300]
    with pytest.raises(ValidationError) as error:
        case_photos_add(
            case=case,
            actor=world.users[Role.RESIDENT],
            files=[upload("cut.jpg", broken)],
            event=filing_step(case),
        )
    assert list(error.value.message_dict) == ["photos"]
    assert_nothing_written(case, media_root)


def test_a_file_over_10_mb_is_refused_and_nothing_is_written(world, category, media_root):
    case = resident_case(world, category)
    big = SimpleUploadedFile("big.jpg", b"\xff" * (11 * 1024 * 1024), "image/jpeg")
    with pytest.raises(ValidationError) as error:
        case_photos_add(
            case=case,
            actor=world.users[Role.RESIDENT],
            files=[upload(), big],
            event=filing_step(case),
        )
    assert error.value.message_dict == {"photos": ["Photo 2 (big.jpg) is larger than 10 MB."]}
    assert_nothing_written(case, media_root)


def test_a_fourth_photo_on_a_step_is_refused(world, category, media_root):
    case = resident_case(world, category)
    resident = world.users[Role.RESIDENT]
    with pytest.raises(ValidationError) as error:
        case_photos_add(
            case=case, actor=resident, files=[upload() for _ in range(4)], event=filing_step(case)
        )
    assert error.value.message_dict == {"photos": ["At most 3 photos at a time; 4 were sent."]}
    assert_nothing_written(case, media_root)

    case_photos_add(
        case=case, actor=resident, files=[upload() for _ in range(3)], event=filing_step(case)
    )
    with pytest.raises(ValidationError) as error:
        case_photos_add(case=case, actor=resident, files=[upload()], event=filing_step(case))
    assert error.value.message_dict == {
        "photos": ["A step carries at most 3 photos; this one has 3."]
    }
    assert CasePhoto.objects.count() == 3
    assert len(stored_files(media_root)) == 3


def test_photos_added_later_are_a_timeline_step_of_their_own(world, category):
    case = resident_case(world, category)
    lead = world.users[Role.MICRO_GRID_LEAD]
    photos = case_photos_add(case=case, actor=lead, files=[upload(), upload(), upload()])
    step = case.events.last()
    assert (step.action, step.actor, step.from_state, step.to_state) == (
        "add_photos",
        lead,
        "reported",
        "reported",
    )
    assert [photo.event for photo in photos] == [step, step, step]


def test_nobody_outside_the_case_may_add_photos(world, category, media_root):
    case = resident_case(world, category)
    for outsider in (other_community_secretary(world), world.users[Role.VOLUNTEER]):
        with pytest.raises(ValidationError) as error:
            case_photos_add(case=case, actor=outsider, files=[upload()])
        assert error.value.code == "permission_denied"
    assert_nothing_written(case, media_root)


def test_photos_cannot_be_added_to_a_finished_case_as_a_new_step(world, category, media_root):
    case = resident_case(world, category)
    Case.objects.filter(pk=case.pk).update(state="rejected")
    case.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        case_photos_add(case=case, actor=world.users[Role.RESIDENT], files=[upload()])
    assert error.value.message_dict == {"photos": ["Photos can be added while the case is open."]}
    assert_nothing_written(case, media_root)


def test_files_already_stored_are_removed_when_a_row_cannot_be_written(
    world, category, media_root, monkeypatch
):
    case = resident_case(world, category)
    original_save = CasePhoto.save
    calls = []

    def failing_save(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(CasePhoto, "save", failing_save)
    with pytest.raises(RuntimeError):
        case_photos_add(
            case=case,
            actor=world.users[Role.RESIDENT],
            files=[upload(), upload()],
            event=filing_step(case),
        )
    assert_nothing_written(case, media_root)


# Serving --------------------------------------------------------------------------------------


@pytest.fixture
def photo(world, category) -> CasePhoto:
    case = resident_case(world, category)
    (photo,) = case_photos_add(
        case=case, actor=world.users[Role.RESIDENT], files=[upload()], event=filing_step(case)
    )
    return photo


def photo_url(photo: CasePhoto) -> str:
    return reverse("cases:photo", args=[photo.case_id, photo.pk])


def test_the_reporter_and_staff_in_scope_get_the_photo(world, photo, media_root):
    expected = (media_root / photo.image.name).read_bytes()
    for user in (world.users[Role.RESIDENT], world.users[Role.MICRO_GRID_LEAD]):
        response = client_for(user).get(photo_url(photo))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")
        assert b"".join(response.streaming_content) == expected


def test_other_communitys_staff_and_other_residents_get_404(world, photo):
    for user in (
        other_community_secretary(world),
        neighbour_with_account(world),
        world.users[Role.VOLUNTEER],
    ):
        assert client_for(user).get(photo_url(photo)).status_code == 404


def test_a_photo_is_not_found_under_another_case(world, category, photo):
    other = resident_case(world, category)
    url = reverse("cases:photo", args=[other.pk, photo.pk])
    assert client_for(world.users[Role.RESIDENT]).get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_login(photo):
    response = client_for(None).get(photo_url(photo))
    assert response.status_code == 302


def test_the_public_board_never_links_a_photo(world, photo):
    response = client_for(world.users[Role.RESIDENT]).get(
        reverse("cases:board", args=[world.community.pk])
    )
    assert response.status_code == 200
    assert "/photos/" not in response.content.decode()


# API ------------------------------------------------------------------------------------------


def test_api_reporter_adds_photos_and_the_detail_lists_them(world, category):
    case = resident_case(world, category)
    client = client_for(world.users[Role.RESIDENT])
    response = client.post(f"{API}/{case.pk}/photos", {"photos": [upload(), upload()]})
    assert response.status_code == 201
    photos = list(CasePhoto.objects.order_by("id"))
    assert response.json()["photos"] == [
        {
            "id": photo.pk,
            "url": f"/cases/{case.pk}/photos/{photo.pk}/",
            "content_type": "image/jpeg",
            "width": 40,
            "height": 30,
            "step": "add_photos",
        }
        for photo in photos
    ]
    assert client.get(f"{API}/{case.pk}").json()["photos"] == response.json()["photos"]


def test_api_bad_photo_is_a_400_naming_photos_and_writes_nothing(world, category, media_root):
    case = resident_case(world, category)
    response = client_for(world.users[Role.RESIDENT]).post(
        f"{API}/{case.pk}/photos",
        {"photos": [upload(), SimpleUploadedFile("x.gif", b"GIF89a", "image/gif")]},
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Photo 2 (x.gif) is not a photo we can read (JPEG, PNG or WebP).",
        "field": "photos",
    }
    assert_nothing_written(case, media_root)


def test_api_other_communitys_staff_cannot_add_photos(world, category, media_root):
    case = resident_case(world, category)
    response = client_for(other_community_secretary(world)).post(
        f"{API}/{case.pk}/photos", {"photos": [upload()]}
    )
    assert response.status_code == 404
    assert_nothing_written(case, media_root)


def square(lat: float, lng: float, size: float = 0.001) -> dict:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_api_files_a_case_at_a_map_point_with_photos_in_one_request(world, category):
    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))
    response = client_for(world.users[Role.RESIDENT]).post(
        f"{API}/with-photos",
        {
            "category": category.code,
            "description": "绿地被占用",
            "latitude": "31.000400",
            "longitude": "121.000600",
            "photos": [upload()],
        },
    )
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.grid_unit, case.building, str(case.latitude), str(case.longitude)) == (
        world.building_group,
        None,
        "31.000400",
        "121.000600",
    )
    assert case.source == "resident_report"
    assert [photo["step"] for photo in response.json()["photos"]] == ["create"]


def test_api_filing_with_a_bad_photo_files_nothing(world, category, media_root):
    response = client_for(world.users[Role.RESIDENT]).post(
        f"{API}/with-photos",
        {
            "category": category.code,
            "description": "楼道堆物",
            "building_id": world.building.pk,
            "photos": [upload(), upload(), upload(), upload()],
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "photos"
    assert Case.objects.count() == 0
    assert stored_files(media_root) == []


def test_api_files_a_case_at_a_map_point_as_json(world, category):
    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        API,
        {
            "category": category.code,
            "description": "巡查发现占道",
            "latitude": "31.0005",
            "longitude": "121.0005",
            "source": "patrol",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.grid_unit, case.source, response.json()["photos"]) == (
        world.building_group,
        "patrol",
        [],
    )


def test_api_resident_cannot_choose_a_source(world, category):
    response = client_for(world.users[Role.RESIDENT]).post(
        API,
        {
            "category": category.code,
            "description": "楼道堆物",
            "building_id": world.building.pk,
            "source": "hotline_12345",
            "hotline_reference": "FAKE-1",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.source, case.hotline_reference) == ("resident_report", "")


def test_api_hotline_transfer_without_reference_names_hotline_reference(world, category):
    response = client_for(world.users[Role.SECRETARY]).post(
        API,
        {
            "category": category.code,
            "description": "市民来电",
            "building_id": world.building.pk,
            "source": "hotline_12345",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "A 12345 transfer needs its reference number.",
        "field": "hotline_reference",
    }
    assert Case.objects.count() == 0
