"""Photos on a disk that refuses them: full (a tiny tmpfs), read-only (a read-only bind
mount), a file where the media directory should be, or over the file-size limit. The user
gets a clear message (a form error on the web, 503 JSON on the API), nothing is written to
the database, and no partial file is left behind. Stored photos are private to the service.

Tests run as root, for whom chmod does not stop a write: the faults here are real ones.
Mounting needs CAP_SYS_ADMIN; those tests are skipped where it is not permitted."""

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from linli.accounts.roles import Role
from linli.cases.models import Case, CasePhoto, CaseSource
from linli.cases.services import case_create, case_photos_add
from linli.conftest import World
from linli.testing.clients import client_for

API = "/api/v1/cases"
MESSAGE = "the server's storage is full or read-only; tell the IT staff"


pytestmark = pytest.mark.usefixtures("english")


def every_path(root: Path) -> list[Path]:
    return sorted(root.rglob("*")) if root.is_dir() else []


def stored_files(root: Path) -> list[Path]:
    return [path for path in every_path(root) if path.is_file()]


def noise_jpeg(side: int = 400) -> bytes:
    # Random pixels do not compress: the re-encoded photo stays far larger than 64 KB.
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=95)
    return output.getvalue()


def upload(data: bytes | None = None) -> SimpleUploadedFile:
    if data is None:
        output = io.BytesIO()
        Image.new("RGB", (40, 30), (200, 40, 40)).save(output, "JPEG")
        data = output.getvalue()
    return SimpleUploadedFile("IMG_0001.jpg", data, "image/jpeg")


def resident_case(world: World, category) -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description="楼道里堆满了纸箱",
        source=CaseSource.RESIDENT_REPORT,
    )


def _mount(*arguments: str) -> None:
    result = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"mount is not permitted here: {result.stderr.strip()}")


@contextmanager
def mounted(target: Path):
    try:
        yield target
    finally:
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path, settings):
    """MEDIA_ROOT on a 64 KB tmpfs: a real "No space left on device"."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    _mount("-t", "tmpfs", "-o", "size=64k,mode=0750", "tmpfs", str(mountpoint))
    with mounted(mountpoint):
        settings.MEDIA_ROOT = mountpoint / "media"
        yield settings.MEDIA_ROOT


@pytest.fixture
def read_only_media(tmp_path, settings):
    """MEDIA_ROOT through a read-only bind mount: "Read-only file system", even for root."""
    writable, read_only = tmp_path / "writable", tmp_path / "read-only"
    (writable / "media").mkdir(parents=True)
    read_only.mkdir()
    _mount("--bind", str(writable), str(read_only))
    with mounted(read_only):
        _mount("-o", "remount,ro,bind", str(read_only))
        settings.MEDIA_ROOT = read_only / "media"
        yield settings.MEDIA_ROOT


@pytest.fixture
def file_instead_of_directory(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.write_text("a file where the media directory should be")
    return settings.MEDIA_ROOT


# Stored photos are private and whole ----------------------------------------------------------


def test_a_stored_photo_is_private_and_leaves_no_temporary_file(
    world, category, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = resident_case(world, category)
    (photo,) = case_photos_add(case=case, actor=world.users[Role.RESIDENT], files=[upload()])
    path = settings.MEDIA_ROOT / photo.image.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    for directory in path.relative_to(settings.MEDIA_ROOT).parents[:-1]:
        assert stat.S_IMODE((settings.MEDIA_ROOT / directory).stat().st_mode) == 0o750
    assert stored_files(settings.MEDIA_ROOT) == [path]


# A disk that refuses the write ----------------------------------------------------------------


def _refused_on_the_api(world, category, media_root: Path, data: bytes | None = None):
    case = resident_case(world, category)
    response = client_for(world.users[Role.RESIDENT]).post(
        f"{API}/{case.pk}/photos", {"photos": [upload(data), upload(data)]}
    )
    assert response.status_code == 503
    assert response.json()["field"] == "photos"
    assert MESSAGE in response.json()["message"]
    assert CasePhoto.objects.count() == 0
    assert case.events.count() == 1  # no "photos added" step either
    assert stored_files(media_root) == []


def _refused_on_the_filing_form(world, category, media_root: Path, data: bytes | None = None):
    response = client_for(world.users[Role.RESIDENT]).post(
        "/cases/new/",
        {
            "category": category.pk,
            "building": world.building.pk,
            "latitude": "",
            "longitude": "",
            "description": "楼道里堆满了纸箱",
            "photos": [upload(data)],
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert MESSAGE.replace("'", "&#x27;") in response.content.decode()
    # The case and its photo are one transaction: no case was filed without its photo.
    assert Case.objects.count() == 0
    assert CasePhoto.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_full_disk_answers_503_and_leaves_no_partial_file(world, category, full_disk):
    _refused_on_the_api(world, category, full_disk, noise_jpeg())
    # The disk is as empty as before: the half-written temporary file was removed.
    usage = shutil.disk_usage(full_disk.parent)
    assert usage.used < 16 * 1024
    assert [p for p in every_path(full_disk) if p.is_file()] == []


def test_a_full_disk_is_a_form_error_and_files_no_case(world, category, full_disk):
    _refused_on_the_filing_form(world, category, full_disk, noise_jpeg())


def test_a_read_only_media_directory_answers_503(world, category, read_only_media):
    _refused_on_the_api(world, category, read_only_media)


def test_a_read_only_media_directory_is_a_form_error(world, category, read_only_media):
    _refused_on_the_filing_form(world, category, read_only_media)


def test_a_file_where_the_media_directory_should_be_answers_503(
    world, category, file_instead_of_directory
):
    _refused_on_the_api(world, category, file_instead_of_directory)
    assert file_instead_of_directory.read_text().startswith("a file where")


def test_a_file_where_the_media_directory_should_be_is_a_form_error(
    world, category, file_instead_of_directory
):
    _refused_on_the_filing_form(world, category, file_instead_of_directory)


# Over the file-size limit (RLIMIT_FSIZE, in a process of its own) ------------------------------

FILE_SIZE_LIMIT = """
import json, os, resource, sys
from pathlib import Path
import django
from django.conf import settings
settings.configure(FILE_UPLOAD_PERMISSIONS=0o640, FILE_UPLOAD_DIRECTORY_PERMISSIONS=0o750)
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from linli.storage import PrivateFileSystemStorage, StorageUnavailable

root = Path(sys.argv[1])
os.umask(0o022)  # the usual umask, under which Django's files come out world-readable
resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))
outcome = {}
for name, storage in (("django", FileSystemStorage), ("linli", PrivateFileSystemStorage)):
    location = root / name
    try:
        storage(location=location).save("2026/12/photo.jpg", ContentFile(b"x" * 200_000))
        outcome[name] = "saved"
    except StorageUnavailable:
        outcome[name] = "refused"
    except OSError as error:
        outcome[name] = f"oserror {error.errno}"
    outcome[name + "_files"] = sorted(
        [str(p.relative_to(location)), oct(p.stat().st_mode & 0o777), p.stat().st_size]
        for p in location.rglob("*") if p.is_file()
    )
print(json.dumps(outcome))
"""


def test_a_write_over_the_file_size_limit_leaves_nothing_where_django_left_half_a_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", FILE_SIZE_LIMIT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # Django's own storage: EFBIG, and a truncated photo under its real name, world-readable.
    assert outcome["django"].startswith("oserror")
    assert outcome["django_files"] == [["2026/12/photo.jpg", "0o644", 50_000]]
    # Ours: a clear refusal, and nothing at all.
    assert outcome["linli"] == "refused"
    assert outcome["linli_files"] == []
