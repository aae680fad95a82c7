"""The building's QR poster: A4, one page a building, the code holding the building's
registration address (checked square by square against segno), and who may print it."""

import base64
import contextlib
import re
import zlib

import pytest
import segno

from linli.accounts.roles import Role
from linli.grids.services import building_create
from linli.registration.posters import QR_ERROR, posters_pdf
from linli.registration.selectors import join_url
from linli.registration.tokens import building_for_token
from linli.testing.clients import client_for

A4_MEDIA_BOX = "[ 0 0 595.2756 841.8898 ]"


def page_streams(pdf: bytes) -> list[str]:
    """The decoded content of every page, in order: ReportLab writes each page's drawing as
    one stream, ASCII85 over Flate (the fonts' streams draw nothing)."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data[:-2].replace(b"\n", b""))
        with contextlib.suppress(zlib.error):
            data = zlib.decompress(data)
        text = data.decode("latin-1")
        if " re" in text or " Tj" in text:
            streams.append(text)
    return streams


def qr_matrix(stream: str) -> list[list[int]]:
    """Rebuild the code from the filled rectangles a page draws (nothing else on the page
    is a rectangle): one run of dark modules each."""
    rects = [
        tuple(float(number) for number in match)
        for match in re.findall(r"([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) re", stream)
    ]
    module = min(height for _x, _y, _w, height in rects)
    left = min(x for x, _y, _w, _h in rects)
    top = max(y + height for _x, y, _w, height in rects)
    size = round((max(x + width for x, _y, width, _h in rects) - left) / module)
    matrix = [[0] * size for _ in range(size)]
    for x, y, width, height in rects:
        row = round((top - (y + height)) / module)
        first = round((x - left) / module)
        for column in range(first, first + round(width / module)):
            matrix[row][column] = 1
    return matrix


def test_a_building_poster_is_one_a4_page_whose_code_holds_its_address(world):
    pdf = posters_pdf([world.building])
    assert pdf.startswith(b"%PDF")
    assert (
        pdf.decode("latin-1").count("/Type /Page\n") + pdf.decode("latin-1").count("/Type /Page ")
        >= 1
    )
    assert re.findall(rb"/MediaBox \[[^\]]*\]", pdf) == [f"/MediaBox {A4_MEDIA_BOX}".encode()]

    url = join_url(world.building)
    assert url.startswith("https://linli.example.cn/join/b/")
    token = url.removeprefix("https://linli.example.cn/join/b/").rstrip("/")
    assert building_for_token(token) == world.building

    [stream] = page_streams(pdf)
    # The address, printed under the code for those who would rather type it.
    assert f"({url})" in stream
    expected = segno.make(url, error=QR_ERROR, micro=False, boost_error=False)
    assert qr_matrix(stream) == [[cell & 1 for cell in row] for row in expected.matrix]


def test_the_poster_speaks_chinese_with_the_community_and_building_named(world):
    [stream] = page_streams(posters_pdf([world.building]))
    # The CID font writes each character as its UCS-2 code.
    for words in ("扫码注册", "A社区\u30001号楼"):
        assert words.encode("utf-16-be").decode("latin-1") in _text_bytes(stream)


def _text_bytes(stream: str) -> str:
    """The bytes of every string shown (Tj), escapes undone, joined."""
    shown = re.findall(r"\(((?:\\.|[^\\)])*)\) Tj", stream, re.DOTALL)
    out = []
    for text in shown:
        text = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m.group(1), 8)), text)
        text = re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)
        out.append(text)
    return "".join(out)


def test_the_bulk_pdf_has_one_page_a_building(world):
    second = building_create(grid_unit=world.building_group, name="1号楼B座")
    pdf = posters_pdf([world.building, second])
    streams = page_streams(pdf)
    assert len(streams) == 2
    assert f"({join_url(second)})" in streams[1]
    assert len(re.findall(rb"/MediaBox", pdf)) == 2


def test_the_building_page_links_its_poster_for_staff_only(world):
    url = f"/registry/buildings/{world.building.pk}/"
    leader = client_for(world.users[Role.BUILDING_GROUP_LEADER]).get(url).content.decode()
    assert f'href="/join/poster/building/{world.building.pk}/"' in leader
    resident = client_for(world.users[Role.RESIDENT]).get(url)
    assert resident.status_code == 200
    assert "registration-poster" not in resident.content.decode()


# Who may print ---------------------------------------------------------------------------

# 1号楼 lies in building group A1-1 (micro-grid A1, community A); 9号楼 in community C.
PRINTS_1 = {Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD, Role.BUILDING_GROUP_LEADER}
PRINTS_9 = {Role.STREET_ADMIN}
ROLES = ["anonymous", *Role.values]


def _status(role: str, allowed: set[str]) -> int:
    if role == "anonymous":
        return 302
    return 200 if role in allowed else 404


@pytest.mark.parametrize("role", ROLES)
def test_poster_routes_by_role(world, role):
    far_building = world.other_community_household.building
    client = client_for(world.users[role])
    routes = {
        f"/join/poster/building/{world.building.pk}/": PRINTS_1,
        f"/join/poster/building/{far_building.pk}/": PRINTS_9,
        f"/join/poster/unit/{world.building_group.pk}/": PRINTS_1,
        f"/join/poster/unit/{world.community.pk}/": {Role.STREET_ADMIN, Role.SECRETARY},
        f"/join/poster/unit/{world.other_community.pk}/": PRINTS_9,
    }
    got = {route: client.get(route).status_code for route in routes}
    assert got == {route: _status(role, allowed) for route, allowed in routes.items()}


def test_a_printed_poster_is_served_as_a_pdf(world):
    answer = client_for(world.users[Role.BUILDING_GROUP_LEADER]).get(
        f"/join/poster/unit/{world.building_group.pk}/"
    )
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == 'inline; filename="linli-posters-A1-1.pdf"'
    assert len(page_streams(answer.content)) == 1


def test_a_poster_token_never_expires_but_a_new_secret_retires_it(world, settings):
    from datetime import timedelta

    import time_machine

    from linli.registration.tests.conftest import NOW
    from linli.registration.tokens import building_token

    token = building_token(world.building)
    assert token == f"{world.building.pk}:{token.split(':', 1)[1]}"
    with time_machine.travel(NOW + timedelta(days=365 * 10), tick=False):
        assert building_token(world.building) == token
        assert building_for_token(token) == world.building
    assert building_for_token(token.replace(":", ":x", 1)) is None
    settings.SECRET_KEY = "another-secret-key-for-a-new-installation-0123456789"
    assert building_for_token(token) is None
