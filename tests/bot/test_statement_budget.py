"""Issue 16: how many SQL statements a request takes, on SQLite and PostgreSQL.

The prelude every request pays is two statements: the once-only key and the caller (with their
roles, partner, memberships, the conversation's draft and Teams reference, and the group
catalogue's stamp). Counting statements is deterministic, so these tests assert the budget.
BEGIN, COMMIT, ROLLBACK and SAVEPOINTs are not counted. bench/statements_bench.py prints the figures.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from sqlalchemy import event

from bot.router import Router
from core.messages import KeptReference, Reply, Request
from storage import groups as group_queries
from storage.models import ConversationRef
from tests.conftest import NOW

DEMO = "demo@kent.gov.uk"
TENANT = "0a1b2c3d-0000-4000-8000-000000000c0c"
TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
_keys = itertools.count()


class Counted:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def sql(self) -> list[str]:
        """The statements that are not transaction control."""
        return [s for s in self.statements if not s.lstrip().upper().startswith(TRANSACTION_WORDS)]


@contextmanager
def counting(engine) -> Iterator[Counted]:
    counted = Counted()

    def count(conn, cursor, statement, params, context, executemany) -> None:
        counted.statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", count)


def request(platform: str, text: str, user: str) -> Request:
    if platform == "slack":
        return Request(
            text=text, platform="slack", user_id=user, email=DEMO, now=NOW, workspace="T0KCC", conversation="D1"
        )
    return Request(
        text=text,
        platform="teams",
        user_id=user,
        email=DEMO,
        now=NOW,
        workspace=TENANT,
        conversation="a:1" + user,
        keep_reference=KeptReference(
            f"user:{user}",
            {"conversation": {"id": "a:1" + user, "tenantId": TENANT}, "serviceUrl": "https://smba.example/"},
            "https://smba.example/",
            TENANT,
        ),
    )


def ask(router: Router, req: Request) -> Reply:
    reply = router.handle(req, once=f"budget:{next(_keys)}")
    assert reply is not None
    return reply


@pytest.fixture
def router(chat) -> Router:
    return chat.router


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_next_group_meeting_takes_at_most_four_statements_for_a_repeat_caller(router, database, platform):
    user = f"U{uuid.uuid4().hex[:8]}" if platform == "slack" else f"29:{uuid.uuid4().hex[:8]}"
    first = ask(router, request(platform, "next gis meeting", user))  # links the identity, keeps the reference
    assert "meets next on" in first.text
    with counting(database.engine) as counted:
        reply = ask(router, request(platform, "next gis meeting", user))
    assert "meets next on" in reply.text and reply.text == first.text
    assert len(counted.sql) <= 4, counted.sql
    # What those are: the once-only key, the caller, the meeting; nothing written but the key.
    assert counted.sql[0].startswith("INSERT INTO inbound_seen")
    assert "catalogue_version" in counted.sql[1] and "FROM catalogue_version" in counted.sql[1]
    assert not [s for s in counted.sql[1:] if s.upper().startswith(("INSERT", "UPDATE", "DELETE"))], counted.sql


def test_the_catalogue_is_not_read_again_while_its_stamp_stands(router):
    user = f"U{uuid.uuid4().hex[:8]}"
    ask(router, request("slack", "next gis meeting", user))
    before = group_queries.loads
    for words in ("next gis meeting", "groups", "meetings infosec", "next cyber meeting"):
        ask(router, request("slack", words, user))
    assert group_queries.loads == before


def test_the_first_request_of_a_new_person_costs_more_but_answers(router, database):
    user = f"U{uuid.uuid4().hex[:8]}"
    with counting(database.engine) as first:
        reply = ask(router, request("slack", "next gis meeting", user))
    with counting(database.engine) as repeat:
        again = ask(router, request("slack", "next gis meeting", user))
    assert reply.text == again.text
    assert len(repeat.sql) < len(first.sql)


def test_a_teams_reference_is_written_in_the_request_only_when_it_changed(router, database, session):
    user = f"29:{uuid.uuid4().hex[:8]}"
    with counting(database.engine) as first:
        ask(router, request("teams", "help", user))
    assert [s for s in first.sql if s.startswith("INSERT INTO conversation_ref")]
    with counting(database.engine) as repeat:
        ask(router, request("teams", "help", user))
    assert not [s for s in repeat.sql if "INTO conversation_ref" in s or s.startswith("UPDATE conversation_ref")]
    assert len(repeat.sql) <= 2, repeat.sql  # `help`: the prelude alone
    moved = request("teams", "help", user)
    kept = moved.keep_reference
    assert kept is not None
    moved = replace(moved, keep_reference=replace(kept, service_url="https://smba2.example/"))
    with counting(database.engine) as changed:
        ask(router, moved)
    assert [s for s in changed.sql if "INTO conversation_ref" in s]
    stored = session.query(ConversationRef).filter_by(platform="teams", key=f"user:{user}").one()
    assert stored.service_url == "https://smba2.example/" and stored.person_id is not None


# The events handlers' own part (storage/events.py, the event tallies of migration 0015) is at most 2.


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_events_takes_at_most_four_statements_for_a_repeat_caller(router, database, platform):
    user = f"U{uuid.uuid4().hex[:8]}" if platform == "slack" else f"29:{uuid.uuid4().hex[:8]}"
    ask(router, request(platform, "events", user))
    with counting(database.engine) as counted:
        reply = ask(router, request(platform, "events", user))
    assert reply.items
    assert len(counted.sql) <= 4, counted.sql


@pytest.mark.parametrize("platform", ["slack", "teams"])
def test_register_takes_at_most_four_statements_for_a_repeat_caller(router, database, platform):
    user = f"U{uuid.uuid4().hex[:8]}" if platform == "slack" else f"29:{uuid.uuid4().hex[:8]}"
    ask(router, request(platform, "help", user))
    with counting(database.engine) as counted:
        reply = ask(router, request(platform, "register for 1", user))
    assert "Which would you like?" in reply.text, reply.text  # a new registration's question, kept as a draft
    assert len(counted.sql) <= 4, counted.sql
    reply = ask(router, request(platform, "online", user))  # the answer: the registration (not budgeted: a form's step)
    assert reply.text.startswith("You have a place at Future Workplaces (event 1), online"), reply.text
