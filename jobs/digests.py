"""The weekly "what's on" digest for channels linked to a group (`channel digest on`)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.messages import Item, Reply, field_list
from handlers.when import meeting_span
from storage import (
    channels as channel_queries,
    deliveries,
    delivery_keys as keys,
    events as event_queries,
    meetings as meeting_queries,
)
from storage.models import DeliveryKind

DIGEST_DAY, DIGEST_HOUR = 0, 8  # Monday, 08:00 local time


def plan_digests(session: Session, now: datetime, zone_name: str) -> int:
    """On Monday from 08:00 local time, one digest per linked channel that asked for it.
    Every worker may run this: the week is part of the delivery's unique key."""
    zone = ZoneInfo(zone_name)
    local = now.astimezone(zone)
    if local.weekday() != DIGEST_DAY or local.hour < DIGEST_HOUR:
        return 0
    year, week, _ = local.isocalendar()
    until = now + timedelta(days=7)
    made = 0
    for channel in channel_queries.with_digest(session):
        if channel.linked_by_id is None:
            continue
        meetings = meeting_queries.upcoming(session, now, [channel.group_id], until=until)
        events = [e for e in event_queries.upcoming(session, now) if e.starts_at_utc < until]
        items = [
            Item(
                title=f"{m.group.name}: {meeting_span(m.start_local, m.end_local, m.timezone, zone)}",
                fields=field_list(("Where", m.place)),
            )
            for m in meetings
        ]
        items += [
            Item(title=f"Event: {e.title}", text=meeting_span(e.start_local, e.end_local, e.timezone, zone))
            for e in events
        ]
        lead = "This week: " + (f"{len(items)} thing{'s' if len(items) != 1 else ''} on." if items else "nothing on.")
        notice = Reply(lead, title=f"{channel.group.name}: what's on", items=tuple(items))
        made += deliveries.record(
            session,
            DeliveryKind.DIGEST,
            keys.subject(keys.Thing.CHANNEL, channel.id),
            keys.digest_week(year, week),
            [channel.linked_by_id],
            notice.to_data(),
            due_at=now,
            channel=keys.channel(channel.platform, channel.channel),
            not_after=datetime.combine(local.date() + timedelta(days=1), time(), zone),
        )
    return made
