"""Requests not signed by Slack get 401 and do nothing: no Web API call, no database change."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from tests.slack.harness import SlackBot, sign

SETTLE = 1.0


def _requests(slack: SlackBot, user: str) -> list[tuple[str, str]]:
    """(body, content type) of a DM that would join a group and a command that would register."""
    dm = json.dumps(slack.dm_event(user, "join digital accessibility", "D" + user[1:]))
    command = urllib.parse.urlencode(slack.command_fields("register 1 online", user))
    return [(dm, "application/json"), (command, "application/x-www-form-urlencoded")]


def _now(offset: int = 0) -> str:
    return str(int(time.time()) + offset)


# Each forgery: body -> keyword arguments for SlackBot.post.
FORGERIES = {
    "wrong secret": lambda body: dict(secret="not-the-signing-secret"),
    "signed with the bot token": lambda body: dict(secret="xoxb-test"),
    "timestamp 6 minutes old": lambda body: dict(ts=_now(-360)),
    "timestamp 6 minutes ahead": lambda body: dict(ts=_now(+360)),
    "no signature header": lambda body: dict(signed=False),
    "no timestamp header": lambda body: dict(
        signed=False, headers={"X-Slack-Request-Timestamp": None, "X-Slack-Signature": sign(body, "")}
    ),
    # Signed properly, then the body changed on the way: the signature no longer fits.
    "signature of another body": lambda body: dict(
        signed=False,
        ts=_now(),
        headers={
            "X-Slack-Signature": sign(body.replace("accessibility", "gis").replace("online", "in+person"), _now())
        },
    ),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_unsigned_or_stale_requests_get_401_and_change_nothing(slack, forgery):
    email = f"forged.{slack.uid('').lower()}@kent.gov.uk"
    user = slack.person(email)
    before_calls = len(slack.fake.snapshot())
    before = slack.table_counts()
    for body, kind in _requests(slack, user):
        answer = slack.post(body, kind, **FORGERIES[forgery](body))
        assert answer.status == 401, (forgery, answer)
    time.sleep(SETTLE)
    assert slack.fake.snapshot()[before_calls:] == []  # no users.info, no reply, nothing
    assert slack.table_counts() == before
    assert slack.person_id(email) is None


def test_url_verification_needs_a_signature_too(slack):
    assert slack.post_json({"type": "url_verification", "challenge": "c"}, signed=False).status == 401
    assert slack.post_json({"type": "url_verification", "challenge": "c"}, ts=_now(-600)).status == 401


def test_the_same_requests_signed_properly_do_act(slack):
    """The control for the test above: its requests are ones the bot acts on when signed."""
    email = f"signed.{slack.uid('').lower()}@kent.gov.uk"
    user = slack.person(email)
    (dm, dm_kind), (command, command_kind) = _requests(slack, user)
    assert slack.post(dm, dm_kind).status == 200
    answer = slack.post(command, command_kind)
    assert answer.status == 200 and "You have a place" in answer.json["text"]
    slack.fake.wait_for("chat.postMessage", channel="D" + user[1:])
    assert (
        slack.scalar(
            "SELECT COUNT(*) FROM membership m JOIN person p ON p.id = m.person_id WHERE p.email = ?", (email,)
        )
        == 1
    )
    assert (
        slack.scalar(
            "SELECT COUNT(*) FROM registration r JOIN person p ON p.id = r.person_id WHERE p.email = ?", (email,)
        )
        == 1
    )


def test_a_timestamp_within_five_minutes_is_accepted(slack):
    user = slack.person("demo@kent.gov.uk")
    body = urllib.parse.urlencode(slack.command_fields("whoami", user))
    answer = slack.post(body, "application/x-www-form-urlencoded", ts=str(int(time.time()) - 240))
    assert answer.status == 200 and "Who you are" in answer.json["text"]


@pytest.mark.parametrize("timestamp", ["", "yesterday"])
def test_a_timestamp_that_is_not_a_number_gets_401(slack, timestamp):
    user = slack.person(f"garbled.{slack.uid('').lower()}@kent.gov.uk")
    before_calls = len(slack.fake.snapshot())
    before = slack.table_counts()
    body, kind = _requests(slack, user)[0]
    answer = slack.post(
        body,
        kind,
        signed=False,
        headers={"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(body, timestamp)},
    )
    time.sleep(SETTLE)
    assert slack.fake.snapshot()[before_calls:] == []  # passes today: the request is refused, only
    assert slack.table_counts() == before  # with the wrong status
    assert answer.status == 401


@pytest.mark.parametrize(
    "field", [{"team": ["id"]}, {"user": ["id"]}, {"authorizations": "T1"}, {"response_urls": [None]}]
)
def test_a_signed_request_with_a_field_bolt_cannot_read_is_400(slack, field):
    """Bolt's context extraction indexes these without checking their shape; Slack never sends them so,
    and the adapter refuses them (logging why, with the traceback) rather than answering 500."""
    payload = dict(
        {
            "type": "block_actions",
            "user": {"id": "U1"},
            "team": {"id": "T1"},
            "actions": [{"action_id": "kc:1", "value": "help"}],
        },
        **field,
    )
    before = len(slack.fake.snapshot())
    assert slack.post_form({"payload": json.dumps(payload)}).status == 400
    time.sleep(0.3)
    assert slack.fake.snapshot()[before:] == []
    assert "refused a signed Slack request Bolt cannot read (block_actions)" in slack.log()
