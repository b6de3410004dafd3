"""Local wall time in a named zone <-> UTC instants, across the clock changes."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dateutil import tz


def to_utc(local: datetime, zone_name: str) -> datetime:
    """The UTC instant of a naive local wall time in `zone_name`.

    A time that does not exist (skipped when clocks go forward, e.g. 01:30 on 2026-03-29 in
    London) moves forward by the gap, as calendar programs do; a time that exists twice (when
    clocks go back) is the first of the two.
    """
    if local.tzinfo is not None:
        raise ValueError("to_utc expects a naive local wall time")
    aware = tz.resolve_imaginary(local.replace(tzinfo=ZoneInfo(zone_name), fold=0))
    return aware.astimezone(timezone.utc)


def to_local(instant: datetime, zone_name: str) -> datetime:
    """The aware local time of a UTC instant in `zone_name`."""
    return instant.astimezone(ZoneInfo(zone_name))


def exists(local: datetime, zone_name: str) -> bool:
    return tz.datetime_exists(local.replace(tzinfo=ZoneInfo(zone_name)))


def is_ambiguous(local: datetime, zone_name: str) -> bool:
    """Whether the wall time happens twice (clocks going back). A skipped time is not."""
    aware = local.replace(tzinfo=ZoneInfo(zone_name))
    return tz.datetime_exists(aware) and tz.datetime_ambiguous(aware)
