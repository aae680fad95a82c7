"""The one write of the public pages: a community turning its pages on or off, audited."""

from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.errors import Invalid, NotAllowed, NotVisible
from linli.grids.models import GridLevel, GridUnit
from linli.public.models import PublicPages
from linli.public.selectors import SWITCHES, switches_allowed


@transaction.atomic
def public_pages_set(
    *,
    actor: User,
    community: GridUnit,
    cases_board: bool,
    calendar: bool,
    ip_address: str | None = None,
) -> PublicPages:
    """Set both switches of `community` as given. A switch the actor may not set must stay
    as it is (NotAllowed naming it otherwise); someone who may set neither does not see the
    community here (NotVisible). A change writes one audit entry with each switch that
    moved, [before, after]; no change writes nothing."""
    if not isinstance(community, GridUnit) or community.level != GridLevel.COMMUNITY:
        raise Invalid(_("Public pages belong to a community."), field="community")
    allowed = switches_allowed(user=actor, community=community)
    if not any(allowed.values()):
        raise NotVisible("community")
    # The community's row is locked (the switch row may not exist yet), so that two people
    # switching at once each see the other's change and the first switch is created once.
    GridUnit.objects.select_for_update().filter(pk=community.pk).values_list("pk").first()
    pages = PublicPages.objects.filter(community=community).first()
    before = {
        switch: bool(getattr(pages, switch)) if pages is not None else False for switch in SWITCHES
    }
    after = {"cases_board": bool(cases_board), "calendar": bool(calendar)}
    changes = {
        switch: [before[switch], after[switch]]
        for switch in SWITCHES
        if before[switch] != after[switch]
    }
    refused = [switch for switch in changes if not allowed[switch]]
    if refused:
        messages = {
            "cases_board": _("You may not turn the public case board of this community on or off."),
            "calendar": _(
                "You may not turn the public activity calendar of this community on or off."
            ),
        }
        raise NotAllowed(messages[refused[0]], field=refused[0])
    if not changes:
        return pages if pages is not None else PublicPages(community=community, **after)
    now = clock.now()
    if pages is None:
        pages = PublicPages.objects.create(
            community=community, updated_by=actor, updated_at=now, **after
        )
    else:
        for switch, value in after.items():
            setattr(pages, switch, value)
        pages.updated_by = actor
        pages.updated_at = now
        pages.save(update_fields=[*SWITCHES, "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="public_pages",
        object_id=community.pk,
        object_label=community.name,
        changes=changes,
        grid_path=community.path,
        ip_address=ip_address,
    )
    return pages
