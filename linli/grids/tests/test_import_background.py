"""Imports of more than LINLI_IMPORT_BACKGROUND_ROWS rows run in the worker: the upload waits
in private storage, the page polls the run's progress with htmx, and shows the report."""

import sys

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids.importing import reading as import_reading
from linli.grids.importing import runs as import_runs
from linli.grids.models import ImportRun, ImportRunState, Resident
from linli.grids.tests.test_importing import (
    GOOD_ROWS,
    NEW_IDS,
    csv_bytes,
    registry_counts,
)
from linli.testing.builders import with_check_character
from linli.testing.clients import client_for


@pytest.fixture(autouse=True)
def _small_background(settings, tmp_path):
    settings.LINLI_IMPORT_BACKGROUND_ROWS = 3
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client, rows, dry_run=False):
    data = {"file": SimpleUploadedFile("big.csv", csv_bytes(rows).getvalue())}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("grids:import"), data)


def test_a_large_upload_runs_in_the_background_and_the_page_shows_the_report(
    world, django_capture_on_commit_callbacks
):
    client = client_for(world.users[Role.SECRETARY])
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
    client = client_for(world.users[Role.SECRETARY])
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
    client = client_for(world.users[Role.SECRETARY])
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
        response = upload(client_for(world.users[Role.SECRETARY]), GOOD_ROWS)
    assert client_for(world.users[Role.STREET_ADMIN]).get(response["Location"]).status_code == 404
    assert client_for(world.users[Role.RESIDENT]).get(response["Location"]).status_code == 404


def test_a_small_upload_still_imports_in_the_request(world):
    response = upload(client_for(world.users[Role.SECRETARY]), GOOD_ROWS[:3])
    assert response.status_code == 200
    assert response.context["report"].written
    assert not ImportRun.objects.exists()


def test_a_run_is_executed_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(client_for(world.users[Role.SECRETARY]), GOOD_ROWS)
    run = ImportRun.objects.get()
    assert import_runs.import_run_execute(run_id=run.pk) is None
    assert Resident.objects.filter(name="陈秀兰").count() == 1


def test_a_background_import_with_bad_rows_names_each_row_and_writes_nothing(
    world, django_capture_on_commit_callbacks
):
    too_old = [*GOOD_ROWS[1][:5], "1850", *GOOD_ROWS[1][6:]]
    no_name = ["A1-1", "5号楼", "105", "", "女", "1950", "", NEW_IDS[6], "", "", ""]
    # The header is row 1: the bad rows are rows 3 and 6 of the spreadsheet.
    rows = [GOOD_ROWS[0], too_old, GOOD_ROWS[2], GOOD_ROWS[3], no_name]
    client = client_for(world.users[Role.SECRETARY])
    before = registry_counts()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, rows)
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("grids:import_run", args=[run.pk])
    run.refresh_from_db()
    assert (run.state, run.report["ok"], run.report["written"]) == (
        ImportRunState.DONE,
        False,
        False,
    )
    assert [(error["row"], error["column"], error["code"]) for error in run.report["errors"]] == [
        (3, "birth_year", "birth_year"),
        (6, "name", "required"),
    ]
    assert registry_counts() == before
    assert not Resident.objects.filter(name="陈秀兰").exists()
    page = client.get(response["Location"]).content.decode()
    assert "2 problems found: nothing was written" in page
    assert '<td class="num">3</td><td>出生年份 <span class="muted small">birth_year</span>' in page
    assert '<td class="num">6</td><td>姓名 <span class="muted small">name</span>' in page
    assert "hx-trigger" not in page
    assert AuditEntry.objects.get(action="import_check").changes["errors"] == 2


def test_a_background_report_names_every_bad_row_past_a_thousand(
    world, django_capture_on_commit_callbacks
):
    rows = [
        [
            "A1-1",
            "5号楼",
            str(100 + index),
            f"居民{index}",
            "女",
            "1850",
            "",
            with_check_character(f"310101195002{index:05d}"),
            "",
            "",
            "",
        ]
        for index in range(1_200)
    ]
    client = client_for(world.users[Role.SECRETARY])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, rows)
    run = ImportRun.objects.get()
    assert run.report["error_count"] == 1_200
    assert [error["row"] for error in run.report["errors"]] == list(range(2, 1_202))
    page = client.get(response["Location"]).content.decode()
    assert "1200 problems found: nothing was written" in page
    assert page.count('<tr><td class="num">') == 1_200
    assert '<td class="num">1201</td>' in page
    assert Resident.objects.filter(name__startswith="居民").count() == 0


def test_the_run_page_shows_the_rows_read_while_the_import_runs(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(import_reading, "PROGRESS_EVERY", 2)
    client = client_for(world.users[Role.SECRETARY])
    seen = []
    real_import = import_runs.registry_import

    def import_looking_at_the_page(**arguments):
        report_progress = arguments["progress"]

        def progress_and_look(rows):
            report_progress(rows)
            page = reverse("grids:import_run", args=[ImportRun.objects.get().pk])
            seen.append(client.get(page, HTTP_HX_REQUEST="true").content.decode())

        return real_import(**{**arguments, "progress": progress_and_look})

    monkeypatch.setattr(import_runs, "registry_import", import_looking_at_the_page)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD_ROWS)
    # Rows 2, 4 and 6 of the sheet: 1, 3 and 5 of the 5 data rows read.
    assert len(seen) == 3
    for partial, rows_read in zip(seen, (1, 3, 5), strict=True):
        assert 'data-state="running"' in partial
        assert 'hx-trigger="every 2s"' in partial
        assert f"Running: {rows_read} of about 5 rows read" in partial
        assert f'<progress max="5" value="{rows_read}">' in partial
    page = client.get(response["Location"]).content.decode()
    assert 'data-state="done"' in page
    assert "Imported · 5 rows" in page


def test_neither_the_page_nor_the_worker_changes_the_switch_interval(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    # The interval is the whole process's: a request or a task changing it would change it
    # for every other request and task of the process.
    changes = []
    monkeypatch.setattr(sys, "setswitchinterval", changes.append)
    client = client_for(world.users[Role.SECRETARY])
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, GOOD_ROWS)
    assert ImportRun.objects.get().state == ImportRunState.DONE
    assert upload(client, GOOD_ROWS[:2], dry_run=True).context["report"].ok
    assert changes == []
