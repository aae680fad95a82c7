"""The letters: one A4 page a household, its QR code holding exactly the household's
address for the invitation, the date it stops working, the name only when asked."""

import re

import pytest
from django.test import override_settings

from linli.accounts.roles import Role
from linli.invitations.letters import QR_BORDER, qr_for
from linli.invitations.models import Invitation, token_hash
from linli.invitations.tests.conftest import cid_text, invite, pdf_page_count, pdf_streams

pytestmark = pytest.mark.django_db

RECT = re.compile(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re\b")


def page_streams(content: bytes) -> list[bytes]:
    """The content streams of the pages (the ones that draw rectangles or text)."""
    return [stream for stream in pdf_streams(content) if b" re" in stream or b"Tj" in stream]


def matrix_drawn(stream: bytes) -> list[list[int]]:
    """The QR code's modules as drawn: rectangles in module units, row 0 at the top."""
    rects = [tuple(int(float(number)) for number in match) for match in RECT.findall(stream)]
    size = max(y for _x, y, _w, _h in rects) + 1
    grid = [[0] * size for _ in range(size)]
    for x, y, width, height in rects:
        assert height == 1
        for column in range(x, x + width):
            grid[size - 1 - y][column] = 1
    return grid


def test_one_page_per_household_and_each_qr_code_is_its_invitation_address(world, more):
    with override_settings(LINLI_SITE_URL="https://linli.example.cn"):
        result = invite(world.users[Role.SECRETARY], building=world.building, skip_registered=False)

    assert pdf_page_count(result.pdf) == 3 == len(result.issued)
    pages = page_streams(result.pdf)
    assert len(pages) == 3
    for issued, stream in zip(result.issued, pages, strict=True):
        url = f"https://linli.example.cn/invitations/i/{issued.token}/"
        assert issued.url == url
        expected = [list(row) for row in qr_for(url).matrix]
        assert matrix_drawn(stream) == expected
        # Printed under the code for a reader who types it, and linked.
        assert f"({url}) Tj".encode() in stream
        assert f"/URI ({url})".encode() in result.pdf
        # Stored as its hash only.
        assert Invitation.objects.get(pk=issued.invitation.pk).token_hash == token_hash(
            issued.token
        )
        assert not Invitation.objects.filter(token_hash=issued.token).exists()
    assert QR_BORDER == 4


def test_the_letter_names_building_room_and_the_last_day(world, more, pinned):
    result = invite(world.users[Role.SECRETARY], building=world.building, days=30)

    text = b"\n".join(page_streams(result.pdf))
    # In the site's language (Chinese): the building's name is drawn in the CID font.
    assert b"/BaseFont /STSong-Light" in result.pdf
    assert cid_text("1号楼") in text
    # 2026-12-05 + 30 days: valid through 2027-01-04 (Asia/Shanghai).
    assert all(issued.expires_on.isoformat() == "2027-01-04" for issued in result.issued)


def test_names_are_printed_only_when_asked(world, more):
    secretary = world.users[Role.SECRETARY]
    plain = invite(secretary, building=world.building)
    named = invite(secretary, building=world.building, print_names=True)

    assert cid_text("李建国") not in b"\n".join(page_streams(plain.pdf))
    assert cid_text("李建国") in b"\n".join(page_streams(named.pdf))
    assert cid_text("孙秀兰") in b"\n".join(page_streams(named.pdf))


def test_the_secretary_downloads_the_letters_from_the_form(world, more):
    from linli.testing.clients import client_for

    response = client_for(world.users[Role.SECRETARY]).post(
        "/invitations/",
        {
            "selection": "building",
            "building": world.building.pk,
            "days": "14",
            "channel": "letter",
            "skip_registered": "on",
            "action": "create",
        },
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    batch = Invitation.objects.get(household=world.neighbour_household).batch
    assert response["Content-Disposition"] == f'attachment; filename="invitations-{batch.pk}-1.pdf"'
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF") and pdf_page_count(content) == 2
    assert (batch.days, batch.count, batch.channel, batch.print_names) == (14, 2, "letter", False)


def test_reprinting_makes_new_codes_and_the_old_ones_stop_working(world, more):
    from linli.invitations.selectors import invitation_prefill
    from linli.invitations.services import invitation_batch_reissue

    secretary = world.users[Role.SECRETARY]
    first = invite(secretary, building=world.building)
    again = invitation_batch_reissue(actor=secretary, batch=first.batch)

    assert pdf_page_count(again.pdf) == 2
    assert [i.household.room for i in again.issued] == ["102", "103"]
    assert {i.token for i in again.issued}.isdisjoint({i.token for i in first.issued})
    assert all(invitation_prefill(i.token) is None for i in first.issued)
    assert all(invitation_prefill(i.token) is not None for i in again.issued)
    batch = again.batch
    batch.refresh_from_db()
    assert (batch.printings, batch.count) == (2, 2)
    assert batch.invitations.count() == 4
    assert batch.invitations.filter(revoked_at__isnull=False).count() == 2


def test_reprinting_leaves_out_the_household_that_registered(world, more):
    from linli.invitations.services import invitation_batch_reissue, invitation_mark_used

    secretary = world.users[Role.SECRETARY]
    first = invite(secretary, building=world.building)
    used = first.issued[0]
    invitation_mark_used(token=used.token, user=world.users[Role.VOLUNTEER])

    again = invitation_batch_reissue(actor=secretary, batch=first.batch)

    assert [i.household.room for i in again.issued] == ["103"]
    assert Invitation.objects.get(pk=used.invitation.pk).revoked_at is None
