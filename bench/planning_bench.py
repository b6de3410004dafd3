"""How long one reminder-planning round (jobs.reminders.plan) takes when the partnership has years
of data, beside the same round on the demo data, in the same run.

    python bench/planning_bench.py [--postgres URL] [--people 50000] [--registrations 200000]

The scaled database is scale_bench's (ten years of meetings, 1,000 events, 50,000 people, 25,000
of them in groups, 200,000 registrations), and on both databases a member of every group in twenty
asks for a personal reminder before their group's next meeting. Three rounds are timed, each the
median of --rounds runs rolled back after timing, so that every run sees the same state:

  first    nothing planned yet: every reminder of the coming weeks is made
  changed  after that round, a meeting moved within the weeks ahead, one moved beyond them and
           one cancelled (by the Partnership Office, in chat): reminders withdrawn, re-made, and
           personal ones following their meeting
  steady   nothing changed since the last round: what every worker does every minute

Runs on SQLite, and on PostgreSQL when it answers. It uses only the router and jobs.reminders.plan,
so the same file times an older checkout too (copy it into that checkout's bench/).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import reachable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_bench import DAY, NOW, ZONE, fill
from sqlalchemy import func, select

from bot.router import Router
from core.messages import Request
from core.settings import Settings
from jobs import reminders
from storage import db
from storage.demo import load_demo
from storage.models import Delivery, Group, Meeting, MeetingStatus, Membership, Person

ADMIN = "pmo.bench@kent.gov.uk"
ASKERS_EVERY = 20  # one member in twenty asks for a personal reminder


def say(router: Router, words: str, who: str) -> str:
    reply = router.handle(Request(text=words, platform="console", user_id=who, email=who, now=NOW))
    text = reply.plain_text()
    assert "something went wrong" not in text, (words, text)
    return text


def personal_reminders(sessions, router: Router) -> int:
    """Every twentieth member asks to be reminded 2 hours before their group's next meeting."""
    with sessions() as session:
        rows = session.execute(
            select(Person.email, Group.slug)
            .join(Membership, Membership.person_id == Person.id)
            .join(Group, Group.id == Membership.group_id)
            .where(Group.access == "open")
            .order_by(Person.id)
        ).all()
    asked = 0
    for email, slug in rows[::ASKERS_EVERY]:
        say(router, f"remind me 2 hours before the {slug} meeting", email)
        asked += 1
    return asked


def plan_committed(sessions) -> None:
    with sessions.begin() as session:
        reminders.plan(session, NOW, ZONE)


def change_meetings(sessions, router: Router) -> list[str]:
    """The next meeting of three groups: one moved a week later (still in the weeks planned), one
    moved two months later (beyond them), one cancelled."""
    with sessions() as session:
        nexts = []
        for group_id in session.execute(select(Group.id).where(Group.access == "open").order_by(Group.id)).scalars():
            meeting = (
                session.execute(
                    select(Meeting)
                    .where(
                        Meeting.group_id == group_id,
                        Meeting.starts_at_utc >= NOW,
                        Meeting.status == MeetingStatus.SCHEDULED,
                    )
                    .order_by(Meeting.starts_at_utc)
                )
                .scalars()
                .first()
            )
            if meeting is not None and meeting.starts_at_utc < NOW + timedelta(days=28):
                nexts.append((meeting.id, meeting.start_local))
    done = []
    for (meeting_id, start), later in zip(nexts, (timedelta(days=7), timedelta(days=60)), strict=False):
        when = start + later
        say(
            router,
            f"move {meeting_id} to {when.day} {when:%B %Y} {when:%H:%M}-{when + timedelta(hours=1):%H:%M}",
            ADMIN,
        )
        done.append(f"meeting {meeting_id} moved {later.days} days")
    if len(nexts) > 2:
        say(router, f"cancel meeting {nexts[2][0]}", ADMIN)
        say(router, "yes", ADMIN)
        done.append(f"meeting {nexts[2][0]} cancelled")
    return done


def timed_round(sessions, runs: int) -> float:
    """Median milliseconds of one planning round, each run rolled back."""
    samples = []
    for _ in range(runs):
        with sessions() as session:
            started = time.perf_counter()
            reminders.plan(session, NOW, ZONE)
            session.flush()
            samples.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return statistics.median(samples)


def pending(sessions) -> int:
    with sessions() as session:
        return session.execute(
            select(func.count()).select_from(Delivery).where(Delivery.status == "pending")
        ).scalar_one()


def measure(url: str, people: int, registrations: int, big: bool, runs: int) -> dict[str, float]:
    engine = db.make_engine(url)
    db.upgrade(engine)
    sessions = db.make_session_factory(engine)
    with sessions.begin() as session:
        load_demo(session, DAY, ZONE)
    if big:
        started = time.perf_counter()
        fill(sessions, people, registrations)
        print(f"  filled in {time.perf_counter() - started:.1f} s")
    router = Router(sessions, Settings(database_url=url, timezone=ZONE, admins=frozenset({ADMIN})))
    asked = personal_reminders(sessions, router)
    result = {"first": timed_round(sessions, runs)}
    plan_committed(sessions)
    made = pending(sessions)
    changes = change_meetings(sessions, router)
    result["changed"] = timed_round(sessions, runs)
    plan_committed(sessions)
    result["steady"] = timed_round(sessions, runs)
    print(
        f"  {'scaled' if big else 'demo'}: {asked:,} personal reminders asked for, {made:,} pending after the "
        f"first round; {', '.join(changes)}"
    )
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--registrations", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        targets = [("sqlite", lambda name: f"sqlite:///{tmp}/{name}.db")]
        schemas = reachable(args.postgres, "kc_plan")
        if schemas is not None:
            cleanup.callback(schemas.close)
            targets.append(("postgresql", schemas.url))
        for kind, make_url in targets:
            print(f"{kind}:")
            small = measure(make_url("demo"), 0, 0, big=False, runs=args.rounds)
            large = measure(make_url("big"), args.people, args.registrations, big=True, runs=args.rounds)
            for name in small:
                print(
                    f"  {name:8s} demo {small[name]:9.1f} ms   scaled {large[name]:9.1f} ms   "
                    f"ratio {large[name] / small[name]:7.1f}"
                )
    print(
        f"(one planning round, jobs.reminders.plan, at {NOW:%Y-%m-%d %H:%M} UTC; {args.people:,} people, "
        f"{args.registrations:,} registrations; median of {args.rounds} runs each, rolled back)"
    )


if __name__ == "__main__":
    main()
