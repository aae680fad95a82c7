"""The liaison invitation links of a partner unit's page (partners/partner_detail.html): the
form that creates one and the list of open and used links, for staff who may manage the
unit only. The views (partners.views.liaison_join) check the right again."""

from django import template

from linli.accounts.roles import Permission
from linli.grids.selectors import user_can
from linli.partners.models import Partner
from linli.partners.services.liaison_invitations import (
    DAYS_DEFAULT,
    DAYS_MAX,
    DAYS_MIN,
    liaison_invitations_listed,
)

register = template.Library()


@register.inclusion_tag("partners/_liaison_invitations.html", takes_context=True)
def liaison_invitations_card(context, partner: Partner) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = (
        user is not None
        and user.is_authenticated
        and user_can(user=user, permission=Permission.PARTNERS_MANAGE, grid_path=partner.grid_path)
    )
    return {
        "shown": shown,
        "partner": partner,
        "invitations": list(liaison_invitations_listed(partner=partner)) if shown else [],
        "days_default": DAYS_DEFAULT,
        "days_min": DAYS_MIN,
        "days_max": DAYS_MAX,
        "csrf_token": context.get("csrf_token"),
    }
