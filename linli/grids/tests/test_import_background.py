"""Imports of more than LINLI_IMPORT_BACKGROUND_ROWS rows run in the worker: the upload waits
in private storage, the page polls the run's progress with htmx, and shows the report."""

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids import import_runs
from linli.grids.models import ImportRun, ImportRunState, Resident
from linli.grids.tests.test_importing import GOOD_ROWS, NEW_IDS, csv_bytes


@pytest.fixture(autouse=True)
def _small_background(settings, tmp_path):
    settings.LINLI_IMPORT_BACKGROUND_ROWS = 3
    settings.MEDIA_ROOT = tmp_path / "media"


def client_for(world, role=Role.SECRETARY) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    client.force_login(world.users[role])
    return client


def upload(client, rows, dry_run=False):
    data = {"file": SimpleUploadedFile("big.csv", csv_bytes(rows).getvalue())}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("grids:import"), data)


def test_a_large_upload_runs_in_the_background_and_the_page_shows_the_report(
    world, django_capture_on_commit_callbacks
):
    client = client_for(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD_ROWS)
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("grids:import_run", args=[run.pk])
    run.refresh_from_db()
    assert (run.state, run.rows_expected, run.rows_read, run.stored_name) == (
        ImportRunState.DONE,
        5,
        5,
        "",
    )
    assert run.report["written"] is True
    assert run.report["counts"]["residents"] == {"created": 5, "updated": 0, "unchanged": 0}
    assert Resident.objects.filter(name="陈秀兰").exists()
    assert default_storage.listdir("imports") == ([], [])
    page = client.get(response["Location"]).content.decode()
    assert 'data-state="done"' in page
    assert "hx-trigger" not in page
    assert AuditEntry.objects.filter(action="import", object_label="big.csv").count() == 1


def test_a_queued_run_polls_every_two_seconds_and_shows_progress(world):
    client = client_for(world)
    # Without the commit callbacks the task is not started: the run waits, queued.
    response = upload(client, GOOD_ROWS)
    run = ImportRun.objects.get()
    assert run.state == ImportRunState.QUEUED
    assert default_storage.exists(run.stored_name)
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRunState.RUNNING)
    cache.set(f"grids:import-run:{run.pk}:rows", 3, 60)
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert f'hx-get="{reverse("grids:import_run", args=[run.pk])}"' in partial
    assert 'hx-trigger="every 2s"' in partial
    assert "3 of about 5 rows read" in partial
    assert '<progress max="5" value="3">' in partial


def test_a_background_dry_run_with_bad_rows_lists_them_and_writes_nothing(
    world, django_capture_on_commit_callbacks
):
    rows = [*GOOD_ROWS[:3], ["A1-1", "5号楼", "103", "", "女", "1950", "", NEW_IDS[6], "", "", ""]]
    client = client_for(world)
    before = Resident.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, rows, dry_run=True)
    page = client.get(response["Location"]).content.decode()
    assert "1 problem found: nothing was written" in page
    assert "This field is required." in page
    assert Resident.objects.count() == before
    entry = AuditEntry.objects.get(action="import_check")
    assert entry.changes["rows"] == 4


def test_another_user_cannot_see_a_run(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_for(world), GOOD_ROWS)
    assert client_for(world, Role.STREET_ADMIN).get(response["Location"]).status_code == 404
    assert client_for(world, Role.RESIDENT).get(response["Location"]).status_code == 404


def test_a_small_upload_still_imports_in_the_request(world):
    response = upload(client_for(world), GOOD_ROWS[:3])
    assert response.status_code == 200
    assert response.context["report"].written
    assert not ImportRun.objects.exists()


def test_a_run_is_executed_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_for(world), GOOD_ROWS)
    run = ImportRun.objects.get()
    assert import_runs.import_run_execute(run_id=run.pk) is None
    assert Resident.objects.filter(name="陈秀兰").count() == 1
