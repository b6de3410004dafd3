"""Local wall time in Europe/London <-> UTC, across the 2026 and 2027 clock changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from storage.wallclock import exists, is_ambiguous, to_local, to_utc

LONDON = "Europe/London"
UTC = timezone.utc

# (clocks go forward, clocks go back) in London: last Sunday of March and of October, 01:00 UTC.
SPRING_FORWARD = [datetime(2026, 3, 29), datetime(2027, 3, 28)]
FALL_BACK = [datetime(2026, 10, 25), datetime(2027, 10, 31)]


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@pytest.mark.parametrize(
    "local, expected",
    [
        # the day before, of, and after each change: 10:00 local
        (datetime(2026, 3, 28, 10), datetime(2026, 3, 28, 10, tzinfo=UTC)),
        (datetime(2026, 3, 29, 10), datetime(2026, 3, 29, 9, tzinfo=UTC)),
        (datetime(2026, 3, 30, 10), datetime(2026, 3, 30, 9, tzinfo=UTC)),
        (datetime(2026, 10, 24, 10), datetime(2026, 10, 24, 9, tzinfo=UTC)),
        (datetime(2026, 10, 25, 10), datetime(2026, 10, 25, 10, tzinfo=UTC)),
        (datetime(2026, 10, 26, 10), datetime(2026, 10, 26, 10, tzinfo=UTC)),
        (datetime(2027, 3, 27, 10), datetime(2027, 3, 27, 10, tzinfo=UTC)),
        (datetime(2027, 3, 28, 10), datetime(2027, 3, 28, 9, tzinfo=UTC)),
        (datetime(2027, 10, 30, 10), datetime(2027, 10, 30, 9, tzinfo=UTC)),
        (datetime(2027, 10, 31, 10), datetime(2027, 10, 31, 10, tzinfo=UTC)),
        # midwinter and midsummer
        (datetime(2026, 12, 25, 10), datetime(2026, 12, 25, 10, tzinfo=UTC)),
        (datetime(2027, 7, 1, 10), datetime(2027, 7, 1, 9, tzinfo=UTC)),
    ],
)
def test_ten_o_clock_local_is_ten_utc_in_winter_and_nine_in_summer(local, expected):
    result = to_utc(local, LONDON)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize("day", SPRING_FORWARD)
def test_spring_forward_skips_one_thirty(day):
    skipped = at(day, 1, 30)
    assert not exists(skipped, LONDON)
    # moved forward by the gap: 01:30 UTC, which is 02:30 BST
    assert to_utc(skipped, LONDON) == skipped.replace(tzinfo=UTC)
    assert to_local(to_utc(skipped, LONDON), LONDON).replace(tzinfo=None) == at(day, 2, 30)
    # the times either side of the gap exist: 00:59 GMT and 02:00 BST are one minute apart
    assert exists(at(day, 0, 59), LONDON) and exists(at(day, 2, 0), LONDON)
    assert to_utc(at(day, 2, 0), LONDON) - to_utc(at(day, 0, 59), LONDON) == timedelta(minutes=1)
    assert to_utc(at(day, 2, 0), LONDON) == at(day, 1, 0).replace(tzinfo=UTC)
    assert to_utc(at(day, 0, 30), LONDON) == at(day, 0, 30).replace(tzinfo=UTC)


@pytest.mark.parametrize("day", FALL_BACK)
def test_fall_back_one_thirty_is_ambiguous_and_resolves_to_the_first_instant(day):
    repeated = at(day, 1, 30)
    assert exists(repeated, LONDON)
    assert is_ambiguous(repeated, LONDON)
    # the first 01:30 is still BST: 00:30 UTC (the second would be 01:30 UTC)
    assert to_utc(repeated, LONDON) == at(day, 0, 30).replace(tzinfo=UTC)
    # an hour later on the wall is two hours later in fact
    assert to_utc(at(day, 2, 30), LONDON) - to_utc(repeated, LONDON) == timedelta(hours=2)


@pytest.mark.parametrize("day", SPRING_FORWARD + FALL_BACK)
def test_ordinary_times_on_change_days_are_neither_skipped_nor_repeated(day):
    for hour in (0, 3, 10, 23):
        local = at(day, hour)
        assert exists(local, LONDON)
        assert not is_ambiguous(local, LONDON)


@pytest.mark.parametrize("day", SPRING_FORWARD)
def test_a_skipped_time_is_not_ambiguous(day):
    # 01:30 on a spring-forward day never happens; it cannot happen twice.
    assert not is_ambiguous(at(day, 1, 30), LONDON)


def test_to_utc_rejects_aware_datetimes():
    with pytest.raises(ValueError):
        to_utc(datetime(2026, 11, 25, 10, tzinfo=UTC), LONDON)
    with pytest.raises(ValueError):
        to_utc(datetime(2026, 11, 25, 10, tzinfo=ZoneInfo(LONDON)), LONDON)


def test_to_utc_ignores_a_caller_fold():
    # The documented rule is "the first of the two", whatever fold the caller passes.
    second = datetime(2026, 10, 25, 1, 30, fold=1)
    assert to_utc(second, LONDON) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_to_utc_unknown_zone_is_an_error():
    with pytest.raises(ZoneInfoNotFoundError):
        to_utc(datetime(2026, 11, 25, 10), "Europe/Atlantis")


def test_to_local_round_trips_every_existing_hour_of_a_year():
    # Every existing wall time maps to an instant that maps back to the same wall time.
    local = datetime(2026, 1, 1, 0, 30)
    while local < datetime(2028, 1, 1):
        if exists(local, LONDON):
            back = to_local(to_utc(local, LONDON), LONDON)
            assert back.replace(tzinfo=None) == local, local
        local += timedelta(hours=1)
