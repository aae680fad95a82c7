"""Monthly and quarterly resilience reports: period parsing, the live figures of a hand-made
month (visits, weekly snapshots, emergencies and drills), the exact workbook, the PDF (pages,
the Chinese CID font, Chinese text), the reports page and who may download what."""

import base64
import re
import zlib
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.emergency.models import Activation, Plan
from linli.grids.services import visit_record
from linli.resilience import engine
from linli.resilience.models import IndexSnapshot
from linli.resilience.reports import (
    PeriodError,
    month_period,
    period_parse,
    recent_periods,
    report_data,
    report_pdf,
    report_xlsx,
)
from linli.testing.clients import client_for

# The fixture's month is October 2026, Asia/Shanghai: [2026-10-01 00:00, 2026-11-01 00:00)
# local, i.e. [2026-09-30 16:00, 2026-10-31 16:00) UTC.
OCTOBER = month_period(2026, 10)
# "Now" for the report: well after October, so the month is complete.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def local(*parts) -> datetime:
    return timezone.make_aware(datetime(*parts))


@pytest.fixture(autouse=True)
def only_visit_indicator():
    """The exact rows below are those of S_VISIT_30D alone (plus what a test registers):
    the other indicators have their own tests, and the catalogue grows while these
    reports' figures must not change."""
    saved = dict(engine.REGISTRY)
    engine.REGISTRY.clear()
    engine.REGISTRY["S_VISIT_30D"] = saved["S_VISIT_30D"]
    yield
    engine.REGISTRY.clear()
    engine.REGISTRY.update(saved)


def make_plan(unit, name) -> Plan:
    return Plan.objects.create(grid_unit=unit, grid_path=unit.path, hazard="typhoon", name=name)


def make_activation(plan, scope, *, activated_at, stood_down_at, is_drill=True, summary=None):
    return Activation.objects.create(
        plan=plan,
        hazard=plan.hazard,
        grade=3,
        scope=scope,
        grid_path=scope.path,
        is_drill=is_drill,
        state="stood_down",
        movement_rule=plan.movement_rule,
        volunteer_capacity=8,
        acknowledge_minutes=15,
        retry_minutes=30,
        max_attempts=2,
        activated_at=activated_at,
        stood_down_at=stood_down_at,
        summary=summary or {},
    )


@pytest.fixture
def october(world):
    """A社区 in October 2026:

    - visits: 101 (A1) on 10-20, 201 (A2) on 09-15 (outside the 30 days up to 11-01),
      901 (C社区) on 10-25 — so A visited 1 of 3 households, A1 1 of 2, A2 0 of 1;
    - weekly snapshots of A and A1 for the weeks ending 10-04 and 10-11, plus A's weeks
      ending 09-27 and 11-01 (outside October);
    - a drill of A on 10-10 (with after-action figures), a street-wide drill on 10-20
      (covers A), a real emergency of C社区 on 10-12 (not A's) and a drill of A on 09-28
      (September's).
    """
    recorder = User.objects.create_superuser(username="recorder", password=PASSWORD)
    for household, moment in (
        (world.household, local(2026, 10, 20, 9, 0)),
        (world.other_micro_grid_household, local(2026, 9, 15, 9, 0)),
        (world.other_community_household, local(2026, 10, 25, 9, 0)),
    ):
        visit_record(visitor=recorder, household=household, method="door", visited_at=moment)

    def snapshot(unit, day, structural, overall):
        IndexSnapshot.objects.create(
            grid_unit=unit,
            grid_path=unit.path,
            level=unit.level,
            period_end=day,
            structural=structural,
            overall=overall,
        )

    snapshot(world.community, date(2026, 9, 27), 0.1, 0.1)
    snapshot(world.community, date(2026, 10, 4), 0.25, 0.25)
    snapshot(world.community, date(2026, 10, 11), 0.5, 0.5)
    snapshot(world.community, date(2026, 11, 1), 0.9, 0.9)
    snapshot(world.micro_grid, date(2026, 10, 4), 0.75, 0.75)
    snapshot(world.micro_grid, date(2026, 10, 11), 1.0, 1.0)

    plan = make_plan(world.community, "防汛预案")
    street_plan = make_plan(world.street, "街道防汛预案")
    other_plan = make_plan(world.other_community, "C社区预案")
    drill = make_activation(
        plan,
        world.community,
        activated_at=local(2026, 10, 10, 9, 0),
        stood_down_at=local(2026, 10, 10, 11, 0),
        summary={
            "targeted_households": 2,
            "contacted_households": 2,
            "coverage_share": 1.0,
            "minutes_to": {"50": 20.0, "90": 45.0, "100": 80.5},
            "help_requests": {"total": 1},
            "duration_minutes": 120.0,
        },
    )
    street_drill = make_activation(
        street_plan,
        world.street,
        activated_at=local(2026, 10, 20, 14, 0),
        stood_down_at=local(2026, 10, 20, 16, 0),
    )
    make_activation(
        other_plan,
        world.other_community,
        activated_at=local(2026, 10, 12, 9, 0),
        stood_down_at=local(2026, 10, 12, 10, 0),
        is_drill=False,
    )
    september = make_activation(
        plan,
        world.community,
        activated_at=local(2026, 9, 28, 9, 0),
        stood_down_at=local(2026, 9, 28, 10, 0),
    )
    return {"drill": drill, "street_drill": street_drill, "september": september}


# ---------------------------------------------------------------------------------------
# Periods


def test_a_month_is_its_local_calendar_month():
    period = period_parse("month", "2026-10")

    assert (period.kind, period.label, period.days) == ("month", "2026-10", 31)
    assert period.start == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert period.title == "October 2026"


def test_a_quarter_is_three_local_months():
    period = period_parse("quarter", "2026-Q4")

    assert (period.first_day, period.last_day, period.days) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
        92,
    )
    assert period.title == "Q4 2026"
    assert period_parse("quarter", "2026-Q1").next_day == date(2026, 4, 1)


def test_december_ends_at_the_new_year():
    assert period_parse("month", "2026-12").next_day == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("month", "2026-13", "There is no month 13."),
        ("month", "2026-00", "There is no month 0."),
        ("month", "2026-1", "The month must be written as year-month, e.g. 2026-10"),
        ("month", "2026-Q3", "The month must be written as year-month"),
        ("quarter", "2026-Q5", "There is no quarter 5."),
        ("quarter", "2026-3", "The quarter must be written as year-Q1 to Q4"),
        ("week", "2026-10", "Unknown kind of report “week”: use month or quarter."),
        ("month", "0000-10", "There is no year 0."),
    ],
)
def test_a_bad_period_is_refused_naming_the_part(kind, text, message):
    with pytest.raises(PeriodError) as raised:
        period_parse(kind, text)

    assert message in str(raised.value)


def test_the_page_offers_the_last_twelve_months_and_four_quarters_running_one_first():
    months = recent_periods("month", date(2026, 2, 15))
    quarters = recent_periods("quarter", date(2026, 2, 15))

    assert [period.label for period in months] == [
        "2026-02",
        "2026-01",
        "2025-12",
        "2025-11",
        "2025-10",
        "2025-09",
        "2025-08",
        "2025-07",
        "2025-06",
        "2025-05",
        "2025-04",
        "2025-03",
    ]
    assert [period.label for period in quarters] == ["2026-Q1", "2025-Q4", "2025-Q3", "2025-Q2"]


def test_a_period_not_yet_begun_has_no_report(world):
    with pytest.raises(PeriodError, match="has not begun yet"):
        report_data(world.community, month_period(2026, 12), now=NOW)


# ---------------------------------------------------------------------------------------
# Figures


def test_the_figures_are_computed_live_over_the_month_for_the_unit_and_its_micro_grids(
    october, world
):
    data = report_data(world.community, OCTOBER, now=NOW)

    assert data.measured_until == OCTOBER.end and not data.is_running
    (row,) = data.figures.rows
    assert (row.indicator.code, row.numerator, row.denominator) == ("S_VISIT_30D", 1.0, 3.0)
    assert row.value == pytest.approx(1 / 3)
    assert row.score == pytest.approx(1 / 3 / 0.9)
    assert data.figures.index["structural"] == pytest.approx(1 / 3 / 0.9)
    assert data.figures.index["capacity"] is None
    assert [child.name for child in data.children] == ["第一微网格", "第二微网格"]
    assert [(c.rows[0].numerator, c.rows[0].denominator) for c in data.children] == [
        (1.0, 2.0),
        (0.0, 1.0),
    ]
    assert data.children[1].weakest().score == 0.0


def test_a_street_report_breaks_down_into_communities(october, world):
    data = report_data(world.street, OCTOBER, now=NOW)

    assert data.child_level == "community"
    assert [child.name for child in data.children] == ["A社区", "C社区"]
    assert (data.figures.rows[0].numerator, data.figures.rows[0].denominator) == (2.0, 4.0)


def test_the_trend_is_the_weekly_snapshots_ending_in_the_month(october, world):
    data = report_data(world.community, OCTOBER, now=NOW)

    assert [(p.week_ending, p.overall) for p in data.trend] == [
        (date(2026, 10, 4), 0.25),
        (date(2026, 10, 11), 0.5),
    ]
    assert [(p.unit_name, p.week_ending) for p in data.children_trend] == [
        ("第一微网格", date(2026, 10, 4)),
        ("第一微网格", date(2026, 10, 11)),
    ]


def test_the_emergencies_are_those_of_the_month_inside_or_covering_the_unit(october, world):
    data = report_data(world.community, OCTOBER, now=NOW)

    assert [row.activation for row in data.activations] == [
        october["drill"],
        october["street_drill"],
    ]
    drill = data.activations[0]
    assert (drill.targeted, drill.minutes_to_90, drill.minutes_to_100, drill.help_requests) == (
        2,
        45.0,
        80.5,
        1,
    )


def test_a_running_month_is_measured_up_to_now_from_its_first_day(october, world):
    now = local(2026, 10, 15, 12, 0)

    data = report_data(world.community, OCTOBER, now=now)

    assert data.is_running and data.measured_until == now
    # 101's visit on 10-20 is after "now": nothing visited in the 30 days up to 10-15.
    assert data.figures.rows[0].numerator == 0.0
    assert [row.activation for row in data.activations] == [october["drill"]]


# ---------------------------------------------------------------------------------------
# Workbook


def test_the_workbook_has_the_exact_sheets_and_rows(october, world):
    content = report_xlsx(report_data(world.community, OCTOBER, now=NOW))

    workbook = load_workbook(BytesIO(content))
    assert workbook.sheetnames == ["Indicators", "Index", "Weekly trend", "Emergencies and drills"]
    rows = {name: list(workbook[name].iter_rows(values_only=True)) for name in workbook.sheetnames}
    name = "Households visited in the last 30 days"
    assert rows["Indicators"] == [
        (
            "Unit",
            "Grid path",
            "Code",
            "Indicator",
            "Dimension",
            "Value",
            "Numerator",
            "Denominator",
            "Target",
            "Score",
        ),
        (
            "A社区",
            "/S/B/A/",
            "S_VISIT_30D",
            name,
            "Structural resilience",
            0.3333,
            1,
            3,
            0.9,
            0.3704,
        ),
        (
            "第一微网格",
            "/S/B/A/A1/",
            "S_VISIT_30D",
            name,
            "Structural resilience",
            0.5,
            1,
            2,
            0.9,
            0.5556,
        ),
        ("第二微网格", "/S/B/A/A2/", "S_VISIT_30D", name, "Structural resilience", 0, 0, 1, 0.9, 0),
    ]
    assert rows["Index"] == [
        (
            "Unit",
            "Grid path",
            "Level",
            "Structural resilience",
            "Capacity resilience",
            "Cultural resilience",
            "Overall index",
        ),
        ("A社区", "/S/B/A/", "Community grid", 0.3704, None, None, 0.3704),
        ("第一微网格", "/S/B/A/A1/", "Micro-grid", 0.5556, None, None, 0.5556),
        ("第二微网格", "/S/B/A/A2/", "Micro-grid", 0, None, None, 0),
    ]
    assert rows["Weekly trend"] == [
        (
            "Unit",
            "Grid path",
            "Week ending",
            "Structural resilience",
            "Capacity resilience",
            "Cultural resilience",
            "Overall index",
        ),
        ("A社区", "/S/B/A/", datetime(2026, 10, 4), 0.25, None, None, 0.25),
        ("A社区", "/S/B/A/", datetime(2026, 10, 11), 0.5, None, None, 0.5),
        ("第一微网格", "/S/B/A/A1/", datetime(2026, 10, 4), 0.75, None, None, 0.75),
        ("第一微网格", "/S/B/A/A1/", datetime(2026, 10, 11), 1, None, None, 1),
    ]
    assert rows["Emergencies and drills"] == [
        (
            "Emergency",
            "Kind",
            "Scope",
            "State",
            "Activated at",
            "Stood down at",
            "Targeted households",
            "Households contacted",
            "Share contacted",
            "Minutes to 90% contacted",
            "Minutes to 100% contacted",
            "Help requests",
        ),
        (
            "防汛预案",
            "Drill",
            "A社区",
            "Stood down",
            "2026-10-10 09:00",
            "2026-10-10 11:00",
            2,
            2,
            1,
            45,
            80.5,
            1,
        ),
        (
            "街道防汛预案",
            "Drill",
            "G街道",
            "Stood down",
            "2026-10-20 14:00",
            "2026-10-20 16:00",
            None,
            None,
            None,
            None,
            None,
            None,
        ),
    ]


# ---------------------------------------------------------------------------------------
# PDF


def _pdf_text_streams(content: bytes) -> bytes:
    """Every stream of the PDF decoded (ReportLab writes them ASCII85 over Flate)."""
    decoded = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", content, re.S):
        stream = stream.strip()
        try:
            if stream.endswith(b"~>"):
                stream = base64.a85decode(stream, adobe=True)
            decoded.append(zlib.decompress(stream))
        except (ValueError, zlib.error):
            decoded.append(stream)
    return b"\n".join(decoded)


def _cid_text(text: str) -> bytes:
    """How ReportLab writes `text` in a Unicode CID font: UTF-16BE, PDF-escaped."""
    from reportlab.lib.rl_accel import escapePDF

    return escapePDF(text.encode("utf-16-be")).encode("latin-1")


def test_the_pdf_has_pages_the_chinese_cid_font_and_chinese_text(october, world):
    with translation.override("zh-hans"):
        content = report_pdf(report_data(world.community, OCTOBER, now=NOW))

    assert content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", content)) >= 1
    assert b"/BaseFont /STSong-Light" in content
    text = _pdf_text_streams(content)
    for chinese in ("A社区", "第二微网格", "防汛预案"):
        assert _cid_text(chinese) in text


def test_the_pdf_of_a_month_with_nothing_recorded_still_builds(world):
    content = report_pdf(report_data(world.micro_grid, OCTOBER, now=NOW))

    assert content.startswith(b"%PDF")
    assert _cid_text("No weekly snapshots were taken in this period.") in _pdf_text_streams(content)


# ---------------------------------------------------------------------------------------
# Pages and scope


def test_the_secretary_downloads_the_monthly_pdf_and_workbook(october, world):
    client = client_for(world.users[Role.SECRETARY])

    pdf = client.get(
        reverse("resilience:report_pdf", args=[world.community.pk, "month", "2026-10"])
    )
    xlsx = client.get(
        reverse("resilience:report_xlsx", args=[world.community.pk, "quarter", "2026-Q4"])
    )

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="linli-resilience-A-2026-10.pdf"'
    assert pdf.content.startswith(b"%PDF")
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"] == 'attachment; filename="linli-resilience-A-2026-Q4.xlsx"'
    assert load_workbook(BytesIO(xlsx.content)).sheetnames[0] == "Indicators"


def test_the_pdf_url_is_the_documented_one(world):
    assert (
        reverse("resilience:report_pdf", args=[world.community.pk, "month", "2026-10"])
        == f"/resilience/reports/{world.community.pk}/month/2026-10.pdf"
    )


@pytest.mark.parametrize(
    ("role", "unit", "status"),
    [
        (Role.SECRETARY, "community", 200),
        (Role.SECRETARY, "micro_grid", 200),
        (Role.SECRETARY, "other_community", 404),
        (Role.SECRETARY, "street", 404),
        (Role.MICRO_GRID_LEAD, "micro_grid", 200),
        (Role.MICRO_GRID_LEAD, "community", 404),
        (Role.MICRO_GRID_LEAD, "other_micro_grid", 404),
        (Role.STREET_ADMIN, "other_community", 200),
        (Role.VOLUNTEER, "community", 404),
        (Role.RESIDENT, "building_group", 404),
    ],
)
def test_a_report_outside_the_persons_scope_is_not_found(world, role, unit, status):
    client = client_for(world.users[role])
    grid_unit = getattr(world, unit)

    for name in ("resilience:report_pdf", "resilience:report_xlsx"):
        response = client.get(reverse(name, args=[grid_unit.pk, "month", "2026-10"]))
        assert response.status_code == status, (name, role, unit)


def test_an_anonymous_visitor_is_sent_to_log_in(world):
    response = Client().get(
        reverse("resilience:report_pdf", args=[world.community.pk, "month", "2026-10"])
    )

    assert response.status_code == 302


def test_a_bad_period_is_a_400_naming_the_part(world):
    client = client_for(world.users[Role.SECRETARY])

    month = client.get(
        reverse("resilience:report_pdf", args=[world.community.pk, "month", "2026-13"])
    )
    kind = client.get(
        reverse("resilience:report_xlsx", args=[world.community.pk, "week", "2026-10"])
    )
    future = client.get(
        reverse("resilience:report_pdf", args=[world.community.pk, "month", "2099-01"])
    )

    assert (month.status_code, month.content.decode()) == (400, "There is no month 13.")
    assert kind.status_code == 400 and "“week”" in kind.content.decode()
    assert future.status_code == 400 and "2099-01 has not begun yet" in future.content.decode()


def test_the_reports_page_lists_periods_and_the_after_action_reports_in_scope(october, world):
    client = client_for(world.users[Role.SECRETARY])

    response = client.get(reverse("resilience:reports"))

    assert response.status_code == 200
    page = response.content.decode()
    today = timezone.localdate()
    current = f"{today.year:04d}-{today.month:02d}"
    assert reverse("resilience:report_pdf", args=[world.community.pk, "month", current]) in page
    assert page.count('data-testid="report-pdf-') == 12 + 4
    assert page.count('data-testid="report-xlsx-') == 12 + 4
    for activation in (october["drill"], october["street_drill"], october["september"]):
        assert reverse("emergency:report", args=[activation.pk]) in page
    other = Activation.objects.get(plan__name="C社区预案")
    assert reverse("emergency:report", args=[other.pk]) not in page
    assert f"?unit={world.micro_grid.pk}" in page


def test_the_reports_page_of_a_micro_grid_shows_its_own_periods(world):
    client = client_for(world.users[Role.SECRETARY])

    response = client.get(reverse("resilience:reports") + f"?unit={world.micro_grid.pk}")

    assert response.status_code == 200
    assert f"/resilience/reports/{world.micro_grid.pk}/month/" in response.content.decode()
    assert f"?unit={world.community.pk}" in response.content.decode()


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.RESIDENT, Role.PARTNER_LIAISON])
def test_the_reports_page_is_not_found_for_those_without_the_registry(world, role):
    response = client_for(world.users[role]).get(reverse("resilience:reports"))

    assert response.status_code == 404


def test_the_reports_page_of_a_unit_outside_scope_is_not_found(world):
    client = client_for(world.users[Role.SECRETARY])

    response = client.get(reverse("resilience:reports") + f"?unit={world.other_community.pk}")

    assert response.status_code == 404


def test_the_report_covers_every_indicator_of_the_catalogue_at_the_levels_it_applies_to(
    october, world
):
    # A capacity indicator measured per community only, lower-is-better, in hours.
    engine.register(
        engine.Indicator(
            code="C_TEST_HOURS",
            dimension="capacity",
            name="Test hours",
            formula="",
            source="",
            direction=engine.LOWER,
            target=24.0,
            unit="hours",
            compute=lambda context: {
                path: engine.Measure(36.0, None, 4.0) for path in context.paths
            },
            finest_level="community",
        )
    )

    data = report_data(world.community, OCTOBER, now=NOW)
    workbook = load_workbook(BytesIO(report_xlsx(data)))
    content = _pdf_text_streams(report_pdf(data))

    assert [
        (row[0], row[2], row[5], row[9])
        for row in workbook["Indicators"].iter_rows(min_row=2, values_only=True)
    ] == [
        ("A社区", "S_VISIT_30D", 0.3333, 0.3704),
        ("A社区", "C_TEST_HOURS", 36, 0.6667),
        ("第一微网格", "S_VISIT_30D", 0.5, 0.5556),
        ("第二微网格", "S_VISIT_30D", 0, 0),
    ]
    assert list(workbook["Index"].iter_rows(min_row=2, max_row=2, values_only=True)) == [
        ("A社区", "/S/B/A/", "Community grid", 0.3704, 0.6667, None, 0.5185)
    ]
    assert _cid_text("36 h") in content and _cid_text("of 4") in content
