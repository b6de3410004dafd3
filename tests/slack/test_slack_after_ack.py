"""What the Slack adapter does after Slack has its answer (bot/slack_adapter.py `_later`): Bolt
answers when the listener returns, so posting a reply, uploading a file and the events' work run
in tasks of their own. Slack's HTTP request is answered without waiting for them, and a failing
one is logged and leaves the server answering. `serve` over real HTTP against FakeSlack."""

from __future__ import annotations

import time

from tests.slack.harness import DEMO

SLOW = 3.0  # seconds FakeSlack takes over the reply: more than Slack waits for an answer


def test_a_direct_message_is_acknowledged_before_its_reply_is_posted(slack):
    user = slack.person(DEMO)
    channel = "D" + slack.uid("")
    slack.fake.scripted[f"chat.postMessage:{channel}"] = [
        (200, {"ok": True, "channel": channel, "ts": "1.2"}, {}, SLOW)
    ]
    started = time.monotonic()
    answer = slack.post_json(slack.dm_event(user, "next gis meeting", channel))
    acknowledged = time.monotonic() - started
    assert answer.status == 200
    assert acknowledged < SLOW, acknowledged
    posted = slack.fake.wait_for("chat.postMessage", channel=channel, timeout=30)
    assert "GIS meets next on" in posted[0].args["text"]
    time.sleep(max(0.0, SLOW + 0.5 - (time.monotonic() - started)))  # FakeSlack has answered it


def test_a_reply_that_fails_to_post_is_logged_and_the_next_message_is_answered(slack):
    user = slack.person(DEMO)
    channel = "D" + slack.uid("")
    slack.fake.scripted[f"chat.postMessage:{channel}"] = [(200, {"ok": False, "error": "channel_not_found"}, {})]
    assert slack.post_json(slack.dm_event(user, "next gis meeting", channel)).status == 200
    deadline = time.monotonic() + 30
    while "Slack: a listener failed (event_callback/message)" not in slack.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = slack.log()
    assert "Slack: a listener failed (event_callback/message)" in log and "channel_not_found" in log, log[-3000:]
    assert slack.post_json(slack.dm_event(user, "next gis meeting", channel)).status == 200
    # the script is used up: the second reply is posted
    slack.fake.wait_for("chat.postMessage", count=2, channel=channel, timeout=30)
