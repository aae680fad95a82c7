"""Template helpers for a case's photos and map (used by _case_photos.html, _case_map.html).

They read only through the case the page already holds: whoever renders the case's detail
may see its photos (the photo URLs check scope again when the image is fetched)."""

from django import template
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from linli.cases.models import Case
from linli.cases.services import ACTION_LABELS

register = template.Library()

STEP_LABELS = {**ACTION_LABELS, "create": _("Reported")}


@register.simple_tag
def case_photo_groups(case: Case) -> list[dict]:
    """The case's photos grouped by the timeline step they belong to, in timeline order.
    One query."""
    groups: list[dict] = []
    photos = case.photos.select_related("event").order_by(
        "event__created_at", "event_id", "created_at", "id"
    )
    for photo in photos:
        if not groups or groups[-1]["event_id"] != photo.event_id:
            event = photo.event
            groups.append(
                {
                    "event_id": photo.event_id,
                    "label": STEP_LABELS.get(event.action, event.action) if event else _("Photos"),
                    "when": event.created_at if event else photo.created_at,
                    "photos": [],
                }
            )
        groups[-1]["photos"].append(photo)
    return groups


@register.simple_tag
def case_map_data(case: Case) -> dict | None:
    """The case's point and the boundary of the unit that owns it, or None without a point."""
    if case.latitude is None or case.longitude is None:
        return None
    boundary = case.grid_unit.boundary if case.grid_unit_id else None
    return {
        "lat": float(case.latitude),
        "lng": float(case.longitude),
        "tiles": settings.LINLI_MAP_TILE_URL,
        "attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
        "units": [
            {"name": case.grid_unit.name, "level": case.grid_unit.level, "boundary": boundary}
        ]
        if boundary
        else [],
    }
