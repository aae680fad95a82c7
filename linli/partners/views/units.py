"""Partner units (共建单位): the registry, one unit's page (agreements, liaisons, history), and
the community resources page with its redundancy check."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.grids import selectors as grid_selectors
from linli.grids.models import GridLevel, GridUnit
from linli.partners import selectors, services
from linli.partners.models import PartnerType
from linli.partners.views.lists import _date, error_map


@login_required
def partner_list(request):
    user = request.user
    if not grid_selectors.user_can(user=user, permission=Permission.PARTNERS_VIEW):
        own = services.partner_of(user)
        if own is None:
            raise Http404
        return redirect("partners:partner_detail", own.pk)
    communities = [
        c
        for c in GridUnit.objects.filter(level=GridLevel.COMMUNITY).order_by("path")
        if grid_selectors.user_can(
            user=user, permission=Permission.PARTNERS_MANAGE, grid_path=c.path
        )
    ]
    errors: dict[str, str] = {}
    if request.method == "POST":
        community = next(
            (c for c in communities if str(c.pk) == request.POST.get("community")), None
        )
        if community is None:
            raise Http404
        try:
            partner = services.partner_create(
                actor=user,
                community=community,
                name=request.POST.get("name", ""),
                partner_type=request.POST.get("partner_type", ""),
                contact_name=request.POST.get("contact_name", ""),
                contact_phone=request.POST.get("contact_phone", ""),
                offers=request.POST.get("offers", ""),
            )
        except ValidationError as error:
            errors = error_map(error)
        else:
            messages.success(request, _("Partner unit registered."))
            return redirect("partners:partner_detail", partner.pk)
    today = clock.localdate()
    partners = [
        {"partner": p, "valid": p.valid_agreement(today)}
        for p in selectors.partners_visible(user=user).prefetch_related("agreements")
    ]
    return render(
        request,
        "partners/partner_list.html",
        {
            "partners": partners,
            "communities": communities,
            "types": PartnerType.choices,
            "errors": errors,
            "values": request.POST if request.method == "POST" else {},
        },
    )


@login_required
def partner_detail(request, partner_id: int):
    user = request.user
    partner = selectors.partner_get(user=user, partner_id=partner_id)
    can_manage = grid_selectors.user_can(
        user=user, permission=Permission.PARTNERS_MANAGE, grid_path=partner.grid_path
    )
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not can_manage:
            raise Http404
        try:
            if request.POST.get("form") == "liaison":
                liaison = User.objects.filter(
                    username=request.POST.get("username", "").strip()
                ).first()
                if liaison is None:
                    raise ValidationError({"user": _("No login of that name.")})
                services.liaison_link(actor=user, partner=partner, user=liaison)
            else:
                services.agreement_add(
                    actor=user,
                    partner=partner,
                    title=request.POST.get("title", ""),
                    starts_on=_date(request.POST.get("starts_on")),
                    ends_on=_date(request.POST.get("ends_on")),
                    notes=request.POST.get("notes", ""),
                )
        except ValidationError as error:
            errors = error_map(error)
        else:
            messages.success(request, _("Saved."))
            return redirect("partners:partner_detail", partner.pk)
    today = clock.localdate()
    return render(
        request,
        "partners/partner_detail.html",
        {
            "partner": partner,
            "agreements": [
                {"a": a, "valid": a.is_valid_on(today)} for a in partner.agreements.all()
            ],
            "liaisons": list(partner.liaisons.select_related("user")),
            "resources": list(partner.resources.all()),
            "history": selectors.partner_history(partner=partner),
            "can_manage": can_manage,
            "errors": errors,
        },
    )


@login_required
def community_resources(request, community_id: int):
    community = next(
        (c for c in selectors.communities_for(user=request.user) if c.pk == community_id), None
    )
    if community is None:
        raise Http404
    rows = selectors.redundancy(community=community)
    return render(
        request,
        "partners/community_resources.html",
        {
            "community": community,
            "rows": rows,
            "single": sum(1 for row in rows if row["flag"] == "single"),
            "missing": sum(1 for row in rows if row["flag"] == "none"),
        },
    )
