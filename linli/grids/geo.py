"""Small geometry for a community's scale: distances of tens of metres and grid boundaries
stored as GeoJSON polygons. A spatial database would be overkill for a few hundred units."""

import math

EARTH_RADIUS_METRES = 6_371_000


def distance_metres(lat1, lon1, lat2, lon2) -> float:
    """Haversine distance; accurate to well under a metre at the distances used here."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi = phi2 - phi1
    dlambda = math.radians(float(lon2) - float(lon1))
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(a))


def _in_ring(x: float, y: float, ring: list) -> bool:
    # Ray casting: count the ring's edges that a ray from the point to the east crosses.
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _in_polygon(x: float, y: float, rings: list) -> bool:
    if not rings or not _in_ring(x, y, [tuple(point[:2]) for point in rings[0]]):
        return False
    # Later rings are holes.
    return not any(_in_ring(x, y, [tuple(point[:2]) for point in hole]) for hole in rings[1:])


def point_in_geojson(latitude, longitude, geometry: dict | None) -> bool:
    """Whether the point lies in a GeoJSON Polygon or MultiPolygon (or a Feature of one).
    GeoJSON puts longitude first."""
    if not geometry:
        return False
    if geometry.get("type") == "Feature":
        geometry = geometry.get("geometry") or {}
    x, y = float(longitude), float(latitude)
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return _in_polygon(x, y, coordinates)
    if kind == "MultiPolygon":
        return any(_in_polygon(x, y, polygon) for polygon in coordinates)
    return False
