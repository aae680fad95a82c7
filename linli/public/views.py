"""The public pages (no login) and the community's settings page for them.

Public pages are the same for every reader, so proxies may keep them five minutes
(`Cache-Control: public, max-age=300`). They carry no form that needs a CSRF token and set
no cookie: the language is the reader's (cookie or browser), or the `lang` of a link on the
page. A reader who is signed in sends a session cookie, and then the site's security headers
(linli.ops.security_headers) make the answer no-store like any other signed-in answer.
"""

from calendar import monthrange
from contextlib import nullcontext
from datetime import date, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from linli import clock
from linli.accounts.services import client_address
from linli.api_shared import MAX_YEAR, MIN_YEAR
from linli.errors import Invalid, NotVisible, status_for
from linli.public import selectors, services
from linli.public.links import public_url
from linli.public.selectors import CALENDAR, CASES_BOARD

PUBLIC_MAX_AGE = 300
# The languages a link on a public page may ask for (?lang=).
PUBLIC_LANGUAGES = ("zh-hans", "en")


def _asked_language(request: HttpRequest) -> str | None:
    language = request.GET.get("lang", "")
    return language if language in PUBLIC_LANGUAGES else None


def public_view(switch: str):
    """A page or feed of a community's public `switch`: 404 unless the community turned it
    on (the same answer as for an unknown community), cacheable by anyone for five minutes.
    The view is called with the community instead of its id."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, community_id: int, *args, **kwargs) -> HttpResponse:
            community = selectors.public_community(community_id=community_id, switch=switch)
            language = _asked_language(request)
            with translation.override(language) if language else nullcontext():
                response = view(request, community, *args, **kwargs)
                response.headers.setdefault("Content-Language", translation.get_language())
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
            # The language follows the reader's cookie or browser when no link chose it.
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
            return response

        # GET and HEAD (proxies and feed readers ask for the headers alone).
        return require_safe(wrapper)

    return decorate


def _page_context(request: HttpRequest, community, *, page: str) -> dict:
    language = translation.get_language() or ""
    asked = _asked_language(request) or ""
    return {
        "community": community,
        # Which of the community's pages are on, for the links between them.
        "pages": selectors.public_pages_of(community=community),
        "page_name": page,
        "lang": asked,
        "lang_query": f"?lang={asked}" if asked else "",
        "other_language": "zh-hans" if language.startswith("en") else "en",
        "login_url": reverse("web:login"),
    }


# The case board --------------------------------------------------------------------------


def _choice(request: HttpRequest, name: str, choices: list[tuple[str, str]], message: str) -> str:
    value = request.GET.get(name, "")
    if value and value not in {code for code, _label in choices}:
        raise Invalid(message, field=name)
    return value


@public_view(CASES_BOARD)
def case_board(request: HttpRequest, community) -> HttpResponse:
    states = selectors.public_states()
    categories = selectors.public_categories()
    state = _choice(request, "state", states, _("Choose a state from the list."))
    category = _choice(request, "category", categories, _("Choose a category from the list."))
    cases = selectors.public_cases(community=community, state=state, category=category)
    page = Paginator(cases, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.case_rows(list(page.object_list), community=community)
    return render(
        request,
        "public/cases.html",
        {
            **_page_context(request, community, page="cases"),
            "rows": rows,
            "page": page,
            "states": states,
            "categories": categories,
            "filters": {"state": state, "category": category},
            "totals": selectors.board_totals(community=community),
            "rss_url": reverse("public:case_feed_rss", args=[community.pk]),
            "atom_url": reverse("public:case_feed_atom", args=[community.pk]),
        },
    )


# The activity calendar -------------------------------------------------------------------


def _month(request: HttpRequest) -> date | None:
    """The month asked for (`month=YYYY-MM`), or None for the coming dates."""
    value = request.GET.get("month", "")
    if not value:
        return None
    try:
        year, month = (int(part) for part in value.split("-"))
        chosen: date | None = date(year, month, 1)
    except ValueError:
        chosen = None
    if chosen is None or not MIN_YEAR <= chosen.year <= MAX_YEAR:
        raise Invalid(
            _("Give the month as YYYY-MM, between %(min)d and %(max)d.")
            % {"min": MIN_YEAR, "max": MAX_YEAR},
            field="month",
        )
    return chosen


def _shift_month(month: date, steps: int) -> str:
    if steps < 0:
        shifted = month - timedelta(days=1)
    else:
        shifted = month + timedelta(days=monthrange(month.year, month.month)[1])
    shifted = shifted.replace(day=1)
    return shifted.strftime("%Y-%m") if MIN_YEAR <= shifted.year <= MAX_YEAR else ""


def _by_day(occurrences: list[selectors.PublicOccurrence]) -> list[dict]:
    days: list[dict] = []
    for occurrence in occurrences:
        day = timezone.localtime(occurrence.starts_at).date()
        if not days or days[-1]["day"] != day:
            days.append({"day": day, "occurrences": []})
        days[-1]["occurrences"].append(occurrence)
    return days


@public_view(CALENDAR)
def activity_calendar(request: HttpRequest, community) -> HttpResponse:
    """The coming dates (at most FEED_SIZE, whatever month they fall in), or one month's
    dates, ended and cancelled ones included, when a month is asked for."""
    month = _month(request)
    this_month = clock.localdate().replace(day=1)
    if month is None:
        occurrences = selectors.upcoming_occurrences(community=community)
        shown = this_month
    else:
        occurrences = selectors.month_occurrences(community=community, month=month)
        shown = month
    return render(
        request,
        "public/activities.html",
        {
            **_page_context(request, community, page="activities"),
            "month": month,
            "days": _by_day(occurrences),
            "previous_month": _shift_month(shown, -1),
            "next_month": _shift_month(shown, 1),
            "this_month": this_month.strftime("%Y-%m"),
            "rss_url": reverse("public:activity_feed_rss", args=[community.pk]),
            "atom_url": reverse("public:activity_feed_atom", args=[community.pk]),
        },
    )


# The community's settings ----------------------------------------------------------------


@login_required
@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    statuses = selectors.switch_statuses(user=request.user)
    if not statuses:
        raise NotVisible()
    return render(request, "public/settings_index.html", {"statuses": statuses})


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, community_id: int) -> HttpResponse:
    community = selectors.settings_community_get(user=request.user, community_id=community_id)
    allowed = selectors.switches_allowed(user=request.user, community=community)
    pages = selectors.public_pages_of(community=community)
    errors: dict[str, list[str]] = {}
    status = 200
    values = {switch: getattr(pages, switch) for switch in selectors.SWITCHES}
    if request.method == "POST":
        values = {switch: request.POST.get(switch) == "on" for switch in selectors.SWITCHES}
        # A switch the person may not set is not in the form: it keeps its value.
        for switch, may in allowed.items():
            if not may and switch not in request.POST:
                values[switch] = getattr(pages, switch)
        try:
            services.public_pages_set(
                actor=request.user,
                community=community,
                ip_address=client_address(request),
                **values,
            )
        except ValidationError as error:
            status = status_for(error)
            errors = (
                error.message_dict if hasattr(error, "error_dict") else {"form": error.messages}
            )
        else:
            messages.success(request, _("The public pages are saved."))
            return redirect("public:settings", community.pk)
    links = {
        name: public_url(name, community.pk)
        for name in (
            "cases",
            "case_feed_rss",
            "case_feed_atom",
            "activities",
            "activity_feed_rss",
            "activity_feed_atom",
        )
    }
    return render(
        request,
        "public/settings.html",
        {
            "community": community,
            "pages": pages,
            "values": values,
            "allowed": allowed,
            "errors": errors,
            "links": links,
        },
        status=status,
    )
