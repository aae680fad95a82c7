"""GCJ-02 / BD-09 ↔ WGS-84 against published reference pairs, and round trips."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.grids.coordinates import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from linli.grids.geo import distance_metres

# (WGS-84 lat, lng, GCJ-02 lat, lng): the test vectors of github.com/googollee/eviltransform
# (its Python port's test.py, TESTS: "shanghai", "shenzhen", "beijing"; the PHP port,
# larryli/eviltransform, tests the same three).
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]

# The example of wandergis/coordtransform (test/app.js), input (lng 116.404, lat 39.915):
# wgs84togcj02 → [116.41024449916938, 39.91640428150164],
# gcj02tobd09 → [116.41036949371029, 39.92133699351021],
# bd09togcj02 → [116.39762729119315, 39.90865673957631].
COORDTRANSFORM_POINT = (39.915, 116.404)

DEGREES = 1e-9  # about 0.1 mm


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_eviltransform_vectors(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    latitude, longitude = wgs84_to_gcj02(wgs_lat, wgs_lng)
    assert latitude == pytest.approx(gcj_lat, abs=DEGREES)
    assert longitude == pytest.approx(gcj_lng, abs=DEGREES)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_PAIRS)
def test_gcj02_to_wgs84_recovers_the_eviltransform_point_within_a_centimetre(
    wgs_lat, wgs_lng, gcj_lat, gcj_lng
):
    latitude, longitude = gcj02_to_wgs84(gcj_lat, gcj_lng)
    assert distance_metres(latitude, longitude, wgs_lat, wgs_lng) < 0.01


def test_coordtransform_example_forward_and_baidu():
    assert wgs84_to_gcj02(*COORDTRANSFORM_POINT) == pytest.approx(
        (39.91640428150164, 116.41024449916938), abs=DEGREES
    )
    assert gcj02_to_bd09(*COORDTRANSFORM_POINT) == pytest.approx(
        (39.92133699351021, 116.41036949371029), abs=DEGREES
    )
    assert bd09_to_gcj02(*COORDTRANSFORM_POINT) == pytest.approx(
        (39.90865673957631, 116.39762729119315), abs=DEGREES
    )


def test_the_shift_in_shanghai_is_hundreds_of_metres():
    # The reason the utility exists: an unconverted 高德 point lands across the road.
    wgs_lat, wgs_lng, gcj_lat, gcj_lng = EVILTRANSFORM_PAIRS[0]
    assert 400 < distance_metres(wgs_lat, wgs_lng, gcj_lat, gcj_lng) < 600


def test_points_outside_china_pass_through_unchanged():
    london = (51.5007, -0.1246)
    tokyo = (35.6586, 139.7454)
    for point in (london, tokyo):
        assert out_of_china(*point)
        assert wgs84_to_gcj02(*point) == point
        assert gcj02_to_wgs84(*point) == point
        assert wgs84_to_bd09(*point) == point
        assert bd09_to_wgs84(*point) == point


def test_decimal_inputs_are_accepted():
    from decimal import Decimal

    assert wgs84_to_gcj02(Decimal("39.915"), Decimal("116.404")) == pytest.approx(
        (39.91640428150164, 116.41024449916938), abs=DEGREES
    )


china_latitudes = st.floats(min_value=18.0, max_value=53.0, allow_nan=False)
china_longitudes = st.floats(min_value=74.0, max_value=135.0, allow_nan=False)


@given(china_latitudes, china_longitudes)
def test_gcj02_round_trip_is_within_half_a_metre(latitude, longitude):
    there = wgs84_to_gcj02(latitude, longitude)
    back = gcj02_to_wgs84(*there)
    assert distance_metres(latitude, longitude, *back) < 0.5
    # And the other way round: a 高德 point, to WGS-84 and back.
    wgs = gcj02_to_wgs84(latitude, longitude)
    assert distance_metres(latitude, longitude, *wgs84_to_gcj02(*wgs)) < 0.5


@given(china_latitudes, china_longitudes)
def test_bd09_round_trip_is_within_a_few_metres(latitude, longitude):
    # Baidu's closed-form inverse is itself approximate (about a metre); the WGS-84 leg
    # adds nothing measurable.
    back = bd09_to_wgs84(*wgs84_to_bd09(latitude, longitude))
    assert distance_metres(latitude, longitude, *back) < 5


@given(
    st.floats(min_value=-89.0, max_value=89.0, allow_nan=False),
    st.floats(min_value=-179.0, max_value=179.0, allow_nan=False),
)
def test_conversion_is_identity_exactly_where_out_of_china(latitude, longitude):
    converted = wgs84_to_gcj02(latitude, longitude)
    if out_of_china(latitude, longitude):
        assert converted == (latitude, longitude)
    else:
        assert converted != (latitude, longitude)


# The building admin: coordinates copied from 高德/腾讯 are converted on save -----------------


def _post_building(client, world, latitude: str, longitude: str, gcj02: bool):
    from django.urls import reverse

    from linli.accounts.roles import Role
    from linli.grids.tests.test_admin import admin_client

    admin_client(client, world.users[Role.SECRETARY])
    data = {
        "name": world.building.name,
        "address": "",
        "floors": "",
        "latitude": latitude,
        "longitude": longitude,
    }
    if gcj02:
        data["coordinates_are_gcj02"] = "on"
    response = client.post(reverse("admin:grids_building_change", args=[world.building.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    world.building.refresh_from_db()
    return world.building


def test_admin_converts_typed_gcj02_coordinates_to_wgs84(world, client):
    wgs_lat, wgs_lng, gcj_lat, gcj_lng = EVILTRANSFORM_PAIRS[0]
    building = _post_building(client, world, f"{gcj_lat:.6f}", f"{gcj_lng:.6f}", gcj02=True)
    # Six decimals are about 0.1 m; the conversion itself is exact to far less.
    assert distance_metres(building.latitude, building.longitude, wgs_lat, wgs_lng) < 0.5


def test_admin_keeps_coordinates_as_typed_without_the_gcj02_box(world, client):
    building = _post_building(client, world, "31.175304", "121.531542", gcj02=False)
    assert (str(building.latitude), str(building.longitude)) == ("31.175304", "121.531542")


def test_admin_does_not_convert_coordinates_twice(world, client):
    # Saved once as WGS-84; saving the form again with the box ticked but the numbers
    # untouched leaves them alone.
    first = _post_building(client, world, "31.175304", "121.531542", gcj02=True)
    stored = (first.latitude, first.longitude)
    again = _post_building(client, world, str(stored[0]), str(stored[1]), gcj02=True)
    assert (again.latitude, again.longitude) == stored
