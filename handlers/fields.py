"""Field readers shared by the forms: days, times, links, counts, free text."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Optional
from urllib.parse import urlparse

from core.forms import FieldError, Values
from handlers.base import Context
from handlers.when import DateError, format_day, format_moment, parse_day, parse_moment, parse_time_range
from storage.wallclock import to_utc


def today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.zone).date()


def read_text(text: str, ctx: Context, values: Values) -> str:
    """Free text: one line's spaces tidied; several lines kept as written."""
    return " ".join(text.split()) if "\n" not in text else text.strip()


def read_future_day(text: str, ctx: Context, values: Values) -> str:
    try:
        day = parse_day(text, today(ctx))
    except DateError as exc:
        raise FieldError(str(exc)) from None
    if day < today(ctx):
        raise FieldError(f"{format_day(datetime.combine(day, time()))} is in the past; please give a day to come.")
    return day.isoformat()


def read_times(text: str, ctx: Context, values: Values) -> dict[str, str]:
    try:
        start, end = parse_time_range(text)
    except DateError as exc:
        raise FieldError(str(exc)) from None
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


def read_link(text: str, ctx: Optional[Context] = None, values: Optional[Values] = None) -> str:
    link = text.strip().strip("<>")
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or "." not in parsed.netloc or " " in link:
        raise FieldError(
            f"“{link[:60]}” isn't a web link; it should start with https://, "
            "e.g. https://teams.microsoft.com/l/meetup-join/..."
        )
    return link


UNLIMITED_WORDS = {"unlimited", "no limit", "none", "any", "no", "infinite", "∞"}


def read_capacity(text: str, ctx: Context, values: Values) -> Optional[int]:
    """A number of places, or None for unlimited."""
    words = text.strip().lower().replace(",", "")
    if words in UNLIMITED_WORDS:
        return None
    if not words.isdigit():
        raise FieldError(f"“{text.strip()[:30]}” isn't a number of places; say a number like 40, or `unlimited`.")
    places = int(words)
    if not 1 <= places <= 100_000:
        raise FieldError("A capacity is between 1 and 100,000 places (or `unlimited`).")
    return places


def as_moment(instant: Optional[datetime], ctx: Context) -> Optional[dict[str, str]]:
    """An instant as a form keeps it: the UTC ISO text, and how to show it."""
    return None if instant is None else _kept(instant, ctx)


def _kept(instant: datetime, ctx: Context) -> dict[str, str]:
    return {"utc": instant.isoformat(), "shown": format_moment(instant.astimezone(ctx.zone))}


def moment_of(value: Optional[dict[str, str]]) -> Optional[datetime]:
    return datetime.fromisoformat(value["utc"]) if value else None


def read_moment(text: str, ctx: Context, default_time: time, default_day: Optional[date] = None) -> dict[str, str]:
    """'8 May 2027 17:00', '8 May', 'now': the UTC instant, and how to show it. A time alone
    ('17:00') is on `default_day`; without one it is refused."""
    words = " ".join(text.lower().split())
    if words in ("now", "today", "immediately", "straight away"):
        return _kept(ctx.now, ctx)
    try:
        moment = parse_moment(words, today(ctx), default_time, default_day)
    except DateError:
        raise FieldError(f"I couldn't read “{text.strip()[:40]}” as a day and time, e.g. “8 May 2027 17:00”.") from None
    return _kept(to_utc(moment.start, ctx.settings.timezone), ctx)


def show_day(value: str) -> str:
    return format_day(datetime.fromisoformat(value))


def show_span(value: dict[str, Any]) -> str:
    return f"{value['start']}–{value['end']}"
