"""The events of the 民情 case loop, in the one table of who hears what (linli.notify.events),
and how a followed case or area reads in a person's list of follows.

Imported by CasesConfig.ready. The sends are in linli.cases.services.notices (the reporter,
the place's leaders, followers), transitions (`case_assigned`) and escalation
(`case_escalated`).
"""

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linli.cases.models import Case
from linli.cases.services import notices
from linli.grids.models import GridUnit
from linli.notify.events import register_event, register_follow_kind
from linli.notify.models import Channel

# Beyond the inbox, the channels a person reads on a phone; each person's preferences and
# addresses choose among them.
PERSONAL = (Channel.SMS, Channel.WECHAT, Channel.EMAIL)

register_event(
    notices.CASE_STATE_CHANGED,
    label=_("Your case moved on: accepted, not accepted, being handled, handled, closed, merged"),
    recipients=_(
        "The reporter: their login, or without one the phone (else e-mail) they gave the "
        "Open311 client that filed for them (one message, no inbox)"
    ),
    channels=PERSONAL,
    app="cases",
)
register_event(
    notices.CASE_RATE_PROMPT,
    label=_("Your case is closed: please rate how it was handled"),
    recipients=_("The reporter with a login, at closure, unless they have rated it already"),
    channels=PERSONAL,
    app="cases",
)
register_event(
    notices.CASE_FILED_IN_AREA,
    label=_("A case was filed in your area"),
    recipients=_("The building-group leaders and micro-grid leads of the case's place"),
    channels=PERSONAL,
    app="cases",
)
register_event(
    notices.FOLLOWED_CASE_CHANGED,
    label=_("A case you follow changed state"),
    recipients=_("Who follows the case (the reporter hears as the reporter)"),
    channels=PERSONAL,
    app="cases",
)
register_event(
    notices.AREA_NEW_CASE,
    label=_("A new case in an area you follow (public categories only)"),
    recipients=_("Who follows the building group or micro-grid, or an area above it"),
    # An area may have many cases: a stream read at leisure, not a text message each.
    channels=(Channel.WECHAT, Channel.EMAIL),
    app="cases",
)
# Sent before issue 15, to the inbox only (explicit channels at the call).
register_event(
    "case_assigned",
    label=_("A case was assigned to you"),
    recipients=_("The person a case is dispatched or reassigned to"),
    app="cases",
)
register_event(
    "case_escalated",
    label=_("A case was escalated to your unit"),
    recipients=_(
        "The street administrators, secretaries, micro-grid leads and building-group leaders "
        "holding a post on the unit the case went up to"
    ),
    app="cases",
)


def _describe_case(identifier: str) -> tuple[str, str] | None:
    case = (
        Case.objects.filter(pk=int(identifier)).select_related("category").first()
        if identifier.isdigit()
        else None
    )
    if case is None:
        return None
    # The reference and category only: the list of follows shows no typed text.
    return f"{case.reference} · {case.category.name}", reverse("cases:detail", args=[case.pk])


def _describe_area(path: str) -> tuple[str, str] | None:
    unit = GridUnit.objects.filter(path=path).first()
    if unit is None:
        return None
    return (
        gettext("New cases in %(area)s") % {"area": unit.name},
        reverse("grids:grid_detail", args=[unit.pk]),
    )


register_follow_kind("case", _describe_case)
register_follow_kind("area", _describe_area)
