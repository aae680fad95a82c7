"""Case metrics: every number with a worked example over hand-built cases at fixed times.

The example month is October 2025 (Asia/Shanghai), read on 2025-11-10 12:00. Cases are
made and moved through the real services with the clock set (`at`); SAF-01 (楼道堆物) has a
72-hour time limit, so each case's first due time is its filing time + 3 days.

    ref  unit   filed        accepted     resolved            closed       due (first)  notes
    a    A1-1   10-02 09:00  10-02 11:00  10-03 09:00         10-04 09:00  10-05 09:00  rated 5
    b    A1-1   10-10 08:00  10-10 14:00  10-14 08:00         10-15 08:00  10-13 08:00  rated 3, late
    c    A1-1   10-20 09:00  10-21 09:00  -                   -            10-23 09:00  escalated
    d    A1-1   10-30 12:00  -            -                   -            11-02 12:00
    e    A1-1   09-27 09:00  09-27 10:00  09-28, reopened,    10-03 09:00  09-30 09:00
                                          again 10-02 09:00
    f    A1-1   10-05 09:00  rejected 10-05 10:00                         10-08 09:00
    h    A2-1   10-12 09:00  10-12 10:00  -                   -            10-15 09:00
    g    C1-1   10-06 09:00  10-06 10:00  (another community)
    k    A1-1   09-01 09:00  open                                           (age > 30 days)
    j    A1-1   11-07 12:00  open                                           (exactly 3 days)
    l    A1-1   11-09 00:00  open                                           (1.5 days)
    i    A1-1   11-10 09:00  open                                           (3 hours)
"""

from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linli.accounts.roles import Role
from linli.cases import metrics
from linli.cases.models import Case, CaseSource
from linli.cases.services import case_create, case_escalate, case_transition
from linli.grids.services import building_create, grid_unit_create
from linli.testing.clients import client_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = metrics.period_from_params(period="month", day="2025-10-01")
OCTOBER_PARAMS = {"start": "2025-10-01", "end": "2025-11-01"}


def t(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


NOW = t(11, 10, 12)


@contextmanager
def at(moment: datetime):
    """Stop the clock at `moment`: every reader (linli.clock, model defaults) sees it."""
    with time_machine.travel(moment, tick=False):
        yield


def file(world, when, *, reporter=Role.RESIDENT, building=None) -> Case:
    with at(when):
        return case_create(
            reporter=world.users[reporter],
            category=world.category,
            description="楼道堆物",
            source=CaseSource.RESIDENT_REPORT if reporter == Role.RESIDENT else CaseSource.STAFF,
            building=building or world.building,
        )


def step(world, case, when, action, actor=Role.MICRO_GRID_LEAD, **data) -> Case:
    note = "done" if action in ("resolve", "reject", "reopen") else ""
    with at(when):
        return case_transition(
            case=case, actor=world.users[actor], action=action, note=note, **data
        )


def close(world, case, resolved, closed, actor=Role.MICRO_GRID_LEAD) -> Case:
    for action in ("dispatch", "start"):
        case = step(world, case, resolved, action, actor)
    case = step(world, case, resolved, "resolve", actor)
    case = step(world, case, closed, "verify", actor)
    return step(world, case, closed, "close", actor)


@pytest.fixture
def example(world, category):
    world.category = category
    cases = {}
    a = file(world, t(10, 2, 9))
    a = step(world, a, t(10, 2, 11), "accept")
    a = close(world, a, t(10, 3, 9), t(10, 4, 9))
    cases["a"] = step(world, a, t(10, 4, 10), "rate", Role.RESIDENT, satisfaction=5)

    b = file(world, t(10, 10, 8))
    b = step(world, b, t(10, 10, 14), "accept")
    b = close(world, b, t(10, 14, 8), t(10, 15, 8))
    cases["b"] = step(world, b, t(10, 15, 9), "rate", Role.RESIDENT, satisfaction=3)

    c = file(world, t(10, 20, 9))
    c = step(world, c, t(10, 21, 9), "accept")
    with at(t(10, 21, 10)):
        cases["c"] = case_escalate(case=c, actor=world.users[Role.MICRO_GRID_LEAD], reason="难")

    cases["d"] = file(world, t(10, 30, 12))

    e = file(world, t(9, 27, 9))
    e = step(world, e, t(9, 27, 10), "accept")
    for action in ("dispatch", "start", "resolve"):
        e = step(world, e, t(9, 28, 9), action)
    e = step(world, e, t(9, 29, 9), "reopen", Role.RESIDENT)
    e = step(world, e, t(10, 1, 9), "start")
    e = step(world, e, t(10, 2, 9), "resolve")
    e = step(world, e, t(10, 3, 9), "verify")
    cases["e"] = step(world, e, t(10, 3, 9), "close")

    cases["f"] = step(world, file(world, t(10, 5, 9)), t(10, 5, 10), "reject")

    other_building = world.other_micro_grid_household.building
    h = file(world, t(10, 12, 9), reporter=Role.SECRETARY, building=other_building)
    cases["h"] = step(world, h, t(10, 12, 10), "accept", Role.SECRETARY)

    far_building = world.other_community_household.building
    g = file(world, t(10, 6, 9), reporter=Role.STREET_ADMIN, building=far_building)
    cases["g"] = step(world, g, t(10, 6, 10), "accept", Role.STREET_ADMIN)

    cases["k"] = file(world, t(9, 1, 9))
    cases["j"] = file(world, t(11, 7, 12))
    cases["l"] = file(world, t(11, 9, 0))
    cases["i"] = file(world, t(11, 10, 9))
    return cases


def refs(cases, *names) -> set[str]:
    return {cases[name].reference for name in names}


def community_metrics(world, period=OCTOBER) -> metrics.CaseMetrics:
    return metrics.case_metrics(
        user=world.users[Role.SECRETARY], unit=world.community, period=period, now=NOW
    )


# Periods ---------------------------------------------------------------------------------


def test_periods_are_calendar_periods_in_shanghai_time():
    week = metrics.period_from_params(period="week", day="2025-10-15")
    assert (week.first_day, week.end_day) == (date(2025, 10, 13), date(2025, 10, 20))
    quarter = metrics.period_from_params(period="quarter", day=date(2025, 11, 5))
    assert (quarter.first_day, quarter.end_day, quarter.label) == (
        date(2025, 10, 1),
        date(2026, 1, 1),
        "2025 Q4",
    )
    assert OCTOBER.start == t(10, 1) and OCTOBER.end == t(11, 1)
    assert OCTOBER.shifted(-10).label == "2024-12"
    custom = metrics.period_from_params(**OCTOBER_PARAMS)
    assert (custom.kind, custom.start, custom.end) == ("custom", t(10, 1), t(11, 1))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "fortnight"}, "period"),
        ({"period": "month", "day": "2025-13-01"}, "date"),
        ({"start": "2025-10-01"}, "end"),
        ({"start": "2025-10-02", "end": "2025-10-01"}, "end"),
    ],
)
def test_bad_period_input_names_the_field(params, field):
    with pytest.raises(ValidationError) as error:
        metrics.period_from_params(**params)
    assert list(error.value.message_dict) == [field]


# Each metric, worked -----------------------------------------------------------------------


def test_closure_rate_is_closed_in_the_period_over_filed_in_the_period(world, example):
    result = community_metrics(world)
    # Filed: a b c d h (f was rejected, e filed in September, g is in another community).
    # Closed in October: a b e, whenever they were filed.
    assert (result.counts["filed"], result.counts["closed"]) == (5, 3)
    assert result.closure_rate == 3 / 5


def test_on_time_rate_counts_cases_whose_first_limit_fell_in_the_period(world, example):
    result = community_metrics(world)
    # Due in October: a (10-05) b (10-13) c (10-23) h (10-15); d is due 11-02, e was due
    # 09-30, f was rejected. Only a closed by its first limit (b closed two days late).
    assert (result.counts["due"], result.counts["closed_on_time"]) == (4, 1)
    assert result.on_time_rate == 1 / 4


def test_a_limit_not_yet_reached_is_not_judged(world, example):
    # Read on 10-14 12:00: a, b (10-13) have fallen due; c, h, d not yet. b is still open.
    result = metrics.case_metrics(
        user=world.users[Role.SECRETARY], unit=world.community, period=OCTOBER, now=t(10, 14, 12)
    )
    assert (result.counts["due"], result.counts["closed_on_time"]) == (2, 1)


def test_median_hours_to_accept_and_to_close(world, example):
    result = community_metrics(world)
    # Accepted in October: h 1 h, a 2 h, b 6 h, c 24 h (e was accepted in September).
    assert result.counts["accepted"] == 4
    assert result.median_hours_to_accept == 4.0
    # Closed in October: a 48 h, b 120 h, e 144 h (filed 09-27 09:00, closed 10-03 09:00).
    assert result.median_hours_to_close == 120.0


def test_escalation_rate_is_the_share_of_filed_cases_ever_escalated(world, example):
    result = community_metrics(world)
    assert result.counts["escalated"] == 1
    assert result.escalation_rate == 1 / 5


def test_reopen_rate_is_the_share_of_resolutions_that_followed_a_reopen(world, example):
    result = community_metrics(world)
    # Resolved in October: a b e; e had been reopened once.
    assert (result.counts["resolved"], result.counts["reopened"]) == (3, 1)
    assert result.reopen_rate == 1 / 3


def test_average_satisfaction_of_the_rated_resolutions(world, example):
    result = community_metrics(world)
    assert result.counts["rated"] == 2
    assert result.average_satisfaction == 4.0


def test_open_cases_by_age_now(world, example):
    assert community_metrics(world).open_by_age == {
        "open_lt_1d": 1,  # i
        "open_1_3d": 1,  # l
        "open_3_7d": 1,  # j: exactly 3 days falls in the upper bucket
        "open_7_30d": 3,  # c d h
        "open_gt_30d": 1,  # k
    }


def test_an_empty_period_gives_zero_counts_and_no_rates(world, example):
    result = community_metrics(world, metrics.period_from_params(period="year", day="2020-06-01"))
    assert result.counts["filed"] == result.counts["closed"] == result.counts["due"] == 0
    assert result.closure_rate is None and result.on_time_rate is None
    assert result.median_hours_to_accept is None and result.median_hours_to_close is None
    assert result.escalation_rate is None and result.reopen_rate is None
    assert result.average_satisfaction is None
    assert result.as_dict()["closure_rate"] is None


def test_each_number_lists_exactly_the_cases_behind_it(world, example):
    expected = {
        "filed": "abcdh",
        "closed": "abe",
        "due": "abch",
        "closed_on_time": "a",
        "accepted": "abch",
        "escalated": "c",
        "resolved": "abe",
        "reopened": "e",
        "rated": "ab",
        "open_7_30d": "cdh",
        "open_gt_30d": "k",
    }
    lead = world.users[Role.SECRETARY]
    for metric, names in expected.items():
        listed = metrics.metric_cases(
            user=lead, unit=world.community, period=OCTOBER, metric=metric, now=NOW
        )
        assert set(listed.values_list("reference", flat=True)) == refs(example, *names), metric


def test_breakdown_has_one_row_per_child_and_sums_to_the_unit(world, example):
    breakdown = metrics.case_metrics_breakdown(
        user=world.users[Role.SECRETARY], unit=world.community, period=OCTOBER, now=NOW
    )
    assert [(unit.code, direct) for unit, direct, _result in breakdown.rows] == [
        ("A1", False),
        ("A2", False),
    ]
    a1, a2 = (result for _unit, _direct, result in breakdown.rows)
    assert (a1.counts["filed"], a1.counts["closed"], a1.counts["due"]) == (4, 3, 3)
    assert (a1.closure_rate, a1.on_time_rate, a1.median_hours_to_accept) == (3 / 4, 1 / 3, 6.0)
    assert (a2.counts["filed"], a2.counts["due"], a2.on_time_rate) == (1, 1, 0.0)
    assert (a2.median_hours_to_accept, a2.closure_rate) == (1.0, 0.0)
    assert breakdown.total.counts == {
        name: a1.counts[name] + a2.counts[name] for name in metrics.COUNTS
    }


def test_cases_filed_at_the_unit_itself_get_their_own_row(world, category):
    with at(t(10, 2, 9)):
        here = case_create(
            reporter=world.users[Role.SECRETARY],
            category=category,
            description="社区广场路灯坏了",
            source=CaseSource.STAFF,
            grid_unit=world.community,
        )
    secretary = world.users[Role.SECRETARY]
    breakdown = metrics.case_metrics_breakdown(
        user=secretary, unit=world.community, period=OCTOBER, now=NOW
    )
    assert [
        (unit.code, direct, result.counts["filed"]) for unit, direct, result in breakdown.rows
    ] == [
        ("A1", False, 0),
        ("A2", False, 0),
        ("A", True, 1),
    ]
    listed = metrics.metric_cases(
        user=secretary, unit=world.community, period=OCTOBER, metric="filed", direct=True, now=NOW
    )
    assert list(listed) == [here]


def test_trend_gives_twelve_months_up_to_the_period(world, example):
    trend = metrics.case_metrics_trend(
        user=world.users[Role.SECRETARY], unit=world.community, period=OCTOBER, now=NOW
    )
    assert [point["period"].label for point in trend][-3:] == ["2025-08", "2025-09", "2025-10"]
    assert len(trend) == 12 and trend[0]["period"].label == "2024-11"
    september, october = trend[-2], trend[-1]
    # September: e and k filed and fell due, nothing closed.
    assert (september["filed"], september["closed"], september["due"]) == (2, 0, 2)
    assert (september["closure_rate"], september["on_time_rate"]) == (0.0, 0.0)
    assert (october["closure_rate"], october["on_time_rate"]) == (3 / 5, 1 / 4)
    assert trend[0]["closure_rate"] is None


# Scope -----------------------------------------------------------------------------------


def test_micro_grid_lead_sees_only_their_subtree(world, example):
    lead = world.users[Role.MICRO_GRID_LEAD]
    unit = metrics.metrics_unit(user=lead)
    assert unit == world.micro_grid
    result = metrics.case_metrics(user=lead, unit=unit, period=OCTOBER, now=NOW)
    assert (result.counts["filed"], result.counts["due"]) == (4, 3)
    with pytest.raises(Http404):
        metrics.metrics_unit(user=lead, unit_id=world.community.pk)
    with pytest.raises(Http404):
        metrics.case_metrics(user=lead, unit=world.community, period=OCTOBER, now=NOW)


def test_street_admin_defaults_to_the_street(world, example):
    admin = world.users[Role.STREET_ADMIN]
    assert metrics.metrics_unit(user=admin) == world.street
    result = metrics.case_metrics(user=admin, unit=world.street, period=OCTOBER, now=NOW)
    assert result.counts["filed"] == 6  # g in community C too


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_roles_without_a_registry_post_have_no_metrics(world, role):
    with pytest.raises(Http404):
        metrics.metrics_unit(user=world.users[role])
    with pytest.raises(Http404):
        metrics.metrics_unit(user=world.users[role], unit_id=world.building_group.pk)


# Pages -----------------------------------------------------------------------------------


def test_dashboard_shows_the_numbers_with_links_to_their_cases(world, example):
    client = client_for(world.users[Role.SECRETARY])
    with at(NOW):
        response = client.get(reverse("cases:metrics"), OCTOBER_PARAMS)
    assert response.status_code == 200
    total = response.context["total"]
    assert (total["closure_rate"], total["on_time_rate"]) == ("60.0%", "25.0%")
    assert (total["median_accept"], total["median_close"]) == ("4.0", "120.0")
    assert (total["escalation_rate"], total["reopen_rate"], total["satisfaction"]) == (
        "20.0%",
        "33.3%",
        "4.0",
    )
    assert [row["unit"].code for row in response.context["rows"]] == ["A1", "A2"]
    closed_link = total["links"]["closed"]
    assert closed_link == (
        f"/cases/metrics/closed/?unit={world.community.pk}&start=2025-10-01&end=2025-11-01"
    )
    assert closed_link.replace("&", "&amp;") in response.content.decode()
    assert len(response.context["trend"]) == 12

    with at(NOW):
        listed = client.get(closed_link)
    assert listed.status_code == 200
    assert {case.reference for case in listed.context["page"]} == refs(example, "a", "b", "e")


def test_a_week_dashboard_charts_twelve_weeks(world, example):
    client = client_for(world.users[Role.SECRETARY])
    with at(NOW):
        response = client.get(reverse("cases:metrics"), {"period": "week", "date": "2025-10-15"})
    assert response.context["period"].label == "2025-10-13 – 2025-10-19"
    labels = response.context["chart"]["labels"]
    assert (len(labels), labels[0], labels[-1]) == (12, "2025-07-28", "2025-10-13")
    # Week of 10-13: nothing filed (h on Sunday 10-12, c on 10-20); b closed (late) on
    # 10-15; b (10-13) and h (10-15) fell due.
    last = response.context["trend"][-1]
    assert (last["filed"], last["closed"], last["due"], last["closed_on_time"]) == (0, 1, 2, 0)
    assert response.context["chart"]["series"][0]["data"][-1] is None
    assert response.context["chart"]["series"][1]["data"][-1] == 0.0


def test_metric_list_follows_the_child_row_link(world, example):
    client = client_for(world.users[Role.SECRETARY])
    with at(NOW):
        response = client.get(reverse("cases:metrics"), OCTOBER_PARAMS)
        a2 = response.context["rows"][1]
        listed = client.get(a2["links"]["filed"])
    assert {case.reference for case in listed.context["page"]} == refs(example, "h")


def test_dashboard_defaults_to_the_current_month_of_the_users_unit(world):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(reverse("cases:metrics"))
    assert response.status_code == 200
    assert response.context["unit"] == world.micro_grid
    assert response.context["period"].kind == "month"


def test_dashboard_says_what_is_wrong_with_a_bad_period(world):
    response = client_for(world.users[Role.SECRETARY]).get(
        reverse("cases:metrics"), {"period": "x"}
    )
    assert response.status_code == 200
    assert response.context["period"].kind == "month"
    assert [str(m) for m in response.context["messages"]] == [
        "Period: Choose week, month, quarter or year."
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date": "9999-12-31"}, "Any day in the period: "),
        ({"start": "2026-01-01", "end": "9999-12-31"}, "End date: "),
        ({"start": "0810-01-01", "end": "2026-01-01"}, "Start date: "),
    ],
)
def test_dashboard_refuses_a_date_outside_2000_to_2100_naming_the_field(world, params, message):
    client = client_for(world.users[Role.SECRETARY])
    with at(NOW):
        response = client.get(reverse("cases:metrics"), {"unit": world.community.pk, **params})
        listed = client.get("/cases/metrics/closed/", {"unit": world.community.pk, **params})
    for answer in (response, listed):
        assert answer.status_code == 200
        assert answer.context["period"].kind == "month"
        assert [str(m) for m in answer.context["messages"]] == [
            message + "Enter a date between 2000-01-01 and 2100-12-31."
        ]


@pytest.mark.parametrize("field", ["date", "start", "end"])
def test_period_from_params_refuses_year_9999_naming_the_field(field):
    params = {"start": "2026-01-01", "end": "2026-02-01"}
    params[field] = "9999-12-31"
    if field == "date":
        params = {"day": "9999-12-31"}
    with pytest.raises(ValidationError) as refused:
        metrics.period_from_params(**params)
    assert list(refused.value.message_dict) == [field]


def test_out_of_scope_unit_is_404_on_the_pages(world, example):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    params = {"unit": world.community.pk, **OCTOBER_PARAMS}
    assert client.get(reverse("cases:metrics"), params).status_code == 404
    assert client.get(reverse("cases:metric_cases", args=["filed"]), params).status_code == 404
    assert client.get(reverse("cases:metric_cases", args=["nonsense"])).status_code == 404


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_pages_are_404_for_roles_without_a_registry_post(world, role):
    client = client_for(world.users[role])
    assert client.get(reverse("cases:metrics")).status_code == 404
    assert client.get(reverse("cases:metric_cases", args=["filed"])).status_code == 404


def test_anonymous_is_sent_to_log_in(world):
    response = Client().get(reverse("cases:metrics"))
    assert response.status_code == 302


def test_home_shows_this_months_rates_to_staff_only(world, example):
    summary_url = reverse("cases:metrics_summary")
    client = client_for(world.users[Role.SECRETARY])
    assert summary_url in client.get(reverse("web:home")).content.decode()
    # Read on 10-20 12:00: due so far a, b, h; filed a b c d h; closed a b e.
    with at(t(10, 20, 12)):
        response = client.get(summary_url)
    assert (response.context["closure_rate"], response.context["on_time_rate"]) == (
        "60.0%",
        "33.3%",
    )
    assert response.context["dashboard"] == (
        f"{reverse('cases:metrics')}?unit={world.community.pk}&period=month&date=2025-10-01"
    )
    resident = client_for(world.users[Role.RESIDENT])
    assert summary_url not in resident.get(reverse("web:home")).content.decode()
    assert resident.get(summary_url).status_code == 404


def _add_micro_grids(world, count: int) -> None:
    for index in range(count):
        micro = grid_unit_create(
            level="micro_grid", code=f"A9{index}", name=f"微网格{index}", parent=world.community
        )
        group = grid_unit_create(
            level="building_group", code=f"A9{index}-1", name=f"楼组{index}", parent=micro
        )
        building = building_create(grid_unit=group, name=f"{90 + index}号楼")
        file(world, t(10, 3, 9), reporter=Role.SECRETARY, building=building)


def test_dashboard_queries_do_not_grow_with_child_units(world, category):
    world.category = category
    client = client_for(world.users[Role.SECRETARY])
    url = reverse("cases:metrics")
    client.get(url, OCTOBER_PARAMS)  # warm the session and the category cache
    with CaptureQueriesContext(connection) as two_children:
        assert client.get(url, OCTOBER_PARAMS).status_code == 200
    _add_micro_grids(world, 3)
    with CaptureQueriesContext(connection) as five_children:
        response = client.get(url, OCTOBER_PARAMS)
    assert len(response.context["rows"]) == 5
    assert response.context["total"]["counts"]["filed"] == 3
    assert len(five_children) == len(two_children)


def test_dashboard_query_count(world, example, django_assert_num_queries):
    client = client_for(world.users[Role.SECRETARY])
    client.get(reverse("cases:metrics"), OCTOBER_PARAMS)
    # session, user, scope (2), unit, grouped counts, durations, children, trend, nav posts,
    # unread notifications.
    with django_assert_num_queries(11):
        client.get(reverse("cases:metrics"), OCTOBER_PARAMS)


# API -------------------------------------------------------------------------------------

API = "/api/v1/cases/metrics"


def test_api_gives_the_metrics_children_and_trend(world, example):
    client = client_for(world.users[Role.SECRETARY])
    with at(NOW):
        response = client.get(API, {"unit_id": world.community.pk, **OCTOBER_PARAMS})
    assert response.status_code == 200
    body = response.json()
    assert body["unit"] == {
        "id": world.community.pk,
        "code": "A",
        "name": "A社区",
        "level": "community",
    }
    assert body["period"]["kind"] == "custom"
    assert body["period"]["start"].startswith("2025-10-01T00:00:00")
    assert body["metrics"] == {
        "filed": 5,
        "closed": 3,
        "due": 4,
        "closed_on_time": 1,
        "accepted": 4,
        "escalated": 1,
        "resolved": 3,
        "reopened": 1,
        "rated": 2,
        "closure_rate": 0.6,
        "on_time_rate": 0.25,
        "median_hours_to_accept": 4.0,
        "median_hours_to_close": 120.0,
        "escalation_rate": 0.2,
        "reopen_rate": 0.3333,
        "average_satisfaction": 4.0,
        "open_by_age": {
            "open_lt_1d": 1,
            "open_1_3d": 1,
            "open_3_7d": 1,
            "open_7_30d": 3,
            "open_gt_30d": 1,
        },
    }
    assert [child["unit"]["code"] for child in body["children"]] == ["A1", "A2"]
    assert body["children"][1]["metrics"]["filed"] == 1
    assert len(body["trend"]) == 12
    assert body["trend"][-1]["period"]["label"] == "2025-10"
    assert body["trend"][-1]["closure_rate"] == 0.6


def test_api_defaults_to_the_users_unit_and_this_month(world):
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(API)
    assert response.status_code == 200
    assert response.json()["unit"]["code"] == "A1"
    assert response.json()["period"]["kind"] == "month"


def test_api_answers_404_outside_scope_and_400_for_a_bad_period(world):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    response = client.get(API, {"unit_id": world.community.pk})
    assert response.status_code == 404
    assert response.json()["field"] == "unit_id"
    response = client.get(API, {"period": "decade"})
    assert response.status_code == 400
    assert response.json()["field"] == "period"


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_api_is_404_for_roles_without_a_registry_post(world, role):
    assert client_for(world.users[role]).get(API).status_code == 404


def test_api_metrics_path_leaves_case_detail_alone(world, category):
    world.category = category
    case = file(world, t(10, 2, 9))
    client = client_for(world.users[Role.SECRETARY])
    assert client.get(f"/api/v1/cases/{case.pk}").json()["reference"] == case.reference
    assert Client().get(API).status_code == 401
