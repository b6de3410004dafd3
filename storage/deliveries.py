"""Recording the messages the bot starts itself: one Delivery row per recipient, sent later."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Optional, cast

from sqlalchemy import CursorResult, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from storage import delivery_keys as keys
from storage.db import among, insert_for
from storage.models import (
    Announcement,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Event,
    EventStatus,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Person,
    PlatformIdentity,
    utcnow,
)


def record(
    session: Session,
    kind: DeliveryKind,
    subject: str,
    occurrence: str,
    recipient_ids: Iterable[int],
    payload: dict[str, Any],
    due_at: datetime,
    channel: str = keys.DIRECT,
    not_after: Optional[datetime] = None,
) -> int:
    """Add a pending delivery for each recipient; ones that exist already are left alone.

    Returns how many were new. Runs in the caller's transaction, so the notice exists exactly
    when the change that caused it does.
    """
    kind = DeliveryKind(kind)  # a kind the enum doesn't know fails here, not at the database's CHECK
    rows = [
        {
            "kind": kind,
            "subject": subject,
            "occurrence": occurrence,
            "recipient_id": recipient_id,
            "channel": channel,
            "payload": payload,
            "due_at": due_at,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "created_at": utcnow(),
            "not_after": not_after,
        }
        for recipient_id in sorted(set(recipient_ids))
    ]
    if not rows:
        return 0
    # Parameters for an executemany (batched by SQLAlchemy's insertmanyvalues): one VALUES clause
    # with a row per recipient took seconds to compile for a group of thousands.
    statement = (
        insert_for(session, Delivery)
        .on_conflict_do_nothing(index_elements=["kind", "subject", "occurrence", "recipient_id", "channel"])
        .returning(Delivery.id)
    )
    return len(session.execute(statement, rows).all())


def get(session: Session, delivery_id: int) -> Optional[Delivery]:
    return session.get(Delivery, delivery_id)


def pending_of_kind(session: Session, kind: DeliveryKind, recipient_id: int) -> list[Delivery]:
    """What waits to go to the person, of this kind, soonest first."""
    return list(
        session.execute(
            select(Delivery)
            .where(
                Delivery.kind == kind, Delivery.recipient_id == recipient_id, Delivery.status == DeliveryStatus.PENDING
            )
            .order_by(Delivery.due_at)
        ).scalars()
    )


def for_subject(session: Session, subject: str) -> list[Delivery]:
    return list(session.execute(select(Delivery).where(Delivery.subject == subject).order_by(Delivery.id)).scalars())


class Claim(NamedTuple):
    """A claimed delivery, as the claim's UPDATE returned it (no ORM object: a batch is hundreds)."""

    id: int
    kind: DeliveryKind
    recipient_id: int
    channel: str
    payload: Any
    attempts: int
    due_at: datetime
    not_after: Optional[datetime]
    last_error: Optional[str]


# Left on a delivery sent back to the queue because its rate-limit bucket had no token yet: its
# token was reserved for its new due time (storage.ratelimit.reserve), so it doesn't take another.
RATE_WAIT = "waiting for the rate limit"

_TABLE = cast(Table, Delivery.__table__)  # Core statements: no ORM objects for a batch


def claim(
    session: Session,
    owner: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    cutoffs: dict[DeliveryKind, timedelta],
    default_cutoff: timedelta,
) -> tuple[list[Claim], int]:
    """Take up to `limit` due deliveries (or ones whose sender's lease ran out) for `owner`.

    One UPDATE … WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING …: on
    PostgreSQL, SKIP LOCKED lets replicas claim side by side without waiting for or taking each
    other's rows; on SQLite the transaction holds the write lock, so claims are serial. A
    delivery past its cut-off or its `not_after` is then marked skipped, with the reason (one
    more UPDATE), instead of being sent late. Returns the claimed deliveries, oldest due first,
    and how many rows were looked at (skipped ones included), so that a caller can tell a full
    batch of stale rows from an empty queue.
    """
    due = (
        select(Delivery.id)
        .where(
            or_(
                and_(Delivery.status == DeliveryStatus.PENDING, Delivery.due_at <= now),
                and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_expires_at < now),
            )
        )
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    table = _TABLE
    taken = session.execute(
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING, lease_owner=owner, lease_expires_at=now + lease)
        .returning(*(table.c[name] for name in Claim._fields))
    ).all()
    rows = sorted((Claim(*row) for row in taken), key=lambda c: (c.due_at, c.id))  # RETURNING keeps no order
    stale: dict[str, list[int]] = {}
    claimed = []
    for row in rows:
        too_old = row.due_at < now - cutoffs.get(row.kind, default_cutoff)
        if too_old or (row.not_after is not None and row.not_after <= now):
            stale.setdefault("too late to send" if too_old else "its moment has passed", []).append(row.id)
        else:
            claimed.append(row)
    if stale:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("d_id"))
            .values(
                status=DeliveryStatus.SKIPPED, last_error=bindparam("d_error"), lease_owner=None, lease_expires_at=None
            ),
            [{"d_id": i, "d_error": reason} for reason, ids in stale.items() for i in ids],
        )
    return claimed, len(rows)


def _leased(delivery_id: int, owner: str):
    return update(Delivery).where(
        Delivery.id == delivery_id, Delivery.lease_owner == owner, Delivery.status == DeliveryStatus.SENDING
    )


def _end_lease(session: Session, delivery_id: int, owner: str, **values: Any) -> bool:
    """Set the outcome, if `owner` still holds the lease; False means another dispatcher took it over."""
    ended = _leased(delivery_id, owner).values(lease_owner=None, lease_expires_at=None, **values)
    return session.execute(ended.returning(Delivery.id)).first() is not None


def mark_sent(session: Session, delivery_id: int, owner: str, now: datetime, via: Optional[str] = None) -> bool:
    return _end_lease(
        session, delivery_id, owner, status=DeliveryStatus.SENT, sent_at=now, last_error=None, delivered_via=via
    )


def mark_held(session: Session, delivery_id: int, owner: str, reason: str) -> bool:
    """No configured platform reaches the person: kept for the console, with the reason."""
    return _end_lease(session, delivery_id, owner, status=DeliveryStatus.HELD, last_error=reason[:2000])


def mark_failed(session: Session, delivery_id: int, owner: str, error: str) -> bool:
    return _end_lease(session, delivery_id, owner, status=DeliveryStatus.FAILED, last_error=error[:2000])


def mark_sent_all(session: Session, ids: list[int], owner: str, now: datetime, via: Optional[str]) -> set[int]:
    """Mark many sent at once (one statement); returns the ids whose lease `owner` still held."""
    if not ids:
        return set()
    table = _TABLE
    marked = session.execute(
        update(table)
        .where(among(session, table.c.id, ids), table.c.lease_owner == owner, table.c.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.SENT,
            sent_at=now,
            last_error=None,
            delivered_via=via,
            lease_owner=None,
            lease_expires_at=None,
        )
        .returning(table.c.id)
    )
    return set(marked.scalars())


class Outcome(NamedTuple):
    """How one leased delivery ends for now: its new status, and for pending ones when it is due again."""

    id: int
    status: DeliveryStatus
    error: Optional[str]
    due_at: Optional[datetime] = None  # None: unchanged
    count_attempt: bool = False


def finish_all(session: Session, owner: str, outcomes: list[Outcome]) -> int:
    """End many leases at once (one executemany); returns how many `owner` still held."""
    if not outcomes:
        return 0
    table = _TABLE
    result = cast(
        CursorResult,
        session.execute(
            update(table)
            .where(
                table.c.id == bindparam("d_id"),
                table.c.lease_owner == owner,
                table.c.status == DeliveryStatus.SENDING,
            )
            .values(
                status=bindparam("d_status"),
                last_error=bindparam("d_error"),
                due_at=func.coalesce(bindparam("d_due", type_=table.c.due_at.type), table.c.due_at),
                attempts=table.c.attempts + bindparam("d_attempt"),
                lease_owner=None,
                lease_expires_at=None,
            ),
            [
                {
                    "d_id": o.id,
                    "d_status": o.status,
                    "d_error": o.error[:2000] if o.error else None,
                    "d_due": o.due_at,
                    "d_attempt": 1 if o.count_attempt else 0,
                }
                for o in outcomes
            ],
        ),
    )
    return result.rowcount


def retry_later(
    session: Session, delivery_id: int, owner: str, due_at: datetime, error: str, count_attempt: bool
) -> bool:
    """Back to pending for another try at `due_at`; a rate limit does not use up an attempt."""
    values: dict[str, Any] = dict(
        status=DeliveryStatus.PENDING, due_at=due_at, last_error=error[:2000], lease_owner=None, lease_expires_at=None
    )
    if count_attempt:
        values["attempts"] = Delivery.attempts + 1
    result = session.execute(_leased(delivery_id, owner).values(**values).returning(Delivery.id))
    return result.first() is not None


def withdraw(
    session: Session,
    kind: DeliveryKind,
    subject: str,
    reason: str,
    keep_occurrences: Iterable[str] = (),
    recipient_id: Optional[int] = None,
) -> int:
    """Skip pending deliveries of a kind about a subject (a reminder of a moved meeting)."""
    query = update(Delivery).where(
        Delivery.kind == kind,
        Delivery.subject == subject,
        Delivery.status == DeliveryStatus.PENDING,
    )
    keep = list(keep_occurrences)
    if keep:
        query = query.where(Delivery.occurrence.not_in(keep))
    if recipient_id is not None:
        query = query.where(Delivery.recipient_id == recipient_id)
    result = session.execute(query.values(status=DeliveryStatus.SKIPPED, last_error=reason).returning(Delivery.id))
    return len(result.all())


def counts(session: Session, kind: DeliveryKind, subject: str) -> dict[DeliveryStatus, int]:
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.kind == kind, Delivery.subject == subject)
        .group_by(Delivery.status)
    ).all()
    return {status: n for status, n in rows}


def revive(
    session: Session,
    kind: DeliveryKind,
    subject: str,
    occurrence: str,
    recipient_ids: Iterable[int],
    payload: dict[str, Any],
    due_at: datetime,
    not_after: Optional[datetime],
    reason_prefix: str,
) -> int:
    """Make withdrawn deliveries pending again (a meeting moved back, reminders turned on again):
    their unique key would otherwise keep a new row from being made."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.kind == kind,
            Delivery.subject == subject,
            Delivery.occurrence == occurrence,
            Delivery.recipient_id.in_(list(recipient_ids)),
            Delivery.status == DeliveryStatus.SKIPPED,
            Delivery.last_error.startswith(reason_prefix),
        )
        .values(
            status=DeliveryStatus.PENDING,
            due_at=due_at,
            not_after=not_after,
            payload=payload,
            last_error=None,
            attempts=0,
        )
        .returning(Delivery.id)
    )
    return len(result.all())


def skip_if_pending(session: Session, ids: list[int], reason: str) -> int:
    """Mark these deliveries skipped, those still pending only: one a dispatcher has just claimed
    is on its way, and its outcome must not be overwritten."""
    if not ids:
        return 0
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, last_error=reason)
        .returning(Delivery.id)
    )
    return len(result.all())


class Keyed(NamedTuple):
    """A delivery's key and state, without its message: what planning compares with what it wants."""

    id: int
    kind: DeliveryKind
    subject: str
    occurrence: str
    recipient_id: int
    channel: str
    status: DeliveryStatus
    last_error: Optional[str]


_KEYED = (
    Delivery.id,
    Delivery.kind,
    Delivery.subject,
    Delivery.occurrence,
    Delivery.recipient_id,
    Delivery.channel,
    Delivery.status,
    Delivery.last_error,
)


def keyed_about(session: Session, kinds: Iterable[DeliveryKind], subjects: Iterable[str]) -> list[Keyed]:
    """Every delivery of these kinds about these subjects, whatever its status."""
    kinds, subjects = list(kinds), list(subjects)
    if not kinds or not subjects:
        return []
    return [
        Keyed(*row)
        for row in session.execute(
            select(*_KEYED).where(Delivery.kind.in_(kinds), Delivery.subject.in_(subjects)).order_by(Delivery.id)
        )
    ]


def keyed_with_occurrences(session: Session, kind: DeliveryKind, occurrences: Iterable[str]) -> list[Keyed]:
    occurrences = list(occurrences)
    if not occurrences:
        return []
    return [
        Keyed(*row)
        for row in session.execute(
            select(*_KEYED).where(Delivery.kind == kind, Delivery.occurrence.in_(occurrences)).order_by(Delivery.id)
        )
    ]


def pending_following_meetings(session: Session) -> list[Keyed]:
    """Personal reminders waiting to go that follow a meeting (`remind me 2 hours before the GIS meeting`)."""
    return [
        Keyed(*row)
        for row in session.execute(
            select(*_KEYED)
            .where(
                Delivery.kind == DeliveryKind.PERSONAL_REMINDER,
                Delivery.status == DeliveryStatus.PENDING,
                keys.follows_a_meeting_sql(Delivery.occurrence),
            )
            .order_by(Delivery.id)
        )
    ]


class ReminderOf(NamedTuple):
    """A pending automatic reminder, with the start of what it is about (None if that is gone)."""

    id: int
    occurrence: str
    start_local: Optional[datetime]
    cancelled: bool


def pending_reminders_except(session: Session, meetings: Iterable[str], events: Iterable[str]) -> list[ReminderOf]:
    """Pending meeting and event reminders about other subjects than these, each with its meeting
    or event: three queries, whatever their number."""
    # Joining on the subject's text (subject_sql) can't use an index on SQLite, which then compares
    # every such reminder with every meeting; the ids parsed here are looked up by primary key.
    meetings, events = list(meetings), list(events)
    rows = session.execute(
        select(Delivery.id, Delivery.subject, Delivery.occurrence)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            or_(
                and_(Delivery.kind == DeliveryKind.MEETING_REMINDER, Delivery.subject.not_in(meetings)),
                and_(Delivery.kind == DeliveryKind.EVENT_REMINDER, Delivery.subject.not_in(events)),
            ),
        )
        .order_by(Delivery.id)
    ).all()
    about = {delivery_id: keys.parse_subject(subject) for delivery_id, subject, _ in rows}
    wanted = {
        (model, thing): {s.id for s in about.values() if s is not None and s.thing is thing}
        for model, thing in ((Meeting, keys.Thing.MEETING), (Event, keys.Thing.EVENT))
    }
    found: dict[tuple[keys.Thing, int], tuple[datetime, bool]] = {}
    for (model, thing), ids in wanted.items():
        if ids:
            found.update(
                ((thing, i), (start, status in (MeetingStatus.CANCELLED, EventStatus.CANCELLED)))
                for i, start, status in session.execute(
                    select(model.id, model.start_local, model.status).where(model.id.in_(ids))
                )
            )
    result = []
    for delivery_id, _, occurrence in rows:
        subject = about[delivery_id]
        start, cancelled = found.get((subject.thing, subject.id), (None, False)) if subject else (None, False)
        result.append(ReminderOf(delivery_id, occurrence, start, cancelled))
    return result


def rewrite(session: Session, changes: list[dict[str, Any]]) -> None:
    """New values for deliveries, each a dict with its "id" (an executemany by primary key)."""
    if changes:
        session.execute(update(Delivery), changes)


def withdraw_about_group(session: Session, recipient_id: int, group_id: int, reason: str) -> int:
    """Someone left a group: what is still waiting to tell them about it (its announcements,
    its meetings' reminders and notices) is not sent."""
    about = (
        select(keys.subject_sql(keys.Thing.MEETING, Meeting.id))
        .where(Meeting.group_id == group_id)
        .union_all(
            select(keys.subject_sql(keys.Thing.SERIES, MeetingSeries.id)).where(MeetingSeries.group_id == group_id),
            select(keys.subject_sql(keys.Thing.ANNOUNCEMENT, Announcement.id)).where(Announcement.group_id == group_id),
        )
    )
    follows = (
        select(Meeting.id)
        .where(Meeting.group_id == group_id, keys.follows_meeting_sql(Delivery.occurrence, Meeting.id))
        .exists()
    )
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.recipient_id == recipient_id,
            Delivery.status == DeliveryStatus.PENDING,
            or_(Delivery.subject.in_(about), and_(Delivery.kind == DeliveryKind.PERSONAL_REMINDER, follows)),
        )
        .values(status=DeliveryStatus.SKIPPED, last_error=reason)
        .returning(Delivery.id)
    )
    return len(result.all())


def take_held(
    session: Session, recipient_id: int, now: datetime, reachable: Iterable[str], limit: int = 10
) -> list[Delivery]:
    """The person's messages that wait for the console, oldest first, marked delivered there.

    Held ones (no configured platform reached them), and pending due ones when the person has
    no account on a platform this deployment reaches (an account in a workspace the app was
    removed from reaches nobody). One whose moment has passed (a reminder
    after its meeting began) is skipped instead. The UPDATE re-checks the status, so a message
    a dispatcher claims at the same moment goes one way only.
    """
    reachable = list(reachable)
    on_platform = (
        select(PlatformIdentity.id)
        .where(
            PlatformIdentity.person_id == recipient_id,
            PlatformIdentity.platform.in_(reachable),
            PlatformIdentity.gone_at.is_(None),
        )
        .exists()
    )
    waiting = [DeliveryStatus.HELD] + (
        [DeliveryStatus.PENDING] if not session.execute(select(on_platform)).scalar() else []
    )
    mine = and_(
        Delivery.recipient_id == recipient_id,
        Delivery.channel == keys.DIRECT,
        Delivery.due_at <= now,
        Delivery.status.in_(waiting),
    )
    session.execute(
        update(Delivery)
        .where(mine, Delivery.not_after.is_not(None), Delivery.not_after <= now)
        .values(status=DeliveryStatus.SKIPPED, last_error="its moment has passed")
    )
    ids = list(
        session.execute(select(Delivery.id).where(mine).order_by(Delivery.due_at, Delivery.id).limit(limit)).scalars()
    )
    if not ids:
        return []
    taken = set(
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status.in_(waiting))
            .values(
                status=DeliveryStatus.SENT,
                sent_at=now,
                delivered_via="console",
                last_error=None,
                lease_owner=None,
                lease_expires_at=None,
            )
            .returning(Delivery.id)
        ).scalars()
    )
    return [
        d
        for d in session.execute(
            select(Delivery).where(Delivery.id.in_(taken)).order_by(Delivery.due_at, Delivery.id)
        ).scalars()
    ]


def may_be_waiting(session: Session, email: str, now: datetime) -> bool:
    """One cheap query before the console's full look (most of the time nothing waits)."""
    return (
        session.execute(
            select(Delivery.id)
            .join(Person, Person.id == Delivery.recipient_id)
            .where(
                Person.email == email.strip().lower(),
                Delivery.channel == keys.DIRECT,
                Delivery.due_at <= now,
                Delivery.status.in_((DeliveryStatus.HELD, DeliveryStatus.PENDING)),
            )
            .limit(1)
        ).first()
        is not None
    )


def count_waiting(session: Session, recipient_id: int, now: datetime) -> int:
    return session.execute(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.recipient_id == recipient_id,
            Delivery.channel == keys.DIRECT,
            Delivery.due_at <= now,
            Delivery.status == DeliveryStatus.HELD,
        )
    ).scalar_one()


def release_held(session: Session, recipient_id: int, now: datetime) -> int:
    """The person is now known on a platform: what was held for them goes out there after all
    (the dispatcher's cut-offs still skip what has become too late)."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.recipient_id == recipient_id,
            Delivery.channel == keys.DIRECT,
            Delivery.status == DeliveryStatus.HELD,
            or_(Delivery.not_after.is_(None), Delivery.not_after > now),
        )
        .values(status=DeliveryStatus.PENDING, last_error=None)
        .returning(Delivery.id)
    )
    return len(result.all())


def recent_for(session: Session, recipient_id: int, since: datetime, limit: int = 15) -> tuple[list[Delivery], int]:
    """What was sent to the person since `since`, or is held for them, newest first; and how many in all."""
    where = and_(
        Delivery.recipient_id == recipient_id,
        Delivery.channel == keys.DIRECT,
        or_(
            and_(Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= since),
            and_(Delivery.status == DeliveryStatus.HELD, Delivery.due_at >= since),
        ),
    )
    found = list(
        session.execute(
            select(Delivery)
            .where(where)
            .order_by(func.coalesce(Delivery.sent_at, Delivery.due_at).desc(), Delivery.id.desc())
            .limit(limit)
        ).scalars()
    )
    total = session.execute(select(func.count()).select_from(Delivery).where(where)).scalar_one()
    return found, total
