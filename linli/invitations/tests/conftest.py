"""The invitations' tests run on the `world` of linli/conftest.py, in English, with the
clock pinned where dates matter, plus a few more residents:

- 1号楼 103: 孙秀兰, elderly living alone, no registered phone;
- 9号楼 902 (community C, outside the secretary's scope): 周大爷, elderly living alone.

In 1号楼, 101 (张桂英, elderly alone) already has a resident login; 102 (李建国) has none.
"""

import re
import sys
import types
import zlib
from base64 import a85decode
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from linli.conftest import ID_NUMBERS
from linli.grids.models import Building
from linli.grids.services import household_create, resident_create
from linli.invitations.selectors import household_selection, resident_filter_for
from linli.invitations.services import invitations_create
from linli.testing.language import english_throughout  # noqa: F401 - autouse

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Saturday morning in Shanghai.
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def more(world):
    household_103 = household_create(building=world.building, room="103")
    sun = resident_create(
        household=household_103,
        name="孙秀兰",
        sex="female",
        birth_year=1940,
        id_number=ID_NUMBERS[4],
        vulnerability_tags=["elderly_alone"],
    )
    far = Building.objects.get(name="9号楼")
    household_902 = household_create(building=far, room="902")
    zhou = resident_create(
        household=household_902,
        name="周大爷",
        sex="male",
        birth_year=1938,
        phone="13500003333",
        id_number=ID_NUMBERS[5],
        vulnerability_tags=["elderly_alone"],
    )
    return {"103": household_103, "sun": sun, "902": household_902, "zhou": zhou}


@pytest.fixture
def building_tokens(monkeypatch):
    """A stand-in for linli.registration.tokens, whose real tokens the registration app
    makes: these tests hold the invitations' side alone."""
    module = types.ModuleType("linli.registration.tokens")
    module.building_token = lambda building: f"b{building.pk}:signed"
    monkeypatch.setitem(sys.modules, "linli.registration.tokens", module)
    return module


def invite(user, *, kind="building", building=None, grid_unit=None, channel="letter", **options):
    """Select as the form does and create the batch."""
    selection = household_selection(
        user=user,
        kind=kind,
        building_id=building.pk if building is not None else None,
        grid_unit_id=grid_unit.pk if grid_unit is not None else None,
    )
    options.setdefault("days", 30)
    return invitations_create(
        actor=user,
        households=selection,
        resident_filter=resident_filter_for(kind),
        channel=channel,
        **options,
    )


def pdf_streams(content: bytes) -> list[bytes]:
    """Every stream of the PDF, decoded (ReportLab writes them ASCII85 over Flate)."""
    decoded = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", content, re.S):
        stream = stream.strip()
        try:
            if stream.endswith(b"~>"):
                stream = a85decode(stream, adobe=True)
            decoded.append(zlib.decompress(stream))
        except (ValueError, zlib.error):
            decoded.append(stream)
    return decoded


def pdf_page_count(content: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", content))


def cid_text(text: str) -> bytes:
    """How ReportLab writes `text` in a Unicode CID font: UTF-16BE, PDF-escaped."""
    from reportlab.lib.rl_accel import escapePDF

    return escapePDF(text.encode("utf-16-be")).encode("latin-1")
