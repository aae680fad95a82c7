"""The public activity calendar: a month's dates with their places and sign-up counts, never
who signed up, and a way to log in to sign up."""

from datetime import datetime, timedelta

import pytest

from linli.accounts.roles import Role
from linli.demo.participation import demo_participation
from linli.participation.activities.models import Occurrence
from linli.participation.activities.services import (
    activity_create,
    occurrence_cancel,
    signup_create,
)
from linli.public import selectors
from linli.public.selectors import recurrence_words
from linli.public.tests.conftest import NOW, SHANGHAI, turn_on
from linli.testing.clients import client_for


def calendar_html(world, query: str = "") -> str:
    response = client_for(None).get(f"/public/{world.community.pk}/activities/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_calendar_lists_the_coming_dates_with_time_place_series_and_places_taken(world, clock):
    demo_participation(community=world.community)
    turn_on(world, cases_board=False)
    html = calendar_html(world)
    assert "Activity calendar · Coming activities" in html
    # The action day on twelve Thursdays from tomorrow, the service fair on Saturday.
    assert html.count('data-testid="public-occurrence"') == 13
    assert html.index("2025-06-19") < html.index("2025-06-21") < html.index("2025-09-04")
    assert "周四行动日：清洁家园" in html and "便民集市" in html
    assert "09:00–11:00" in html and "09:00–12:00" in html
    assert "共享客厅 · 中心花园" in html
    assert "Every week on Thursday, 12 times in all" in html
    # The demo resident signed up for the first Thursday: counted, never named.
    assert "1 of 30 places taken" in html
    assert "0 of 40 places taken" in html
    resident = world.users[Role.RESIDENT]
    for name in ["张桂英", f">{resident.display_name}<", resident.username + "<"]:
        assert name not in html
    first = Occurrence.objects.order_by("starts_at").first()
    assert f'href="/login/?next=/activities/{first.pk}/"' in html
    assert html.count('data-testid="login-to-sign-up"') == 13
    assert 'href="?month=2025-06" data-testid="this-month"' in html
    assert 'href="?month=2025-07" data-testid="next-month"' in html


def test_a_month_lists_its_dates(world, clock):
    demo_participation(community=world.community)
    turn_on(world)
    html = calendar_html(world, "?month=2025-06")
    assert "Activity calendar · 2025-06" in html
    # June: the action day on the 19th and 26th, the service fair on the 21st.
    assert html.count('data-testid="public-occurrence"') == 3
    assert 'href="?" data-testid="coming"' in html


def test_another_month_is_asked_for_by_its_number(world, clock):
    demo_participation(community=world.community)
    turn_on(world)
    html = calendar_html(world, "?month=2025-07")
    assert html.count('data-testid="public-occurrence"') == 5  # Thursdays 3, 10, 17, 24, 31
    assert 'href="?month=2025-06"' in html and 'href="?month=2025-08"' in html
    assert calendar_html(world, "?month=2025-05").count('data-testid="public-occurrence"') == 0


def test_ended_and_cancelled_dates_say_so_and_offer_no_sign_up(world, clock):
    secretary = world.users[Role.SECRETARY]
    earlier = NOW.replace(day=2, hour=9)
    activity_create(
        actor=secretary,
        organiser=world.community,
        kind="training",
        title="急救培训",
        capacity=2,
        starts_at=earlier,
        ends_at=earlier + timedelta(hours=1),
    )
    later = datetime(2025, 6, 28, 15, 0, tzinfo=SHANGHAI)
    fair = activity_create(
        actor=secretary,
        organiser=world.micro_grid,
        kind="culture",
        title="纳凉晚会",
        capacity=1,
        starts_at=later,
        ends_at=later + timedelta(hours=2),
    )
    occurrence = fair.occurrences.get()
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=world.users[Role.VOLUNTEER])
    turn_on(world)
    html = calendar_html(world, "?month=2025-06")
    assert "Ended" in html
    assert "Full: waitlist open" in html
    assert "1 of 1 places taken · 1 on the waitlist" in html
    assert html.count('data-testid="login-to-sign-up"') == 1
    occurrence_cancel(occurrence=occurrence, actor=secretary, reason="暴雨预警")
    assert "纳凉晚会" not in calendar_html(world)
    html = calendar_html(world, "?month=2025-06")
    assert "Cancelled" in html
    assert "暴雨预警" not in html
    assert html.count('data-testid="login-to-sign-up"') == 0


def test_a_phone_number_in_a_title_is_masked(world, clock):
    start = NOW + timedelta(days=3)
    activity_create(
        actor=world.users[Role.SECRETARY],
        organiser=world.community,
        kind="culture",
        title="合唱排练 联系13812341234",
        capacity=20,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    turn_on(world)
    html = calendar_html(world)
    assert "13812341234" not in html
    assert "合唱排练 联系138****1234" in html


def test_activities_of_another_community_are_not_listed(world, clock):
    start = NOW + timedelta(days=1)
    activity_create(
        actor=world.users[Role.STREET_ADMIN],
        organiser=world.other_community,
        kind="culture",
        title="C社区读书会",
        capacity=20,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    turn_on(world)
    assert "C社区读书会" not in calendar_html(world)
    assert selectors.upcoming_occurrences(community=world.community) == []


@pytest.mark.parametrize("month", ["2025-13", "June", "1999-12", "2025-6-1"])
def test_a_month_that_is_not_one_is_refused_naming_the_field(world, clock, month):
    turn_on(world)
    response = client_for(None).get(f"/public/{world.community.pk}/activities/?month={month}")
    assert response.status_code == 400
    assert "Give the month as YYYY-MM, between 2000 and 2100." in response.content.decode()


@pytest.mark.parametrize(
    ("rrule", "words"),
    [
        ("", ""),
        ("FREQ=WEEKLY;BYDAY=TH;COUNT=12", "Every week on Thursday, 12 times in all"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "Every 2 weeks on Tuesday, Thursday"),
        ("FREQ=WEEKLY", "Every week on Wednesday"),
        ("FREQ=DAILY;COUNT=5", "Every day, 5 times in all"),
        ("FREQ=DAILY;INTERVAL=3", "Every 3 days"),
        ("FREQ=MONTHLY;UNTIL=20251231T000000Z", "Every month, until 2025-12-31"),
        ("FREQ=YEARLY", "Every year"),
        ("RRULE:FREQ=WEEKLY;BYDAY=SA", "Every week on Saturday"),
        ("FREQ=MONTHLY;BYDAY=1MO", "Repeats on a schedule"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "Repeats on a schedule"),
        ("FREQ=WEEKLY;INTERVAL=0", "Repeats on a schedule"),
    ],
)
def test_a_series_repeat_rule_reads_in_words(rrule, words, english):
    assert recurrence_words(rrule, first_start=NOW) == words
