from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from linli.accounts.roles import Permission
from linli.grids import selectors, tree
from linli.grids.models import GridLevel
from linli.inbound.selectors import inbound_waiting
from linli.privacy.corrections import open_corrections_count
from linli.public.selectors import switch_statuses
from linli.registration.selectors import pending_count as registration_requests_waiting
from linli.signin.selectors import sms_gateway_configured, trial_page_visible

# At most this many communities' public-page switches on the home page; the rest are a link.
PUBLIC_PAGES_SHOWN = 5


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def _overview(user, unit) -> dict:
    """One unit the user holds a post on: its totals, the table one level down, its posts."""
    table_level = tree.table_level_below(unit.level)
    if unit.level == GridLevel.COMMUNITY:
        rows = selectors.micro_grids_with_counts(user=user, community=unit)
    elif table_level is not None:
        units = list(
            selectors.grid_units_visible(user=user)
            .within([unit.path])
            .filter(level=table_level)
            .order_by("path")
        )
        rows = tree.units_with_counts(user=user, units=units)
    else:
        rows = []
    buildings = tree.buildings_of_group(user=user, grid_unit=unit)
    # Posts on the unit itself (and a street's blocks) are listed; posts one table level down
    # are shown in that row of the table.
    own_levels = [unit.level] + ([GridLevel.BLOCK] if unit.level == GridLevel.STREET else [])
    posts = list(
        selectors.posts_in(user=user, grid_unit=unit).filter(
            grid_unit__level__in=[*own_levels, *([table_level] if table_level else [])]
        )
    )
    for row in rows:
        row["posts"] = [post for post in posts if post.grid_unit_id == row["unit"].id]
    return {
        "unit": unit,
        "counts": selectors.registry_counts(user=user, path=unit.path),
        "table_level": GridLevel(table_level).label if table_level else "",
        "rows": rows,
        "buildings": buildings,
        "posts": [post for post in posts if post.grid_unit.level in own_levels],
    }


@login_required
def home(request):
    user = request.user
    scope = selectors.scope_for(user)
    context: dict = {"overviews": [], "own_households": []}
    if selectors.user_can(user=user, permission=Permission.VIEW_REGISTRY):
        roots = sorted(selectors.grid_roots_for(user=user), key=lambda unit: unit.path)
        context["overviews"] = [_overview(user, unit) for unit in roots]
    if selectors.user_can(user=user, permission=Permission.RECORD_VISIT):
        visits = selectors.visits_visible(user=user)
        context["record_visit"] = True
        context["follow_up_count"] = visits.needing_follow_up().count()
        context["my_recent_visits"] = visits.filter(visitor=user)[:5]
    # Residents' correction requests wait for the staff who may change the register there.
    context["open_corrections"] = open_corrections_count(user=user)
    # Who waits to get in, and what residents sent by SMS or WeChat, for those who decide.
    context["registration_requests"] = registration_requests_waiting(user=user)
    if selectors.user_can(user=user, permission=Permission.CASE_FILE):
        context["inbound_waiting"] = inbound_waiting(user=user).count()
    context["invite"] = selectors.user_can(
        user=user, permission=Permission.EDIT_REGISTRY
    ) or selectors.user_can(user=user, permission=Permission.MANAGE_ROLES)
    # Without an SMS gateway, sign-in codes wait on a page only the street administrator reads.
    context["trial_sms"] = trial_page_visible(user) and not sms_gateway_configured()
    # The communities whose public pages the user turns on or off, and whether they are on.
    context["public_pages"] = switch_statuses(user=user, limit=PUBLIC_PAGES_SHOWN + 1)
    context["public_pages_shown"] = PUBLIC_PAGES_SHOWN
    for household_id in scope.own_household_ids:
        household = selectors.household_get(user=user, household_id=household_id)
        context["own_households"].append(
            {
                "household": household,
                "members": selectors.residents_visible(user=user).filter(household=household),
            }
        )
    context["nothing_in_registry"] = not (context["overviews"] or context["own_households"])
    return render(request, "web/home.html", context)
