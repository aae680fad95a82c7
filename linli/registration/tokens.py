"""The token a building's poster holds: its id, signed with the site's secret.

A poster hangs for years, so the token never expires; a new LINLI secret key retires every
poster printed before (and a forged or mangled token names no building). linli.invitations
builds its letters' addresses with `building_token` too.
"""

from django.core import signing

from linli.grids.models import Building

TOKEN_SALT = "linli.registration.building"


def _signer() -> signing.Signer:
    return signing.Signer(salt=TOKEN_SALT)


def building_token(building: Building) -> str:
    """ "<id>:<signature>": the same for every print of a building's poster (no time in it),
    short enough to keep the code coarse and easy to scan."""
    return _signer().sign(str(building.pk))


def building_for_token(token: str) -> Building | None:
    """The building a poster's token names; None for a forged, mangled or stale token, or a
    building that no longer exists."""
    try:
        value = _signer().unsign(token)
    except signing.BadSignature:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    return Building.objects.select_related("grid_unit").filter(pk=int(value)).first()
