"""`{% load open311 %}{% open311_submitter case %}` on the case page: who filed the case
through Open311, masked, for staff who may see it. A template tag, so that the cases app
shows it without importing open311 (imports flow from open311 to cases, not back)."""

from django import template
from django.http import Http404

from linli.open311.selectors import submission_for_case

register = template.Library()


@register.inclusion_tag("open311/_submitter_card.html", takes_context=True)
def open311_submitter(context, case):
    request = context.get("request")
    submission = None
    if request is not None and case.source == "open311":
        try:
            submission = submission_for_case(user=request.user, case_id=case.pk)
        except Http404:
            submission = None
    return {"submission": submission}
