"""What the public pages may show, decided here and nowhere else.

A public page is read by anyone, signed in or not, and cached by proxies, so it is built from
rows that hold only safe fields: `PublicCaseRow` and `PublicOccurrence` are plain
dataclasses filled from `.values()` of the columns listed in `CASE_FIELDS` and
`OCCURRENCE_FIELDS`. No model instance reaches a template or a feed, so no template can
follow a relation to a reporter, a room or a sign-up's name.

What a case row holds, and why:
- its reference, category, state, filing and closing dates, time taken and, once closed, the
  satisfaction rating if the reporter gave one;
- its place at most to the building group or micro-grid (the name of the grid unit that owns
  it, never the building, the room or a point on the map);
- never the title nor the description: both are free text typed by residents and staff and
  can name people and rooms ("3-2-401 张阿姨家漏水"), which masking of phone and ID numbers
  (linli.accounts.privacy.mask_numbers_in_text) does not catch. So even the categories that
  are public show no free text.

Which cases: those of a category shown on the public board (`CaseCategory.is_public`, kept
by the staff who edit the category tree; a neighbour dispute is not public) whose major class
is public too, inside the community; rejected (不予立案) and merged duplicates are left out,
as on the signed-in board and in Open311 (linli.cases.selectors.public_board).
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import path_ancestors, within
from linli.accounts.models import User
from linli.accounts.privacy import mask_numbers_in_text
from linli.accounts.roles import Permission
from linli.cases.metrics import period_containing
from linli.cases.models import ACTIVE_STATES, Case, CaseCategory, CaseState
from linli.errors import NotVisible
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.participation.activities.models import (
    ActivityKind,
    Occurrence,
    OccurrenceState,
    SignUpStatus,
)
from linli.public.models import PublicPages

# The two switches, by the name of the column that holds each.
CASES_BOARD = "cases_board"
CALENDAR = "calendar"
SWITCHES = (CASES_BOARD, CALENDAR)

# Who may turn each page on or off: someone who may do that work for the whole community.
# Supervising (verifying, closing) its cases decides whether they are shown; organising its
# activities decides whether its calendar is. Held on the community's own path (or above):
# the secretary and the street administrator, not a micro-grid lead whose post covers only
# part of the community.
SWITCH_PERMISSIONS = {
    CASES_BOARD: Permission.CASE_SUPERVISE,
    CALENDAR: Permission.ACTIVITIES_MANAGE,
}

PAGE_SIZE = 20
FEED_SIZE = 50
# Rejected and merged cases never entered the loop as problems of their own.
HIDDEN_STATES = (CaseState.REJECTED, CaseState.DUPLICATE)
PUBLIC_STATES = tuple(state for state in CaseState if state not in HIDDEN_STATES)

# The only columns a public case row is read from.
CASE_FIELDS = (
    "id",
    "reference",
    "category__code",
    "category__name_zh",
    "category__name_en",
    "category__parent__name_zh",
    "category__parent__name_en",
    "state",
    "grid_path",
    "created_at",
    "closed_at",
    "due_at",
    "satisfaction",
    "updated_at",
)


# The switch -------------------------------------------------------------------------------


def public_pages_of(*, community: GridUnit) -> PublicPages:
    """The community's switch, both off (unsaved) when nobody has set it yet."""
    found = PublicPages.objects.filter(community=community).first()
    return found if found is not None else PublicPages(community=community)


def public_community(*, community_id: int, switch: str) -> GridUnit:
    """The community whose page `switch` is on; an unknown community, a grid unit of
    another level and a page turned off all answer the same 404."""
    if switch not in SWITCHES:
        raise ValueError(switch)
    community = (
        GridUnit.objects.filter(
            pk=community_id,
            level=GridLevel.COMMUNITY,
            **{f"public_pages__{switch}": True},
        )
        .only("id", "name", "code", "path", "level")
        .first()
    )
    if community is None:
        raise NotVisible()
    return community


def may_set(*, user: User | None, community: GridUnit, switch: str) -> bool:
    return scope_for(user).allows(SWITCH_PERMISSIONS[switch], community.path)


def switches_allowed(*, user: User | None, community: GridUnit) -> dict[str, bool]:
    return {switch: may_set(user=user, community=community, switch=switch) for switch in SWITCHES}


def settings_communities(*, user: User | None) -> QuerySet[GridUnit]:
    """The communities in which the user may turn at least one public page on or off."""
    scope = scope_for(user)
    paths = [path for switch in SWITCHES for path in scope.paths_for(SWITCH_PERMISSIONS[switch])]
    # A permission held on a community or above it covers the community's own path.
    return (
        GridUnit.objects.filter(level=GridLevel.COMMUNITY)
        .filter(within(paths, "path"))
        .order_by("path")
    )


def settings_community_get(*, user: User | None, community_id: int) -> GridUnit:
    """One community of `settings_communities`, or 404 (out of scope looks like absent)."""
    try:
        return settings_communities(user=user).get(pk=community_id)
    except (GridUnit.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotVisible() from None


@dataclass(frozen=True)
class SwitchStatus:
    community: GridUnit
    cases_board: bool
    calendar: bool


def switch_statuses(*, user: User | None, limit: int | None = None) -> list[SwitchStatus]:
    """Each community the user may configure with its two switches: two queries."""
    queryset = settings_communities(user=user)
    communities = list(queryset[:limit] if limit is not None else queryset)
    switches = {
        community_id: (cases_board, calendar)
        for community_id, cases_board, calendar in PublicPages.objects.filter(
            community__in=[unit.pk for unit in communities]
        ).values_list("community_id", "cases_board", "calendar")
    }
    return [
        SwitchStatus(
            community=unit,
            cases_board=switches.get(unit.pk, (False, False))[0],
            calendar=switches.get(unit.pk, (False, False))[1],
        )
        for unit in communities
    ]


# The case board ---------------------------------------------------------------------------


def _localised(zh: str, en: str) -> str:
    # As CaseCategory.name: Chinese first, English when the page is English.
    return en if (get_language() or "").startswith("en") and en else zh


def public_categories() -> list[tuple[str, str]]:
    """(code, name) of the minor categories shown on the public board, in the tree's order."""
    categories = (
        CaseCategory.objects.filter(parent__isnull=False, is_public=True, parent__is_public=True)
        .select_related("parent")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )
    return [
        (category.code, f"{category.parent.name} · {category.name}" if category.parent else "")
        for category in categories
    ]


def public_states() -> list[tuple[str, str]]:
    return [(state.value, str(state.label)) for state in PUBLIC_STATES]


def public_cases(
    *, community: GridUnit, state: str | None = None, category: str | None = None
) -> QuerySet[Case]:
    """The community's public cases, newest first, as `.values()` of CASE_FIELDS only.
    `state` and `category` (a code) must already be checked against public_states() and
    public_categories(): an unknown one matches nothing."""
    cases = (
        Case.objects.within([community.path])
        .filter(category__is_public=True, category__parent__is_public=True)
        .exclude(state__in=HIDDEN_STATES)
    )
    if state:
        cases = cases.filter(state=state)
    if category:
        cases = cases.filter(category__code=category)
    return cases.order_by("-created_at", "-id").values(*CASE_FIELDS)


@dataclass(frozen=True)
class PublicCaseRow:
    """Everything the public may know about one case."""

    reference: str
    category: str
    major_category: str
    state: str
    state_label: str
    place: str
    filed_at: datetime
    closed_at: datetime | None
    time_taken: timedelta | None
    satisfaction: int | None
    overdue: bool
    # When anything about the case last changed (a feed's <updated>).
    changed_at: datetime

    @property
    def is_closed(self) -> bool:
        return self.state == CaseState.CLOSED

    @property
    def time_taken_words(self) -> str:
        return duration_words(self.time_taken) if self.time_taken is not None else ""


def duration_words(duration: timedelta) -> str:
    """ "5 hours" under two days, "3 days" from then on (rounded to the nearest)."""
    hours = max(0, round(duration.total_seconds() / 3600))
    if hours < 1:
        return _("under an hour")
    if hours < 48:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = round(hours / 24)
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def place_names(*, community: GridUnit) -> dict[str, str]:
    """Path → name of the community's micro-grids and building groups: the finest places a
    public page names."""
    return dict(
        GridUnit.objects.within([community.path])
        .filter(level__in=[GridLevel.MICRO_GRID, GridLevel.BUILDING_GROUP])
        .values_list("path", "name")
    )


def _place(grid_path: str, names: dict[str, str], community: GridUnit) -> str:
    # The deepest building group or micro-grid on the way down to the case's unit.
    for path in reversed(path_ancestors(grid_path)):
        if path in names:
            return names[path]
    return community.name


def case_rows(
    values: list[dict], *, community: GridUnit, names: dict[str, str] | None = None, now=None
) -> list[PublicCaseRow]:
    """PublicCaseRow of each `.values()` row of public_cases()."""
    names = place_names(community=community) if names is None else names
    now = now or clock.now()
    rows = []
    for value in values:
        state = value["state"]
        closed = state == CaseState.CLOSED and value["closed_at"] is not None
        rows.append(
            PublicCaseRow(
                reference=value["reference"],
                category=_localised(value["category__name_zh"], value["category__name_en"]),
                major_category=_localised(
                    value["category__parent__name_zh"] or "",
                    value["category__parent__name_en"] or "",
                ),
                state=state,
                state_label=str(CaseState(state).label),
                place=_place(value["grid_path"], names, community),
                filed_at=value["created_at"],
                closed_at=value["closed_at"] if closed else None,
                time_taken=value["closed_at"] - value["created_at"] if closed else None,
                satisfaction=value["satisfaction"] if closed else None,
                overdue=state in ACTIVE_STATES and value["due_at"] < now,
                changed_at=value["updated_at"],
            )
        )
    return rows


@dataclass(frozen=True)
class BoardTotals:
    """This month's figures over the board's own cases, by the definitions of
    linli.cases.metrics: filed (created this month), closed (closed this month), and the
    on-time share (of the cases whose first time limit fell this month and has passed,
    those closed by it; None when none fell due)."""

    month: date
    filed: int
    closed: int
    due: int
    closed_on_time: int

    @property
    def on_time_share(self) -> float | None:
        return self.closed_on_time / self.due if self.due else None

    @property
    def on_time_percent(self) -> int | None:
        share = self.on_time_share
        return round(share * 100) if share is not None else None


def board_totals(*, community: GridUnit, now: datetime | None = None) -> BoardTotals:
    """One query."""
    now = now or clock.now()
    period = period_containing("month", timezone.localdate(now))
    start, end = period.start, period.end
    passed = min(end, now)
    due = Q(original_due_at__gte=start, original_due_at__lt=passed)
    counts = (
        Case.objects.within([community.path])
        .filter(category__is_public=True, category__parent__is_public=True)
        .exclude(state__in=HIDDEN_STATES)
        .aggregate(
            filed=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
            closed=Count(
                "pk", filter=Q(state=CaseState.CLOSED, closed_at__gte=start, closed_at__lt=end)
            ),
            due=Count("pk", filter=due),
            closed_on_time=Count(
                "pk",
                filter=due & Q(state=CaseState.CLOSED, closed_at__lte=F("original_due_at")),
            ),
        )
    )
    return BoardTotals(month=period.first_day, **counts)


# The activity calendar --------------------------------------------------------------------


# The only columns a public occurrence is read from.
OCCURRENCE_FIELDS = (
    "id",
    "starts_at",
    "ends_at",
    "capacity",
    "state",
    "activity__title",
    "activity__kind",
    "activity__rrule",
    "activity__starts_at",
    "activity__venue__name",
    "activity__venue__address",
    "activity__created_at",
    "activity__updated_at",
)


@dataclass(frozen=True)
class PublicOccurrence:
    """Everything the public may know about one date of an activity: no names of those who
    signed up, only how many did."""

    id: int
    title: str
    kind_label: str
    starts_at: datetime
    ends_at: datetime
    place: str
    recurrence: str
    capacity: int
    confirmed: int
    waitlisted: int
    state: str
    ended: bool
    published_at: datetime
    updated_at: datetime

    @property
    def cancelled(self) -> bool:
        return self.state == OccurrenceState.CANCELLED

    @property
    def open_for_sign_up(self) -> bool:
        return self.state == OccurrenceState.SCHEDULED and not self.ended

    @property
    def full(self) -> bool:
        return self.confirmed >= self.capacity


def _occurrences(community: GridUnit) -> QuerySet[Occurrence]:
    return Occurrence.objects.within([community.path]).annotate(
        confirmed=Count("sign_ups", filter=Q(sign_ups__status=SignUpStatus.CONFIRMED)),
        waitlisted=Count("sign_ups", filter=Q(sign_ups__status=SignUpStatus.WAITLISTED)),
    )


def _occurrence_rows(queryset: QuerySet[Occurrence], now: datetime) -> list[PublicOccurrence]:
    rows = []
    for value in queryset.values(*OCCURRENCE_FIELDS, "confirmed", "waitlisted"):
        place = " · ".join(
            part
            for part in (value["activity__venue__name"], value["activity__venue__address"])
            if part
        )
        rows.append(
            PublicOccurrence(
                id=value["id"],
                # Typed by staff: a number in it (a contact's phone) is masked as anywhere
                # else that staff text reaches people outside the post.
                title=mask_numbers_in_text(value["activity__title"]),
                kind_label=str(ActivityKind(value["activity__kind"]).label)
                if value["activity__kind"] in ActivityKind.values
                else "",
                starts_at=value["starts_at"],
                ends_at=value["ends_at"],
                place=mask_numbers_in_text(place),
                recurrence=recurrence_words(
                    value["activity__rrule"], first_start=value["activity__starts_at"]
                ),
                capacity=value["capacity"],
                confirmed=value["confirmed"],
                waitlisted=value["waitlisted"],
                state=value["state"],
                ended=value["ends_at"] <= now,
                published_at=value["activity__created_at"],
                updated_at=value["activity__updated_at"],
            )
        )
    return rows


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month of `month` as [first midnight, next first midnight) in the site's zone."""
    first = month.replace(day=1)
    days = calendar.monthrange(first.year, first.month)[1]
    following = first + timedelta(days=days)
    return (
        timezone.make_aware(datetime.combine(first, time.min)),
        timezone.make_aware(datetime.combine(following, time.min)),
    )


def month_occurrences(
    *, community: GridUnit, month: date, now: datetime | None = None
) -> list[PublicOccurrence]:
    """Every date of the community's activities that starts in the month, soonest first,
    cancelled ones included (the public learns that a date is off)."""
    now = now or clock.now()
    start, end = month_bounds(month)
    queryset = _occurrences(community).filter(starts_at__gte=start, starts_at__lt=end)
    return _occurrence_rows(queryset.order_by("starts_at", "id"), now)


def upcoming_occurrences(
    *, community: GridUnit, now: datetime | None = None, limit: int = FEED_SIZE
) -> list[PublicOccurrence]:
    """The next scheduled dates not yet over, soonest first."""
    now = now or clock.now()
    queryset = (
        _occurrences(community)
        .filter(state=OccurrenceState.SCHEDULED, ends_at__gt=now)
        .order_by("starts_at", "id")
    )
    return _occurrence_rows(queryset[:limit], now)


# Series in words ----------------------------------------------------------------------------

# In RRULE order (Monday first, as date.weekday() counts).
_WEEKDAYS = {
    "MO": pgettext_lazy("weekday in a repeat rule", "Monday"),
    "TU": pgettext_lazy("weekday in a repeat rule", "Tuesday"),
    "WE": pgettext_lazy("weekday in a repeat rule", "Wednesday"),
    "TH": pgettext_lazy("weekday in a repeat rule", "Thursday"),
    "FR": pgettext_lazy("weekday in a repeat rule", "Friday"),
    "SA": pgettext_lazy("weekday in a repeat rule", "Saturday"),
    "SU": pgettext_lazy("weekday in a repeat rule", "Sunday"),
}


def _rule_parts(rrule: str) -> dict[str, str]:
    text = (rrule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = {}
    for part in text.split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            parts[key.strip().upper()] = value.strip().upper()
    return parts


def _days(byday: str) -> str | None:
    names = []
    for day in byday.split(","):
        day = day.strip()
        if day not in _WEEKDAYS:
            # "1MO" (the first Monday of the month) and the like: no plain words for it here.
            return None
        names.append(str(_WEEKDAYS[day]))
    return pgettext("list separator", ", ").join(names)


def recurrence_words(rrule: str, *, first_start: datetime | None = None) -> str:
    """A series' repeat rule (RFC 5545 RRULE, as activities store it) in words: "Every
    week on Thursday, 12 times in all". Empty for a one-off activity; a rule with parts that
    have no plain words here reads "Repeats on a schedule" rather than showing code."""
    parts = _rule_parts(rrule)
    if not parts:
        return ""
    generic = _("Repeats on a schedule")
    known = {"FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL", "WKST"}
    if set(parts) - known:
        return generic
    try:
        interval = int(parts.get("INTERVAL", "1"))
        count = int(parts["COUNT"]) if "COUNT" in parts else None
    except ValueError:
        return generic
    if interval < 1:
        return generic
    frequency = parts.get("FREQ")
    days = _days(parts["BYDAY"]) if "BYDAY" in parts else ""
    if days is None:
        return generic
    if frequency == "DAILY" and not days:
        rule = _("Every day") if interval == 1 else _("Every %(interval)d days")
    elif frequency == "WEEKLY":
        if not days and first_start is not None:
            weekday = list(_WEEKDAYS)[timezone.localtime(first_start).weekday()]
            days = str(_WEEKDAYS[weekday])
        if not days:
            rule = _("Every week") if interval == 1 else _("Every %(interval)d weeks")
        else:
            rule = (
                _("Every week on %(days)s")
                if interval == 1
                else _("Every %(interval)d weeks on %(days)s")
            )
    elif frequency == "MONTHLY" and not days:
        rule = _("Every month") if interval == 1 else _("Every %(interval)d months")
    elif frequency == "YEARLY" and not days:
        rule = _("Every year") if interval == 1 else _("Every %(interval)d years")
    else:
        return generic
    words = rule % {"interval": interval, "days": days}
    if count is not None:
        limit = _("%(count)d times in all") % {"count": count}
        return _("%(rule)s, %(limit)s") % {"rule": words, "limit": limit}
    if "UNTIL" in parts:
        until = _until_date(parts["UNTIL"])
        if until is None:
            return generic
        limit = _("until %(date)s") % {"date": until.isoformat()}
        return _("%(rule)s, %(limit)s") % {"rule": words, "limit": limit}
    return words


def _until_date(value: str) -> date | None:
    digits = value[:8]
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
