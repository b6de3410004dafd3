"""The Slack sender for deliveries (bot.slack_adapter.SlackSender) against FakeSlack."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bot.senders import Outcome, Recipient
from bot.slack_adapter import SlackSender
from core.messages import Action, Item, Reply
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import check_message

NOTICE = Reply(
    "The GIS meeting on 8 December moved to 10:30 & <room 2>.",
    title="GIS meeting moved",
    items=(Item("GIS", "Map Room"),),
    actions=(Action("My meetings", "my meetings"),),
)
PERSON = Recipient(email="someone@kent.gov.uk", name="Someone", address="U0PERSON1", workspace="T1")


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_server) -> FakeSlack:
    with fake_server.lock:
        fake_server.calls.clear()
        fake_server.scripted.clear()
    return fake_server


@pytest.fixture
def sender(fake) -> SlackSender:
    return SlackSender("xoxb-test", fake.url)


def test_a_delivery_goes_to_the_persons_dm_by_user_id(fake, sender):
    result = sender.send(PERSON, NOTICE)
    assert result.outcome is Outcome.SENT
    calls = fake.named("chat.postMessage")
    assert len(calls) == 1
    args = calls[0].args
    assert args["channel"] == "U0PERSON1"
    assert calls[0].headers["Authorization"] == "Bearer xoxb-test"
    check_message(args)
    assert "10:30 &amp; &lt;room 2&gt;" in args["text"]
    assert [b["type"] for b in args["blocks"]] == ["header", "section", "section", "actions"]


def test_a_429_is_rate_limited_with_retry_after(fake, sender):
    fake.scripted["chat.postMessage"] = [(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "2"})]
    result = sender.send(PERSON, NOTICE)
    assert result.outcome is Outcome.RATE_LIMITED
    assert result.retry_after == 2.0
    assert len(fake.named("chat.postMessage")) == 1  # no retry of its own: the dispatcher waits


def test_a_429_without_retry_after_still_waits(fake, sender):
    fake.scripted["chat.postMessage"] = [(429, {"ok": False, "error": "ratelimited"}, {})]
    result = sender.send(PERSON, NOTICE)
    assert result.outcome is Outcome.RATE_LIMITED
    assert result.retry_after is not None and result.retry_after > 0


@pytest.mark.parametrize(
    "error", ["user_not_found", "channel_not_found", "account_inactive", "cannot_dm_bot", "is_archived", "invalid_auth"]
)
def test_errors_that_will_never_work_are_permanent(fake, sender, error):
    fake.scripted["chat.postMessage"] = [(200, {"ok": False, "error": error}, {})]
    result = sender.send(PERSON, NOTICE)
    assert result.outcome is Outcome.PERMANENT
    assert error in result.error


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"ok": False, "error": "internal_error"}, {}),
        (503, "<html><body>Service Unavailable</body></html>", {}),
        (200, {"ok": False, "error": "fatal_error"}, {}),
    ],
    ids=["500 json", "503 html", "200 fatal_error"],
)
def test_passing_failures_are_retried(fake, sender, answer):
    fake.scripted["chat.postMessage"] = [answer]
    result = sender.send(PERSON, NOTICE)
    assert result.outcome is Outcome.RETRY
    assert result.error
    assert len(fake.named("chat.postMessage")) == 1


def test_slack_unreachable_is_retried():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = SlackSender("xoxb-test", f"http://127.0.0.1:{port}/api/").send(PERSON, NOTICE)
    assert result.outcome is Outcome.RETRY


def test_after_a_rate_limit_the_next_send_goes_through(fake, sender):
    fake.scripted["chat.postMessage"] = [(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})]
    assert sender.send(PERSON, NOTICE).outcome is Outcome.RATE_LIMITED
    assert sender.send(PERSON, NOTICE).outcome is Outcome.SENT
    assert len(fake.named("chat.postMessage")) == 2


def test_the_rate_limit_bucket_is_per_workspace(sender):
    a = sender.rate_limit(PERSON)
    b = sender.rate_limit(Recipient("x@kent.gov.uk", None, "U2", workspace="T2"))
    assert a.key != b.key and a.key.startswith("slack:")
    assert a.rate > 0 and a.burst >= 1
