"""The audit page: entries in words, filters (with bad dates refused as form errors), and
the street administrator's download, which is itself audited."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.grids.services import resident_reveal, resident_update

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def some_history(world):
    with time_machine.travel(datetime(2026, 5, 4, 9, 30, tzinfo=SHANGHAI), tick=False):
        resident_reveal(
            user=world.users[Role.MICRO_GRID_LEAD],
            resident=world.resident,
            field="phone",
            purpose="visit_contact",
            reason="约定上门时间",
            ip_address="10.0.0.7",
        )
    with time_machine.travel(datetime(2026, 5, 6, 14, 0, tzinfo=SHANGHAI), tick=False):
        resident_update(
            user=world.users[Role.SECRETARY], resident=world.neighbour, phone="13700001234"
        )
        resident_reveal(
            user=world.users[Role.STREET_ADMIN],
            resident=world.other_community_resident,
            field="id_number",
            purpose="verify_identity",
            reason='=HYPERLINK("http://x")',
        )


def text(response) -> str:
    return response.content.decode()


def test_the_secretary_reads_sentences_not_python_structures(world, client):
    some_history(world)
    client.force_login(world.users[Role.SECRETARY])
    content = text(client.get(reverse("grids:audit"), **CHINESE))
    assert "micro_grid_lead 查看了居民“张桂英”的完整电话" in content
    assert "上门走访联系：约定上门时间" in content
    assert "secretary 修改了居民“李建国”" in content
    assert "电话：139****5678 → 137****1234" in content
    # C社区 is not the secretary's.
    assert "赵强" not in content
    assert "[&#x27;" not in content and "{&#x27;" not in content
    # The secretary may not download it.
    assert 'data-testid="export-audit"' not in content


def test_filters_by_who_what_and_dates(world, client):
    some_history(world)
    lead = world.users[Role.MICRO_GRID_LEAD]
    client.force_login(world.users[Role.STREET_ADMIN])
    url = reverse("grids:audit")
    by_lead = text(client.get(url, {"actor": lead.pk}, **CHINESE))
    assert by_lead.count("<tr>") == 1 + 1
    updates = text(client.get(url, {"action": "update"}, **CHINESE))
    assert updates.count("<tr>") == 1 + 1 and "修改了居民“李建国”" in updates
    may_4 = text(client.get(url, {"date_from": "2026-05-04", "date_to": "2026-05-05"}, **CHINESE))
    assert may_4.count("<tr>") == 1 + 1 and "张桂英" in may_4
    words = text(client.get(url, {"text": "HYPERLINK"}, **CHINESE))
    assert words.count("<tr>") == 1 + 1 and "赵强" in words
    # Rows written with nobody acting (the fixtures' residents) are the system's.
    system = text(client.get(url, {"actor": "system"}, **CHINESE))
    assert "系统 新建了居民“张桂英”" in system
    assert "micro_grid_lead" not in system.split("<tbody>", 1)[1]
    # The alert's link (one person, one action, one day) still works.
    alert = text(client.get(url, {"actor": lead.pk, "action": "reveal", "date": "2026-05-04"}))
    assert alert.count("<tr>") == 1 + 1
    # The "who" select offers the people seen in the log.
    assert f'<option value="{lead.pk}" selected>micro_grid_lead</option>' in by_lead


def test_bad_dates_are_form_errors_not_server_errors(world, client):
    client.force_login(world.users[Role.SECRETARY])
    url = reverse("grids:audit")
    for query in (
        {"date_from": "0810-01-01"},
        {"date_to": "9999-12-31"},
        {"date_from": "2026-13-45"},
        {"date": "0001-01-01"},
        {"date_from": "2026-05-06", "date_to": "2026-05-01"},
    ):
        response = client.get(url, query, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, query
        assert 'class="error"' in text(response), query


def test_the_street_administrator_downloads_the_filtered_entries_in_words(world, client):
    some_history(world)
    admin = world.users[Role.STREET_ADMIN]
    # A name that a spreadsheet would run as a formula stays text in the download.
    admin.display_name = "=2+3"
    admin.save(update_fields=["display_name"])
    client.force_login(admin)
    page = text(client.get(reverse("grids:audit"), {"action": "reveal"}, **CHINESE))
    assert 'data-testid="export-audit"' in page
    assert '<input type="hidden" name="action" value="reveal">' in page
    with time_machine.travel(datetime(2026, 5, 7, 8, 0, tzinfo=SHANGHAI), tick=False):
        response = client.post(reverse("grids:audit_export"), {"action": "reveal"}, **CHINESE)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="audit-log-20260507-0800.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows == [
        ["时间（北京时间）", "操作人", "操作内容", "详情", "理由", "IP 地址", "网格"],
        [
            "2026-05-06 14:00:00",
            "'=2+3",
            "'=2+3 查看了居民“赵强”的完整身份证号",
            None,
            '核实身份办理业务：=HYPERLINK("http://x")',
            None,
            "9号楼组",
        ],
        [
            "2026-05-04 09:30:00",
            "micro_grid_lead",
            "micro_grid_lead 查看了居民“张桂英”的完整电话",
            None,
            "上门走访联系：约定上门时间",
            "10.0.0.7",
            "1号楼组",
        ],
    ]
    export = AuditEntry.objects.get(object_type="audit_log")
    assert (export.actor, export.action, export.changes) == (
        admin,
        AuditAction.EXPORT,
        {"count": 2, "filter": {"action": "reveal"}},
    )


def test_a_secretary_cannot_download_and_nothing_is_written(world, client):
    some_history(world)
    before = AuditEntry.objects.count()
    for role in (Role.SECRETARY, Role.MICRO_GRID_LEAD, Role.VOLUNTEER):
        client.force_login(world.users[role])
        response = client.post(reverse("grids:audit_export"), {})
        assert response.status_code == 404, role
    assert AuditEntry.objects.count() == before


def test_the_download_is_a_post_with_csrf(world, client):
    client.force_login(world.users[Role.STREET_ADMIN])
    assert client.get(reverse("grids:audit_export")).status_code == 405
    from django.test import Client

    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(world.users[Role.STREET_ADMIN])
    assert guarded.post(reverse("grids:audit_export"), {}).status_code == 403
    assert not AuditEntry.objects.filter(object_type="audit_log").exists()


def test_a_bad_date_in_the_download_answers_400_and_writes_nothing(world, client):
    client.force_login(world.users[Role.STREET_ADMIN])
    response = client.post(reverse("grids:audit_export"), {"date_from": "0810-01-01"})
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(object_type="audit_log").exists()
