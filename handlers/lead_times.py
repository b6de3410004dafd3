"""Lead times: how long before a meeting or event a reminder comes ('7 days', '2 hours'), and
when that is, on the wall clock for days and in real time for hours."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from handlers.when import DateError
from storage.wallclock import to_utc

DEFAULT_LEADS = ("7d", "1d")
MAX_LEAD = timedelta(days=28)

LEAD = re.compile(r"^(\d{1,3})\s*(d|days?|h|hours?|hrs?|m|mins?|minutes?|w|weeks?)$")
UNIT_NAMES = {"w": "week", "d": "day", "h": "hour", "m": "minute"}


def parse_lead(words: str) -> str:
    """'7 days' -> '7d', '2 hours' -> '2h', 'a week' -> '1w'."""
    text = " ".join(words.lower().replace("an ", "1 ").replace("a ", "1 ").split())
    match = LEAD.match(text)
    if not match:
        raise DateError(f"“{words.strip()[:30]}” isn't a lead time; say e.g. `7 days`, `1 day` or `2 hours`.")
    lead = f"{int(match[1])}{match[2][0]}"
    if not timedelta(minutes=5) <= lead_delta(lead) <= MAX_LEAD:
        raise DateError("A reminder can come between 5 minutes and 4 weeks before.")
    return lead


def lead_delta(lead: str) -> timedelta:
    amount, unit = int(lead[:-1]), lead[-1]
    return {
        "w": timedelta(weeks=amount),
        "d": timedelta(days=amount),
        "h": timedelta(hours=amount),
        "m": timedelta(minutes=amount),
    }[unit]


def lead_text(lead: str) -> str:
    amount, unit = int(lead[:-1]), UNIT_NAMES[lead[-1]]
    return f"{amount} {unit}{'s' if amount != 1 else ''}"


def due_before(start_local: datetime, zone: str, lead: str) -> datetime:
    """When a reminder `lead` before a local start is due, as a UTC instant.

    Days and weeks are counted on the wall clock: "7 days before 10:00" is 10:00 a week
    earlier, whatever the clocks did in between. Hours and minutes are counted in real time.
    """
    if lead[-1] in ("d", "w"):
        return to_utc(start_local - lead_delta(lead), zone)
    return to_utc(start_local, zone) - lead_delta(lead)
