"""Photos of an activity's date: organisers add them; whoever sees the activity sees them."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases.tests.test_photos import image_bytes, upload
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.participation.models import ActivityPhoto
from linli.testing.clients import client_for


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def add(client, occurrence, *files):
    return client.post(
        reverse("participation:photos_add", args=[occurrence.pk]), {"photos": list(files)}
    )


def test_organiser_adds_photos_that_residents_of_the_community_see(world, occurrence, media_root):
    secretary = client_for(world.users[Role.SECRETARY])
    response = add(secretary, occurrence, upload("a.jpg"), upload("b.png", image_bytes("PNG")))
    assert response.status_code == 302
    photos = list(ActivityPhoto.objects.order_by("id"))
    assert [(p.content_type, p.uploaded_by) for p in photos] == [
        ("image/jpeg", world.users[Role.SECRETARY]),
        ("image/png", world.users[Role.SECRETARY]),
    ]
    assert all(p.image.name.startswith("activities/") for p in photos)
    url = reverse("participation:photo", args=[occurrence.pk, photos[0].pk])
    resident = client_for(world.users[Role.RESIDENT])
    assert (
        url in resident.get(reverse("participation:detail", args=[occurrence.pk])).content.decode()
    )
    served = resident.get(url)
    assert (served.status_code, served["Content-Type"]) == (200, "image/jpeg")


def test_a_bad_photo_adds_nothing(world, occurrence, media_root):
    response = add(
        client_for(world.users[Role.SECRETARY]),
        occurrence,
        upload("a.jpg"),
        upload("notes.txt", b"not an image", "text/plain"),
    )
    assert response.status_code == 302
    assert ActivityPhoto.objects.count() == 0
    assert [path for path in media_root.rglob("*") if path.is_file()] == []


def test_only_organisers_add_and_outsiders_do_not_see(world, occurrence):
    for role in (Role.RESIDENT, Role.VOLUNTEER, Role.BUILDING_GROUP_LEADER):
        assert add(client_for(world.users[role]), occurrence, upload()).status_code == 404
    assert ActivityPhoto.objects.count() == 0
    add(client_for(world.users[Role.SECRETARY]), occurrence, upload())
    photo = ActivityPhoto.objects.get()
    url = reverse("participation:photo", args=[occurrence.pk, photo.pk])
    outsider = make_user("secretary_c")
    role_assign(user=outsider, role=Role.SECRETARY, grid_unit=world.other_community)
    assert client_for(outsider).get(url).status_code == 404
