"""Exports: scoped, masked, tags only where visible, audited; denied exports write nothing."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids.importing import COLUMNS
from linli.testing.clients import client_for


def rows_of(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def test_secretary_exports_their_community_masked_and_audited(world):
    response = client_for(world.users[Role.SECRETARY], language="zh-hans").post(
        reverse("grids:residents_export")
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="residents-')
    header, *rows = rows_of(response)
    assert list(header) == [column.zh for column in COLUMNS]
    assert rows == [
        (
            "A1-1",
            "1号楼",
            "101",
            "张桂英",
            "女",
            1946,
            "138****1234",
            "110101********0038",
            "户籍",
            None,
            "独居老人",
        ),
        (
            "A1-1",
            "1号楼",
            "102",
            "李建国",
            "男",
            1958,
            "139****5678",
            "110101********0054",
            "户籍",
            "退休",
            None,
        ),
        (
            "A2-1",
            "2号楼",
            "201",
            "王芳",
            "女",
            1985,
            "137****1111",
            "110101********0070",
            "外来",
            None,
            "孕产妇",
        ),
    ]
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == world.users[Role.SECRETARY]
    assert entry.changes == {"count": 3, "filter": {}}
    assert entry.grid_path == world.community.path


def test_export_follows_the_list_filters_and_records_them(world):
    response = client_for(world.users[Role.STREET_ADMIN], language="zh-hans").post(
        reverse("grids:residents_export"), {"grid": world.other_community.id}
    )
    header, *rows = rows_of(response)
    assert [row[3] for row in rows] == ["赵强"]
    entry = AuditEntry.objects.get(action="export")
    assert entry.changes == {"count": 1, "filter": {"grid": "C"}}
    assert entry.grid_path == world.other_community.path


def test_english_export_uses_english_headers_and_codes(world):
    client = client_for(world.users[Role.SECRETARY], language="zh-hans")
    client.cookies["django_language"] = "en"
    header, first, *_ = rows_of(client.post(reverse("grids:residents_export"), {"q": "张桂英"}))
    assert list(header) == [column.key for column in COLUMNS]
    assert first[4:] == (
        "female",
        1946,
        "138****1234",
        "110101********0038",
        "registered",
        None,
        "elderly_alone",
    )


def test_export_of_a_grid_outside_scope_is_404_and_writes_nothing(world):
    response = client_for(world.users[Role.SECRETARY], language="zh-hans").post(
        reverse("grids:residents_export"), {"grid": world.other_community.id}
    )
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.parametrize(
    "role",
    [
        Role.MICRO_GRID_LEAD,
        Role.BUILDING_GROUP_LEADER,
        Role.RESIDENT,
        Role.VOLUNTEER,
        Role.PARTNER_LIAISON,
    ],
)
def test_export_is_404_without_the_permission_and_writes_nothing(world, role):
    response = client_for(world.users[role], language="zh-hans").post(
        reverse("grids:residents_export")
    )
    assert response.status_code == 404
    assert (
        not AuditEntry.objects.exists() or not AuditEntry.objects.filter(action="export").exists()
    )


def test_anonymous_export_is_sent_to_log_in(world):
    assert Client().post(reverse("grids:residents_export")).status_code == 302
    assert Client().post(reverse("privacy:my_data")).status_code == 302
    assert not AuditEntry.objects.filter(action="export").exists()


def test_resident_downloads_their_own_household_first_in_everything_held_about_them(world):
    response = client_for(world.users[Role.RESIDENT], language="zh-hans").post(
        reverse("privacy:my_data")
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="my-data.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    # The household sheet first, then the rest of what is held (linli/privacy/access.py).
    assert workbook.sheetnames == [
        "我的家庭",
        "走访记录",
        "诉求",
        "应急求助",
        "活动报名",
        "隐私告知同意",
        "更正申请",
    ]
    header, *rows = rows_of(response)
    assert list(header) == [column.zh for column in COLUMNS]
    assert rows == [
        (
            "A1-1",
            "1号楼",
            "101",
            "张桂英",
            "女",
            1946,
            "138****1234",
            "110101********0038",
            "户籍",
            None,
            "独居老人",
        ),
    ]
    entry = AuditEntry.objects.get(action="export")
    assert (entry.object_type, entry.object_id, entry.object_label) == (
        "household",
        str(world.household.id),
        "my-data.xlsx",
    )
    assert entry.changes == {
        "count": 1,
        "sheets": {
            "household": 1,
            "visits": 0,
            "cases": 0,
            "help_requests": 0,
            "sign_ups": 0,
            "privacy_notice": 0,
            "corrections": 0,
        },
    }
    assert entry.grid_path == world.household.grid_path


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.MICRO_GRID_LEAD, Role.VOLUNTEER])
def test_own_download_is_404_for_users_without_a_household(world, role):
    assert (
        client_for(world.users[role], language="zh-hans")
        .post(reverse("privacy:my_data"))
        .status_code
        == 404
    )
    assert not AuditEntry.objects.filter(action="export").exists()


# Each export, who may take it, and the button its GET page shows.
EXPORTS = [
    (Role.SECRETARY, "grids:residents_export", "export-confirm"),
    (Role.RESIDENT, "privacy:my_data", "download-my-data"),
    (Role.SECRETARY, "volunteers:hours_export", "export-confirm"),
]


@pytest.mark.parametrize(("role", "name", "button"), EXPORTS)
def test_a_get_of_an_export_shows_the_button_and_exports_nothing(world, role, name, button):
    """A link from another site (a GET) downloads nothing: the page POSTs with the token."""
    response = client_for(world.users[role], language="zh-hans").get(
        reverse(name), {"start": "2026-03-01"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert f'data-testid="{button}"' in content
    assert 'name="csrfmiddlewaretoken"' in content
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.parametrize(("role", "name", "button"), EXPORTS)
def test_an_export_posted_without_the_csrf_token_is_refused(world, role, name, button):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[role])
    assert client.post(reverse(name)).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_confirmation_page_carries_the_filters_into_the_post(world):
    client = client_for(world.users[Role.STREET_ADMIN], language="zh-hans")
    content = client.get(
        reverse("grids:residents_export"), {"grid": world.other_community.id, "q": "赵"}
    ).content.decode()
    assert '<input type="hidden" name="q" value="赵">' in content
    assert f'<input type="hidden" name="grid" value="{world.other_community.id}">' in content
