"""End-to-end Slack fixtures (the harness itself is tests/slack/harness.py).

`slack` (session-scoped) is one `serve` on a temporary SQLite file with the demo seeded. Tests
share it, so each one works with people, channels, trigger ids and event ids of its own
(`slack.person(...)`, `slack.uid(...)`) and finds its calls on the fake by those ids.

Every Block Kit payload the bot sends is checked: acks as they arrive (SlackBot.post), Web API
calls and response-URL posts by `audit_slack_payloads` after each test that used the server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import SlackBot, start_bot


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def slack(fake, tmp_path_factory) -> Iterator[SlackBot]:
    workdir = tmp_path_factory.mktemp("slack-serve")
    path = workdir / "kc.db"
    bot = start_bot(fake, f"sqlite:///{path}", workdir, sqlite_path=path)
    yield bot
    try:
        time.sleep(0.3)
        bot.audit()  # whatever arrived after the last test
    finally:
        bot.stop()


@pytest.fixture(scope="module")
def pg_slack(fake, tmp_path_factory) -> Iterator[SlackBot]:
    """The same server on a fresh PostgreSQL schema (skipped, with the reason, without a server;
    a failure instead where PostgreSQL is required)."""
    from tests.conftest import _drop_schema, _open_postgres, _postgres_required

    url, reason = _open_postgres()
    if reason:
        if _postgres_required():
            pytest.fail(f"{reason}; the PostgreSQL tests must run here")
        pytest.skip(f"{reason}; set KC_TEST_DATABASE_URL to run the PostgreSQL tests")
    try:
        bot = start_bot(fake, url, tmp_path_factory.mktemp("slack-serve-pg"))
        try:
            yield bot
            time.sleep(0.3)
            bot.audit()
        finally:
            bot.stop()
    finally:
        _drop_schema(url)


@pytest.fixture(autouse=True)
def audit_slack_payloads(request):
    """After each test that used a server: every message and view the fake received is valid."""
    bots: list[SlackBot] = [
        request.getfixturevalue(name) for name in ("slack", "pg_slack") if name in request.fixturenames
    ]
    yield
    if bots:
        time.sleep(0.05)
    for bot in bots:
        bot.audit()


# What a server must not log while a test marked with `slack_log_is_quiet` runs (warnings are fine).
LOG_FAILURES = re.compile(
    r'Traceback|"level": "(?:error|critical)"|request failed: platform=slack|Error handling request'
)


@pytest.fixture
def slack_log_is_quiet(slack):
    """Fails the test if the shared server logged an error or a traceback while it ran. Opt in with
    `pytestmark = pytest.mark.usefixtures("slack_log_is_quiet")`: some tests provoke errors on purpose."""
    start = len(slack.log())
    yield
    time.sleep(0.2)
    new = slack.log()[start:]
    found = LOG_FAILURES.search(new)
    assert found is None, f"the server logged a failure:\n{new[max(0, found.start() - 1500) : found.start() + 3000]}"
