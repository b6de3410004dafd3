"""Recording notices for the dispatcher (storage.deliveries.record), on SQLite and PostgreSQL:
one pending Delivery per recipient; the unique key (kind, subject, occurrence, recipient, channel)
makes recording the same notice again a no-op.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from core.messages import Action, Field, Item, Reply
from storage import deliveries
from storage.models import Delivery, DeliveryKind, DeliveryStatus, Person
from storage.people import get_or_create_person

UTC = timezone.utc
DUE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EMAILS = (
    "demo@kent.gov.uk",
    "gis.chair.demo@maidstone.gov.uk",
    "board.demo@kent.police.uk",
    "alice.member@medway.gov.uk",
)

NOTICE = Reply(
    "GIS: the meeting on Tuesday 9 March 2027, 10:00–12:00 GMT has moved to Tuesday 16 March 2027, 14:00–15:30 GMT.",
    title="GIS meeting moved",
    fields=(Field("Now", "Tuesday 16 March 2027, 14:00–15:30 GMT"), Field("Where", "Map Room “A” & B <b>")),
    items=(Item("An item", "two\nlines", fields=(Field("k", "v"),), actions=(Action("Open", "meetings gis"),)),),
    actions=(Action("My meetings", "my meetings"), Action("Cancel", "cancel", "danger")),
    footer="Sent by the Kent Connects bot.",
)


@pytest.fixture
def people(session) -> list[Person]:
    found = [get_or_create_person(session, email) for email in EMAILS]
    session.flush()
    assert all(p.id is not None for p in found)
    return found


def stored(session, subject: str | None = None) -> list[Delivery]:
    session.flush()
    session.expire_all()
    query = select(Delivery).order_by(Delivery.recipient_id, Delivery.occurrence)
    if subject is not None:
        query = query.where(Delivery.subject == subject)
    return list(session.execute(query).scalars())


def total(session) -> int:
    return session.execute(select(func.count()).select_from(Delivery)).scalar_one()


def record(
    session,
    ids,
    occurrence: str = "v1",
    kind: DeliveryKind = DeliveryKind.MEETING_MOVED,
    subject: str = "meeting:13",
    **kwargs,
):
    return deliveries.record(session, kind, subject, occurrence, ids, NOTICE.to_data(), due_at=DUE, **kwargs)


def test_one_pending_row_per_recipient(session, people):
    ids = [p.id for p in people[:3]]
    assert total(session) == 0
    record(session, ids)
    rows = stored(session)
    assert sorted(r.recipient_id for r in rows) == sorted(ids)
    for row in rows:
        assert (row.kind, row.subject, row.occurrence, row.channel) == (
            DeliveryKind.MEETING_MOVED,
            "meeting:13",
            "v1",
            "direct",
        )
        assert row.status is DeliveryStatus.PENDING
        assert row.attempts == 0
        assert row.due_at == DUE
        assert row.sent_at is None and row.last_error is None and row.lease_owner is None
        assert row.created_at is not None and row.created_at.tzinfo is not None


def test_recipients_are_de_duplicated(session, people):
    a, b = people[0].id, people[1].id
    record(session, [a, b, a, b, a])
    assert sorted(r.recipient_id for r in stored(session)) == sorted([a, b])


def test_recording_the_same_notice_again_inserts_nothing(session, people):
    ids = [p.id for p in people]
    record(session, ids)
    first = [(r.id, r.recipient_id) for r in stored(session)]
    record(session, ids)
    record(session, list(reversed(ids)))
    assert [(r.id, r.recipient_id) for r in stored(session)] == first
    assert total(session) == len(ids)


def test_recording_again_with_a_new_recipient_adds_only_them(session, people):
    first, second, third = (p.id for p in people[:3])
    record(session, [first, second])
    record(session, [first, second, third])
    assert sorted(r.recipient_id for r in stored(session)) == sorted([first, second, third])


def test_a_different_occurrence_is_recorded_again(session, people):
    ids = [p.id for p in people[:2]]
    record(session, ids, occurrence="v1")
    record(session, ids, occurrence="v2")
    record(session, ids, occurrence="v2")
    assert sorted((r.recipient_id, r.occurrence) for r in stored(session)) == sorted(
        (i, v) for i in ids for v in ("v1", "v2")
    )


@pytest.mark.parametrize(
    "change", [{"kind": DeliveryKind.MEETING_CANCELLED}, {"subject": "meeting:14"}, {"channel": "email"}]
)
def test_each_part_of_the_key_tells_notices_apart(session, people, change):
    ids = [people[0].id]
    record(session, ids)
    record(session, ids, **change)
    record(session, ids, **change)
    assert total(session) == 2


def test_record_returns_how_many_were_new(request, session, people):
    a, b, c = (p.id for p in people[:3])
    assert record(session, [a, b, a]) == 2
    assert record(session, [a, b]) == 0  # the same notice again
    assert record(session, [a, b, c]) == 1  # only c is new
    assert record(session, [a, b], occurrence="v2") == 2  # a new change
    assert total(session) == 5


def test_no_recipients_records_nothing_and_returns_0(session, people):
    assert record(session, []) == 0
    assert record(session, iter(())) == 0
    assert total(session) == 0


def test_a_repeat_does_not_change_the_existing_row(session, people):
    ids = [people[0].id]
    record(session, ids)
    [row] = stored(session)
    row.status = DeliveryStatus.SENT
    row.attempts = 1
    session.flush()
    later = DUE + timedelta(days=1)
    deliveries.record(session, "meeting_moved", "meeting:13", "v1", ids, {"text": "other"}, due_at=later)
    [row] = stored(session)
    assert row.status is DeliveryStatus.SENT and row.attempts == 1
    assert row.due_at == DUE and row.payload["text"] == NOTICE.text


def test_recipients_may_be_any_iterable(session, people):
    record(session, (p.id for p in people))
    assert sorted(r.recipient_id for r in stored(session)) == sorted(p.id for p in people)


def test_the_payload_round_trips_to_a_reply(session, people):
    record(session, [people[0].id])
    [row] = stored(session)
    assert isinstance(row.payload, dict)
    again = Reply.from_data(row.payload)
    assert again == NOTICE
    assert again.plain_text() == NOTICE.plain_text()


def test_a_reply_with_only_text_round_trips(session, people):
    deliveries.record(session, "announcement", "news:1", "once", [people[0].id], Reply("Hello").to_data(), due_at=DUE)
    [row] = stored(session, "news:1")
    assert Reply.from_data(row.payload) == Reply("Hello")


def test_for_subject_lists_that_subjects_rows(session, people):
    ids = [p.id for p in people[:2]]
    record(session, ids, subject="meeting:13")
    record(session, ids, subject="meeting:14")
    rows = deliveries.for_subject(session, "meeting:14")
    assert len(rows) == 2 and {r.subject for r in rows} == {"meeting:14"}
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert deliveries.for_subject(session, "meeting:99") == []


def test_the_database_enforces_the_unique_key(session, people):
    record(session, [people[0].id])
    session.add(
        Delivery(
            kind="meeting_moved",
            subject="meeting:13",
            occurrence="v1",
            recipient_id=people[0].id,
            channel="direct",
            payload={},
            due_at=DUE,
            status=DeliveryStatus.PENDING,
        )
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


# --- kinds: DeliveryKind, and the database's CHECK (migration 0012) ------------------------------


@pytest.mark.parametrize("kind", list(DeliveryKind))
def test_every_kind_is_stored_as_its_value_and_read_back_as_the_enum(session, people, kind):
    record(session, [people[0].id], kind=kind)
    [row] = stored(session)
    assert row.kind is kind
    assert session.execute(text("SELECT kind FROM delivery WHERE id = :id"), {"id": row.id}).scalar_one() == kind.value


def test_a_kind_given_by_its_value_is_the_same_kind(session, people):
    assert record(session, [people[0].id], kind="announcement") == 1
    assert record(session, [people[0].id], kind=DeliveryKind.ANNOUNCEMENT) == 0
    assert [row.kind for row in stored(session)] == [DeliveryKind.ANNOUNCEMENT]


def test_record_refuses_a_kind_the_enum_does_not_know(session, people):
    with pytest.raises(ValueError, match="meeting_changed"):
        record(session, [people[0].id], kind="meeting_changed")
    assert total(session) == 0


def test_the_database_refuses_a_kind_the_enum_does_not_know(session, people):
    insert = text(
        "INSERT INTO delivery (kind, subject, occurrence, recipient_id, channel, payload, due_at, status, "
        "attempts, created_at) VALUES (:kind, 'meeting:13', 'v1', :person, 'direct', '{}', :due, 'pending', "
        "0, :due)"
    )
    with session.begin_nested():
        session.execute(insert, {"kind": "meeting_moved", "person": people[0].id, "due": DUE.replace(tzinfo=None)})
    with (
        pytest.raises(IntegrityError, match="ck_delivery_delivery_kind|CHECK constraint failed"),
        session.begin_nested(),
    ):
        session.execute(insert, {"kind": "meeting_changed", "person": people[1].id, "due": DUE.replace(tzinfo=None)})
    assert total(session) == 1


# --- withdraw_about_group: someone left a group -----------------------------------------------------


def test_leaving_a_group_withdraws_what_waits_about_it_and_nothing_else(session, people):
    from storage.models import Announcement, AnnouncementStatus, Group, Meeting, MeetingSeries

    def group_of(slug: str) -> Group:
        return session.execute(select(Group).where(Group.slug == slug)).scalar_one()

    gis, other = group_of("gis"), group_of("smart-kent-and-medway")
    meeting = session.execute(select(Meeting).where(Meeting.group_id == gis.id).order_by(Meeting.id)).scalars().first()
    elsewhere = session.execute(select(Meeting).where(Meeting.group_id == other.id)).scalars().first()
    series = session.execute(select(MeetingSeries).where(MeetingSeries.group_id == gis.id)).scalars().first()
    other_series = session.execute(select(MeetingSeries).where(MeetingSeries.group_id == other.id)).scalars().first()
    note = Announcement(group_id=gis.id, text="Hello", send_at=DUE, status=AnnouncementStatus.SENT)
    session.add(note)
    session.flush()
    me, someone = people[0].id, people[1].id
    start = "@2026-12-08T10:00:00"

    def add(kind: DeliveryKind, subject: str, occurrence: str = "1", recipient: int = me) -> None:
        record(session, [recipient], occurrence=occurrence, kind=kind, subject=subject)

    about = [
        (DeliveryKind.MEETING_REMINDER, f"meeting:{meeting.id}", "7d" + start),
        (DeliveryKind.MEETING_MOVED, f"series:{series.id}", "v2"),
        (DeliveryKind.ANNOUNCEMENT, f"announcement:{note.id}", "1"),
        (DeliveryKind.PERSONAL_REMINDER, f"person:{me}", f"meeting:{meeting.id}:2h" + start),
    ]
    not_about = [
        (DeliveryKind.MEETING_REMINDER, f"meeting:{elsewhere.id}", "7d" + start),
        (DeliveryKind.MEETING_REMINDER, f"meeting:{meeting.id}5", "7d" + start),  # another id, same digits
        (DeliveryKind.PERSONAL_REMINDER, f"person:{me}", f"meeting:{elsewhere.id}:2h" + start),
        (DeliveryKind.PERSONAL_REMINDER, f"person:{me}", f"meeting:{meeting.id}5:2h" + start),
        (DeliveryKind.PERSONAL_REMINDER, f"person:{me}", "at:2026-12-08T09:00:00+00:00:0123456789abcdef"),
        (DeliveryKind.MEETING_MOVED, f"series:{other_series.id}", "v2"),
    ]
    for kind, subject, occurrence in about + not_about:
        add(kind, subject, occurrence)
    add(DeliveryKind.MEETING_REMINDER, f"meeting:{meeting.id}", "1d" + start, recipient=someone)
    add(DeliveryKind.MEETING_REMINDER, f"meeting:{meeting.id}", "2d" + start)
    [sent] = [d for d in stored(session) if d.occurrence == "2d" + start]
    sent.status = DeliveryStatus.SENT

    assert deliveries.withdraw_about_group(session, me, gis.id, "left the group") == 4

    rows = {(d.kind, d.subject, d.occurrence, d.recipient_id): d for d in stored(session)}
    for kind, subject, occurrence in about:
        row = rows[kind, subject, occurrence, me]
        assert (row.status, row.last_error) == (DeliveryStatus.SKIPPED, "left the group"), (kind, subject, occurrence)
    for kind, subject, occurrence in not_about:
        assert rows[kind, subject, occurrence, me].status is DeliveryStatus.PENDING, (kind, subject, occurrence)
    assert (
        rows[DeliveryKind.MEETING_REMINDER, f"meeting:{meeting.id}", "1d" + start, someone].status
        is DeliveryStatus.PENDING
    )
    assert rows[DeliveryKind.MEETING_REMINDER, f"meeting:{meeting.id}", "2d" + start, me].status is DeliveryStatus.SENT


def test_the_console_takes_what_waits_for_someone_whose_only_account_was_in_an_uninstalled_workspace(session, people):
    from storage.models import PlatformIdentity

    person = people[0]
    account = PlatformIdentity(person_id=person.id, platform="slack", workspace="T0GONE", external_id="U0GONE")
    session.add(account)
    record(session, [person.id])
    later = DUE + timedelta(minutes=1)
    # Reachable on Slack: a pending message is the dispatcher's, not the console's.
    assert deliveries.take_held(session, person.id, later, ["slack"]) == []
    account.gone_at = DUE  # the app was removed from that workspace
    session.flush()
    taken = deliveries.take_held(session, person.id, later, ["slack"])
    assert [d.recipient_id for d in taken] == [person.id]
