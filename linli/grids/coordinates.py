"""Coordinates from Chinese map services: GCJ-02 (高德, 腾讯, Google in China) and BD-09 (百度)
to and from WGS-84, which is what Linli stores and what GPS and GeoJSON use.

GCJ-02 is WGS-84 shifted by a published, deliberately irregular function of the position
(hundreds of metres in most of China), applied only inside a rough box around mainland China.
The forward direction is that function; the inverse has no closed form, so `gcj02_to_wgs84`
iterates the forward function until the shift it undoes matches to well under a centimetre
(the single-step inverse most libraries use is only good to a metre or two). BD-09 is a
further rotation-and-offset of GCJ-02, with the usual closed-form inverse (about a metre).

Every function takes and returns (latitude, longitude) in degrees, the order Linli's models
and linli.grids.geo use; GeoJSON and most map APIs write longitude first, so callers swap.
"""

import math

# Krasovsky 1940 ellipsoid, as the GCJ-02 function uses it.
_SEMI_MAJOR_AXIS = 6378245.0
_ECCENTRICITY_SQUARED = 0.00669342162296594323
# Baidu's constant: π × 3000 / 180.
_BD_FACTOR = math.pi * 3000.0 / 180.0

# The box inside which the services shift coordinates (the common test: a rectangle around
# mainland China, not its border, which is what every published implementation uses).
_CHINA_LONGITUDE = (72.004, 137.8347)
_CHINA_LATITUDE = (0.8293, 55.8271)

# The inverse stops when the forward image of its estimate is this close to the input
# (1e-9° is about 0.1 mm), or after this many steps (it converges in 3–5).
_INVERSE_TOLERANCE_DEGREES = 1e-9
_INVERSE_MAX_STEPS = 30


def out_of_china(latitude: float, longitude: float) -> bool:
    """Whether the point lies outside the box in which Chinese services shift coordinates:
    such a point is passed through unchanged by every conversion here."""
    return not (
        _CHINA_LONGITUDE[0] <= longitude <= _CHINA_LONGITUDE[1]
        and _CHINA_LATITUDE[0] <= latitude <= _CHINA_LATITUDE[1]
    )


def _shift_latitude(x: float, y: float) -> float:
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    value += (
        (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    return value


def _shift_longitude(x: float, y: float) -> float:
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    value += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    return value


def _gcj02_shift(latitude: float, longitude: float) -> tuple[float, float]:
    """The (latitude, longitude) offset in degrees GCJ-02 adds to a WGS-84 point."""
    d_latitude = _shift_latitude(longitude - 105.0, latitude - 35.0)
    d_longitude = _shift_longitude(longitude - 105.0, latitude - 35.0)
    radians = latitude / 180.0 * math.pi
    magic = 1 - _ECCENTRICITY_SQUARED * math.sin(radians) ** 2
    sqrt_magic = math.sqrt(magic)
    d_latitude = (d_latitude * 180.0) / (
        (_SEMI_MAJOR_AXIS * (1 - _ECCENTRICITY_SQUARED)) / (magic * sqrt_magic) * math.pi
    )
    d_longitude = (d_longitude * 180.0) / (
        _SEMI_MAJOR_AXIS / sqrt_magic * math.cos(radians) * math.pi
    )
    return d_latitude, d_longitude


def wgs84_to_gcj02(latitude, longitude) -> tuple[float, float]:
    """A GPS (WGS-84) point as 高德 or 腾讯 maps draw it."""
    latitude, longitude = float(latitude), float(longitude)
    if out_of_china(latitude, longitude):
        return latitude, longitude
    d_latitude, d_longitude = _gcj02_shift(latitude, longitude)
    return latitude + d_latitude, longitude + d_longitude


def gcj02_to_wgs84(latitude, longitude) -> tuple[float, float]:
    """A point read off 高德 or 腾讯 maps, as WGS-84 (to well under a centimetre).

    Fixed-point iteration: guess, shift the guess forward, move the guess by how far its
    image missed the input. The shift varies slowly (its derivative is tiny next to 1), so
    each step gains several digits."""
    latitude, longitude = float(latitude), float(longitude)
    if out_of_china(latitude, longitude):
        return latitude, longitude
    guess_latitude, guess_longitude = latitude, longitude
    for _step in range(_INVERSE_MAX_STEPS):
        image_latitude, image_longitude = wgs84_to_gcj02(guess_latitude, guess_longitude)
        miss_latitude = image_latitude - latitude
        miss_longitude = image_longitude - longitude
        if (
            abs(miss_latitude) < _INVERSE_TOLERANCE_DEGREES
            and abs(miss_longitude) < _INVERSE_TOLERANCE_DEGREES
        ):
            break
        guess_latitude -= miss_latitude
        guess_longitude -= miss_longitude
    return guess_latitude, guess_longitude


def gcj02_to_bd09(latitude, longitude) -> tuple[float, float]:
    """A GCJ-02 point as 百度 maps draw it."""
    latitude, longitude = float(latitude), float(longitude)
    z = math.sqrt(longitude**2 + latitude**2) + 0.00002 * math.sin(latitude * _BD_FACTOR)
    theta = math.atan2(latitude, longitude) + 0.000003 * math.cos(longitude * _BD_FACTOR)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(latitude, longitude) -> tuple[float, float]:
    """A point read off 百度 maps, as GCJ-02 (the usual closed-form inverse)."""
    latitude, longitude = float(latitude), float(longitude)
    x, y = longitude - 0.0065, latitude - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _BD_FACTOR)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_FACTOR)
    return z * math.sin(theta), z * math.cos(theta)


def wgs84_to_bd09(latitude, longitude) -> tuple[float, float]:
    latitude, longitude = float(latitude), float(longitude)
    if out_of_china(latitude, longitude):
        return latitude, longitude
    return gcj02_to_bd09(*wgs84_to_gcj02(latitude, longitude))


def bd09_to_wgs84(latitude, longitude) -> tuple[float, float]:
    latitude, longitude = float(latitude), float(longitude)
    if out_of_china(latitude, longitude):
        return latitude, longitude
    return gcj02_to_wgs84(*bd09_to_gcj02(latitude, longitude))
