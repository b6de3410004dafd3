"""Meetings and recurring series: local wall time + zone + RFC 5545 rule, expanded to rows."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Optional

from dateutil.rrule import rrulestr
from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import Session

from storage import groups as group_queries
from storage.models import Group, Meeting, MeetingSeries, MeetingStatus, utcnow
from storage.wallclock import to_utc

# A series is materialised this far ahead; the rest is made as time goes by.
MATERIALISE_AHEAD = timedelta(days=2 * 366)
MAX_OCCURRENCES = 200


def set_times(meeting: Meeting, start_local: datetime, end_local: datetime, zone: str) -> None:
    """The one place a meeting's time changes, so that its UTC instant always agrees."""
    if end_local <= start_local:
        raise ValueError("a meeting must end after it starts")
    meeting.start_local = start_local
    meeting.end_local = end_local
    meeting.timezone = zone
    meeting.starts_at_utc = to_utc(start_local, zone)


def occurrences(series: MeetingSeries, until_local: datetime) -> list[datetime]:
    """The series' local start times up to `until_local` (at most MAX_OCCURRENCES).

    The rule runs over naive wall time, so a 10:00 meeting stays at 10:00 in summer and
    winter; to_utc settles times that the clock change skips or repeats.
    """
    rule = rrulestr(series.rrule, dtstart=series.first_start_local)
    starts: list[datetime] = []
    for start in rule:
        if start > until_local or len(starts) >= MAX_OCCURRENCES:
            break
        starts.append(start)
    return starts


def add_series(session: Session, series: MeetingSeries, until_local: datetime) -> list[Meeting]:
    """Store a series and its occurrences up to `until_local`."""
    session.add(series)
    made = []
    duration = timedelta(minutes=series.duration_minutes)
    for start in occurrences(series, until_local):
        meeting = Meeting(
            group=series.group,
            series=series,
            occurrence_local=start,
            title=series.title,
            place=series.place,
            online_url=series.online_url,
            agenda=series.agenda,
            status=MeetingStatus.SCHEDULED,
        )
        set_times(meeting, start, start + duration, series.timezone)
        session.add(meeting)
        made.append(meeting)
    session.flush()
    return made


def _with_groups(session: Session, meetings: list[Meeting]) -> list[Meeting]:
    """The meetings, their groups in the session from the catalogue (storage.groups: no statement
    when the request has read the stamp), so that `meeting.group` finds its group in the session."""
    if meetings:
        group_queries.attached(session, {m.group_id for m in meetings})
    return meetings


def count_upcoming(session: Session, now: datetime, group_ids: Iterable[int], until: Optional[datetime] = None) -> int:
    query = (
        select(func.count())
        .select_from(Meeting)
        .where(
            Meeting.starts_at_utc >= now,
            Meeting.group_id.in_(list(group_ids)),
            Meeting.status == MeetingStatus.SCHEDULED,
        )
    )
    if until is not None:
        query = query.where(Meeting.starts_at_utc < until)
    return session.execute(query).scalar_one()


def upcoming(
    session: Session,
    now: datetime,
    group_ids: Optional[Iterable[int]] = None,
    limit: Optional[int] = None,
    until: Optional[datetime] = None,
    include_cancelled: bool = False,
) -> list[Meeting]:
    """Meetings starting at or after `now` (and before `until`), soonest first."""
    query = _upcoming_query(group_ids is not None, until is not None, include_cancelled, limit is not None)
    parameters: dict[str, Any] = {"u_now": now}
    if group_ids is not None:
        parameters["u_groups"] = list(group_ids)
    if until is not None:
        parameters["u_until"] = until
    if limit is not None:
        parameters["u_limit"] = limit
    return _with_groups(session, list(session.execute(query, parameters).scalars()))


@functools.cache
def _upcoming_query(by_group: bool, until: bool, include_cancelled: bool, limited: bool) -> Any:
    """upcoming's statement, built once per shape (most requests ask for one)."""
    query = (
        select(Meeting).where(Meeting.starts_at_utc >= bindparam("u_now")).order_by(Meeting.starts_at_utc, Meeting.id)
    )
    if by_group:
        query = query.where(Meeting.group_id.in_(bindparam("u_groups", expanding=True)))
    if until:
        query = query.where(Meeting.starts_at_utc < bindparam("u_until"))
    if not include_cancelled:
        query = query.where(Meeting.status == MeetingStatus.SCHEDULED)
    if limited:
        query = query.limit(bindparam("u_limit", type_=Integer))
    return query


def group_meetings(session: Session, group: Group) -> list[Meeting]:
    return list(
        session.execute(select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.starts_at_utc)).scalars()
    )


def by_ids(session: Session, meeting_ids: Iterable[int]) -> dict[int, Meeting]:
    """These meetings (those that exist), with their groups."""
    ids = list(meeting_ids)
    if not ids:
        return {}
    found = _with_groups(session, list(session.execute(select(Meeting).where(Meeting.id.in_(ids))).scalars()))
    return {m.id: m for m in found}


def get(session: Session, meeting_id: int) -> Optional[Meeting]:
    meeting = session.execute(select(Meeting).where(Meeting.id == meeting_id)).scalar_one_or_none()
    return _with_groups(session, [meeting])[0] if meeting is not None else None


def add_meeting(
    session: Session,
    group: Group,
    title: str,
    start_local: datetime,
    end_local: datetime,
    zone: str,
    place: Optional[str],
    online_url: Optional[str],
    agenda: Optional[str],
) -> Meeting:
    meeting = Meeting(
        group=group, title=title, place=place, online_url=online_url, agenda=agenda, status=MeetingStatus.SCHEDULED
    )
    set_times(meeting, start_local, end_local, zone)
    session.add(meeting)
    session.flush()
    return meeting


def lock(session: Session, meeting: Meeting) -> None:
    """Serialise changes to one meeting (PostgreSQL row lock; SQLite writes are serial) and
    re-read it, so that two chairs moving it at once end with one sequence per change."""
    session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())
    session.refresh(meeting)


def _changed(meeting: Meeting) -> None:
    meeting.sequence = (meeting.sequence or 0) + 1
    meeting.updated_at = utcnow()


def move(meeting: Meeting, start_local: datetime, end_local: datetime) -> None:
    set_times(meeting, start_local, end_local, meeting.timezone)
    _changed(meeting)


def cancel(meeting: Meeting) -> None:
    meeting.status = MeetingStatus.CANCELLED
    _changed(meeting)


def later_in_series(session: Session, meeting: Meeting) -> list[Meeting]:
    """The scheduled occurrences of the meeting's series that come after it."""
    if meeting.series_id is None:
        return []
    return list(
        session.execute(
            select(Meeting)
            .where(
                Meeting.series_id == meeting.series_id,
                Meeting.starts_at_utc > meeting.starts_at_utc,
                Meeting.status == MeetingStatus.SCHEDULED,
            )
            .order_by(Meeting.starts_at_utc)
        ).scalars()
    )
