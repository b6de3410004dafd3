"""The e-mail addresses users.info gives are kept an hour at most, for 10,000 people at most, so that
a changed address is seen within the hour.

In-process: a SlackAdapter with a Router on the test database (SQLite and PostgreSQL, rolled back
after each test), its e-mail cache timed by a clock the test moves, spoken to over real signed HTTP
through aiohttp's test server, against FakeSlack.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import uuid

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.router import Router
from bot.slack_adapter import EMAIL_TTL_SECONDS, SlackAdapter
from tests.slack.harness import SECRET, TEAM, check_message, sign


class Clock:
    """The cache's timer: seconds, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def new_user(fake, email: str) -> str:
    user = "U" + uuid.uuid4().hex[:10].upper()
    fake.emails[user] = email
    return user


async def whoami(client: TestClient, user: str) -> str:
    """`/kc whoami` as Slack sends it; the text of the answer in the ack."""
    body = urllib.parse.urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": "C1",
            "user_id": user,
            "command": "/kc",
            "text": "whoami",
            "trigger_id": uuid.uuid4().hex,
            "response_url": "http://127.0.0.1:9/unused",
        }
    )
    ts = str(int(time.time()))
    answer = await client.post(
        "/slack/events",
        data=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(body, ts),
        },
    )
    assert answer.status == 200
    payload = await answer.json()
    check_message(payload)
    return payload["text"]


def serving(adapter_args: dict, steps) -> None:
    """Runs `steps(client, adapter)` against an in-process server for a SlackAdapter made with these
    arguments (the adapter is made on the loop, as serve makes it)."""

    async def main() -> None:
        adapter = SlackAdapter(**adapter_args)
        app = web.Application()
        app.router.add_post("/slack/events", adapter.handle_http)
        async with TestClient(TestServer(app)) as client:
            await steps(client, adapter)

    asyncio.run(main())


def test_a_changed_address_is_asked_again_after_an_hour_and_not_before(fake, sessions, settings):
    tag = uuid.uuid4().hex[:8]
    user = new_user(fake, f"someone.{tag}@gmail.com")
    clock = Clock()
    asked = lambda: len(fake.matching("users.info", user=user))  # noqa: E731

    async def steps(client, adapter):
        assert f"You're someone.{tag}@gmail.com" in await whoami(client, user)
        assert asked() == 1
        fake.emails[user] = f"moved.{tag}@kent.gov.uk"  # their address changes in Slack
        clock.now += EMAIL_TTL_SECONDS - 1
        assert f"You're someone.{tag}@gmail.com" in await whoami(client, user)  # not yet
        assert asked() == 1
        clock.now += 2  # past the hour
        answer = await whoami(client, user)
        assert f"You're moved.{tag}@kent.gov.uk, from Kent County Council" in answer
        assert asked() == 2
        assert "Kent County Council" in await whoami(client, user)  # and kept for the next hour
        assert asked() == 2

    serving(
        dict(
            router=Router(sessions, settings),
            bot_token="xoxb-test",
            signing_secret=SECRET,
            api_url=fake.url,
            clock=clock,
        ),
        steps,
    )
    assert EMAIL_TTL_SECONDS == 3600  # "within the hour", as the README's operators are told


def test_no_visible_address_is_asked_again_after_an_hour(fake, sessions, settings):
    """Someone whose address Slack didn't show is recognised once it does, within the hour."""
    tag = uuid.uuid4().hex[:8]
    user = new_user(fake, f"later.{tag}@kent.gov.uk")
    del fake.emails[user]  # users.info gives a profile without an e-mail
    clock = Clock()

    async def steps(client, adapter):
        assert "I can't see an e-mail address for you" in await whoami(client, user)
        fake.emails[user] = f"later.{tag}@kent.gov.uk"
        clock.now += EMAIL_TTL_SECONDS / 2
        assert "I can't see an e-mail address for you" in await whoami(client, user)
        clock.now += EMAIL_TTL_SECONDS / 2 + 1
        assert f"You're later.{tag}@kent.gov.uk, from Kent County Council" in await whoami(client, user)
        assert len(fake.matching("users.info", user=user)) == 2

    serving(
        dict(
            router=Router(sessions, settings),
            bot_token="xoxb-test",
            signing_secret=SECRET,
            api_url=fake.url,
            clock=clock,
        ),
        steps,
    )


def test_the_cache_is_bounded(fake, sessions, settings):
    """Past its size the least recently used address goes, and is asked again when next needed."""
    first, second, third = (new_user(fake, f"bounded.{n}.{uuid.uuid4().hex[:8]}@kent.gov.uk") for n in range(3))
    asked = lambda user: len(fake.matching("users.info", user=user))  # noqa: E731

    async def steps(client, adapter):
        for user in (first, second, third):
            await whoami(client, user)
        assert [asked(u) for u in (first, second, third)] == [1, 1, 1]
        await whoami(client, first)  # pushed out by the third: asked again, which pushes out the second
        await whoami(client, third)  # still kept
        assert [asked(u) for u in (first, second, third)] == [2, 1, 1]
        assert len(adapter.emails) == 2

    serving(
        dict(
            router=Router(sessions, settings),
            bot_token="xoxb-test",
            signing_secret=SECRET,
            api_url=fake.url,
            email_cache_size=2,
        ),
        steps,
    )
