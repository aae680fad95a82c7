"""A step on the detail page may carry photos: the step and its photos stand or fall together."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases.models import CaseEvent, CasePhoto
from linli.cases.services import case_transition
from linli.cases.tests.test_photos import image_bytes, resident_case, upload
from linli.testing.clients import client_for


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def in_progress(world, category):
    lead = world.users[Role.MICRO_GRID_LEAD]
    case = resident_case(world, category)
    for action in ("accept", "dispatch", "start"):
        case = case_transition(case=case, actor=lead, action=action, handler_text="物业")
    return case


def test_resolving_with_a_photo_attaches_it_to_the_resolve_step(world, category, media_root):
    case = in_progress(world, category)
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        reverse("cases:act", args=[case.pk]),
        {
            "action": "resolve",
            "version": case.version,
            "note": "杂物已清理",
            "photos": [upload("after.jpg", image_bytes())],
        },
    )
    assert response.status_code == 302
    resolve = CaseEvent.objects.get(case=case, action="resolve")
    assert list(CasePhoto.objects.values_list("event_id", flat=True)) == [resolve.pk]
    assert len(list(media_root.rglob("*.jpg"))) == 1


def test_a_bad_photo_undoes_the_step(world, category, media_root):
    case = in_progress(world, category)
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        reverse("cases:act", args=[case.pk]),
        {
            "action": "resolve",
            "version": case.version,
            "note": "杂物已清理",
            "photos": [upload("notes.txt", b"not an image", "text/plain")],
        },
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1 and "notes.txt" in messages[0]
    case.refresh_from_db()
    assert (case.state, CaseEvent.objects.filter(case=case).count()) == ("in_progress", 4)
    assert CasePhoto.objects.count() == 0
    assert list(media_root.rglob("*.*")) == []


def test_the_resolve_form_offers_photos_and_the_accept_form_does_not(world, category):
    case = resident_case(world, category)
    page = (
        client_for(world.users[Role.MICRO_GRID_LEAD])
        .get(reverse("cases:detail", args=[case.pk]))
        .content.decode()
    )
    accept_form = page.split('data-testid="action-accept"')[1].split("</form>")[0]
    assert 'name="photos"' not in accept_form
    case = in_progress(world, category)
    page = (
        client_for(world.users[Role.MICRO_GRID_LEAD])
        .get(reverse("cases:detail", args=[case.pk]))
        .content.decode()
    )
    resolve_form = page.split('data-testid="action-resolve"')[1].split("</form>")[0]
    assert 'name="photos"' in resolve_form
    marker = page.index('data-testid="action-resolve"')
    form_tag = page[page.rindex("<form", 0, marker) : page.index(">", marker)]
    assert 'enctype="multipart/form-data"' in form_tag
