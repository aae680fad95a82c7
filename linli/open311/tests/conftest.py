import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.grids.models import GridUnit
from linli.open311.models import Open311Key
from linli.open311.services import open311_key_create

BASE = "/open311/v2/"


def square(lat: float, lng: float, size: float = 0.001) -> dict:
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Issued:
    key: Open311Key
    secret: str


@pytest.fixture
def issued(world) -> Issued:
    key, secret = open311_key_create(
        actor=world.users[Role.SECRETARY], community=world.community, name="FixMyStreet"
    )
    return Issued(key=key, secret=secret)


@pytest.fixture
def drawn(world):
    """The building group A1-1 owns a 100 m square around (31.0, 121.0)."""
    GridUnit.objects.filter(pk=world.building_group.pk).update(boundary=square(31.0, 121.0))


@pytest.fixture
def api() -> Client:
    # An external client: English, no session, CSRF enforced as for any browser.
    return Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)


def parse_xml(response) -> ET.Element:
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(response.content)


def parse_json(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def xml_rows(root: ET.Element) -> list[dict]:
    """Each child of the root as {tag: text}, empty elements as None."""
    return [{field.tag: field.text for field in item} for item in root]
