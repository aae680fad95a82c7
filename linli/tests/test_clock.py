"""The one clock (linli.clock) and the suite's moved clock (LINLI_TEST_CLOCK)."""

import os
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from linli import clock
from linli.conftest import TEST_CLOCK_VARIABLE, parse_test_clock

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_pinning_the_clock_moves_now_and_localdate():
    moment = datetime(2027, 2, 8, 9, 30, tzinfo=SHANGHAI)  # Spring Festival 2027, morning
    with time_machine.travel(moment, tick=False):
        assert clock.now() == moment
        assert clock.now().utcoffset() == timedelta(0)
        assert clock.localdate() == datetime(2027, 2, 8).date()
        assert clock.localtime() == moment
        assert clock.localtime().tzinfo == SHANGHAI


def test_the_local_date_turns_at_shanghai_midnight_not_utc_midnight():
    # 16:00 UTC is midnight in Shanghai: the UTC date is still the old year's last day.
    with time_machine.travel(datetime(2027, 12, 31, 15, 59, 59, tzinfo=UTC), tick=False):
        assert clock.localdate() == datetime(2027, 12, 31).date()
        assert clock.localtime().hour == 23
    with time_machine.travel(datetime(2027, 12, 31, 16, 0, tzinfo=UTC), tick=False):
        assert clock.now().date() == datetime(2027, 12, 31).date()
        assert clock.localdate() == datetime(2028, 1, 1).date()
        assert (clock.localtime().hour, clock.localtime().minute) == (0, 0)


def test_localtime_of_a_given_moment_ignores_the_clock():
    moment = datetime(2027, 10, 1, 1, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2030, 6, 1, tzinfo=UTC), tick=False):
        assert clock.localtime(moment) == datetime(2027, 10, 1, 9, 0, tzinfo=SHANGHAI)


def test_a_ticking_clock_runs_on_from_where_it_was_pinned():
    moment = datetime(2027, 10, 1, 8, 0, tzinfo=SHANGHAI)  # National Day
    with time_machine.travel(moment, tick=True):
        first = clock.now()
        time.sleep(0.01)
        second = clock.now()
    assert moment <= first < second < moment + timedelta(minutes=1)


def test_the_suite_runs_at_the_moment_linli_test_clock_names():
    # In the shifted run of `make test` this proves the suite really ran at the other moment;
    # in a plain run, that it ran at the real one. The escape hatch reads the real clock.
    value = os.environ.get(TEST_CLOCK_VARIABLE, "").strip()
    travelling = time_machine.escape_hatch.is_travelling()
    real = datetime.fromtimestamp(
        time_machine.escape_hatch.time.time() if travelling else time.time(), UTC
    )
    destination = parse_test_clock(value) if value else timedelta(0)
    expected = real + destination if isinstance(destination, timedelta) else destination
    assert travelling == bool(value)
    assert abs(clock.now() - expected) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+365d", timedelta(days=365)),
        ("-12h", timedelta(hours=-12)),
        ("+1w2d30m", timedelta(weeks=1, days=2, minutes=30)),
        ("2027-12-31T23:50:00+08:00", datetime(2027, 12, 31, 23, 50, tzinfo=SHANGHAI)),
        ("2027-10-01T09:00", datetime(2027, 10, 1, 9, 0, tzinfo=SHANGHAI)),
    ],
)
def test_linli_test_clock_takes_a_moment_or_a_shift(value, expected):
    assert parse_test_clock(value) == expected


@pytest.mark.parametrize("value", ["365d", "+365", "tomorrow", "2027-13-01"])
def test_linli_test_clock_refuses_anything_else(value):
    with pytest.raises(ValueError, match="LINLI_TEST_CLOCK"):
        parse_test_clock(value)
