"""Requests Slack may send that Bolt alone gets wrong, and requests without the ids the bot used to
rely on: each answered as it deserves (the fuzz in test_slack_fuzz.py found most of them)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse

import pytest

from tests.slack.harness import SECRET, TEAM, SlackBot

pytestmark = pytest.mark.usefixtures("slack_log_is_quiet")

SETTLE = 1.0
CASE_FIELDS = {
    "title": "Odd requests desk booking",
    "problem": "Visiting staff cannot book a desk.",
    "proposal": "A booking tool.",
    "partners": "all",
    "groups": "GIS",
    "sponsor": "Smart Kent",
    "cost": "£25,000",
    "timescale": "9 months",
    "contact": "me",
}


def staff(slack: SlackBot, name: str) -> tuple[str, str]:
    email = f"{name}.{slack.uid('').lower()}@kent.gov.uk"
    return slack.person(email), email


def form_body(fields: dict) -> str:
    return urllib.parse.urlencode(fields)


# --- slash commands -------------------------------------------------------------------------------------


def test_a_command_with_the_word_payload_in_it_is_answered(slack):
    # Bolt takes any form body containing "payload" for an interaction and reads it as {}: a 404.
    user = slack.person("demo@kent.gov.uk")
    answer = slack.command("payload", user)
    assert answer.status == 200 and "Sorry, I don't understand “payload”" in answer.json["text"]
    fields = dict(slack.command_fields("whoami", user), channel_name="payload-team")
    answer = slack.post(form_body(fields), "application/x-www-form-urlencoded")
    assert answer.status == 200 and "Demo User (KCC)" in answer.json["text"]


def test_a_renamed_command_is_answered_like_kc(slack):
    user = slack.person("demo@kent.gov.uk")
    fields = dict(slack.command_fields("whoami", user), command="/kentconnects")
    answer = slack.post(form_body(fields), "application/x-www-form-urlencoded")
    assert answer.status == 200 and "Demo User (KCC)" in answer.json["text"]


def test_a_command_without_a_user_is_told_so(slack):
    fields = slack.command_fields("whoami", "UNOBODY")
    del fields["user_id"]
    answer = slack.post(form_body(fields), "application/x-www-form-urlencoded")
    assert answer.status == 200
    assert answer.body == "Sorry, Slack didn't tell me who you are, so I can't answer that. Please try again."


def test_without_a_trigger_id_a_form_is_asked_step_by_step(slack):
    # A modal needs a trigger id; without one the form used to be offered as a modal that never opened.
    user, _ = staff(slack, "no.trigger")
    fields = slack.command_fields("idea", user, channel=slack.uid("C"))
    del fields["trigger_id"]
    body = slack.post(form_body(fields), "application/x-www-form-urlencoded").json
    assert "I'll ask a few questions" in body["text"] and "please fill in the form" not in body["text"]
    assert not [c for c in slack.fake.named("views.open") if c.args.get("trigger_id") is None]


def test_a_slow_answer_without_a_response_url_goes_to_the_persons_dm(slack):
    user, email = staff(slack, "slow.no.url")
    slack.fake.scripted[f"users.info:{user}"] = [
        (200, {"ok": True, "user": {"id": user, "profile": {"email": email}}}, {}, 2.5)
    ]
    fields = slack.command_fields("whoami", user)
    del fields["response_url"]
    answer = slack.post(form_body(fields), "application/x-www-form-urlencoded")
    assert answer.status == 200 and answer.body == "Working on it…"
    posted = slack.fake.wait_for("chat.postMessage", channel=user)
    assert len(posted) == 1 and email in posted[0].args["text"]


# --- events ---------------------------------------------------------------------------------------------


def test_a_dm_in_a_thread_is_answered_in_that_thread(slack):
    user = slack.person("demo@kent.gov.uk")
    channel = slack.uid("D")
    body = slack.dm_event(user, "whoami", channel)
    body["event"]["thread_ts"] = "1700000000.000100"
    slack.post_json(body)
    posted = slack.fake.wait_for("chat.postMessage", channel=channel)
    assert len(posted) == 1 and posted[0].args["thread_ts"] == "1700000000.000100"


def test_a_dm_with_a_file_is_answered_and_an_edit_is_not(slack):
    user = slack.person("demo@kent.gov.uk")
    channel = slack.uid("D")
    body = slack.dm_event(user, "whoami", channel)
    body["event"].update(subtype="file_share", files=[{"id": "F123", "name": "agenda.pdf"}])
    slack.post_json(body)
    assert len(slack.fake.wait_for("chat.postMessage", channel=channel)) == 1
    edit = slack.dm_event(user, "groups", channel)
    edit["event"].update(subtype="message_changed", message=dict(edit["event"], edited={"user": user}))
    del edit["event"]["user"]
    assert slack.post_json(edit).status == 200
    time.sleep(SETTLE)
    assert len(slack.fake.matching("chat.postMessage", channel=channel)) == 1


def test_dms_without_event_or_message_ids_are_each_answered_once(slack):
    # Their once-only key was "event:None": the first such DM ever was answered, every later one dropped.
    user = slack.person("demo@kent.gov.uk")
    channel = slack.uid("D")
    first, second = slack.dm_event(user, "whoami", channel), slack.dm_event(user, "groups", channel)
    for body in (first, second):
        del body["event_id"], body["event"]["client_msg_id"]
    second["event"]["ts"] = "1700000999.000200"
    slack.post_json(first)
    slack.post_json(second)
    slack.post_json(first, headers={"X-Slack-Retry-Num": "1"})  # a retry: the same channel and ts
    posted = slack.fake.wait_for("chat.postMessage", count=2, channel=channel)
    time.sleep(SETTLE)
    assert len(slack.fake.matching("chat.postMessage", channel=channel)) == len(posted) == 2


@pytest.mark.parametrize(
    "event",
    [
        {"type": "reaction_added", "user": "U1", "reaction": "thumbsup", "item": {"type": "message", "channel": "C1"}},
        {"type": "app_uninstalled"},
        {"type": "message", "channel_type": "im", "channel": "D1", "text": "no user", "ts": "1.2"},
        {"type": "app_mention", "text": "<@UBOT> no user or channel", "ts": "1.2"},
        {"type": "app_home_opened", "tab": "home"},
    ],
)
def test_events_that_need_nothing_are_acknowledged_with_200(slack, event):
    # Bolt answers 404 when no listener takes an event, and Slack retries it (and in time turns off
    # the subscription); a listener used to raise on a missing user, channel or ts.
    before = len(slack.fake.snapshot())
    answer = slack.post_json(slack.event_body(event))
    assert answer.status == 200 and answer.body == ""
    time.sleep(0.3)
    assert not [c.method for c in slack.fake.snapshot()[before:] if c.method.startswith(("chat.", "views."))]


def test_app_rate_limited_is_acknowledged(slack):
    answer = slack.post_json(
        {
            "token": "legacy",
            "type": "app_rate_limited",
            "team_id": TEAM,
            "minute_rate_limited": 1518467820,
            "api_app_id": "A1",
        }
    )
    assert answer.status == 200 and answer.body == ""


# --- interactivity -----------------------------------------------------------------------------------------


def _press(slack: SlackBot, user: str, value: str, channel: str, **changes) -> dict:
    payload = {
        "type": "block_actions",
        "api_app_id": "A1",
        "token": "legacy",
        "user": {"id": user, "team_id": TEAM},
        "team": {"id": TEAM},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel},
        "channel": {"id": channel},
        "actions": [
            {"type": "button", "action_id": "kc:1", "block_id": "b", "value": value, "action_ts": f"{time.time():.6f}"}
        ],
    }
    payload.update(changes)
    return payload


def test_button_presses_without_trigger_ids_are_each_answered_once(slack):
    user = slack.person("demo@kent.gov.uk")
    channel = "D" + user[1:]
    first, second = _press(slack, user, "whoami", channel), _press(slack, user, "groups", channel)
    second["actions"][0]["action_ts"] = "1700000999.000200"
    for payload in (first, second, first):  # the last one a repeat: the same person and action_ts
        assert slack.post_form({"payload": json.dumps(payload)}).status == 200
    posted = slack.fake.wait_for("chat.postMessage", count=2, channel=channel)
    time.sleep(SETTLE)
    assert len(slack.fake.matching("chat.postMessage", channel=channel)) == len(posted) == 2


def test_a_button_in_a_channel_without_a_response_url_answers_in_the_dm(slack):
    user = slack.person("demo@kent.gov.uk")
    channel = slack.uid("C")
    slack.post_form({"payload": json.dumps(_press(slack, user, "whoami", channel, trigger_id=slack.uid("TR")))})
    posted = slack.fake.wait_for("chat.postMessage", channel=user)
    assert len(posted) == 1 and "Demo User (KCC)" in posted[0].args["text"]
    assert not slack.fake.matching("chat.postMessage", channel=channel)  # nothing public


@pytest.mark.parametrize("actions", [[], [{"type": "button", "value": "help"}], None])
def test_block_actions_without_an_action_of_ours_are_acknowledged(slack, actions):
    user = slack.person("demo@kent.gov.uk")
    payload = _press(slack, user, "help", "D" + user[1:], actions=actions, trigger_id=slack.uid("TR"))
    answer = slack.post_form({"payload": json.dumps(payload)})
    assert answer.status == 200 and answer.body == ""
    time.sleep(0.3)
    assert not slack.fake.matching("chat.postMessage", channel="D" + user[1:])


@pytest.mark.parametrize("metadata", ["not JSON at all", json.dumps(["a", "list"]), "", "null"])
def test_a_modal_whose_metadata_is_not_an_object_is_still_taken(slack, metadata):
    """The form is the modal's callback id; what was prefilled is lost, and Slack sends the rest."""
    user, email = staff(slack, "odd.metadata")
    title = f"Odd metadata {slack.uid('')}"
    answer = slack.submit_view(user, dict(CASE_FIELDS, title=title))
    assert answer.status == 200  # the control: submitted as the bot opened it
    view_id = slack.uid("V")
    state = {
        name: {"value": {"type": "plain_text_input", "value": value}}
        for name, value in dict(CASE_FIELDS, title=title + " again").items()
    }
    odd = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": "kc_form:business_case",
            "private_metadata": metadata,
            "state": {"values": state},
            "blocks": [],
        },
    }
    answer = slack.post_form({"payload": json.dumps(odd)})
    assert answer.status == 200 and answer.body == ""
    slack.fake.wait_for("chat.postMessage", count=2, channel=user)
    assert slack.scalar("SELECT COUNT(*) FROM business_case WHERE title IN (?, ?)", (title, title + " again")) == 2


def test_modal_submissions_without_a_view_id_are_each_taken(slack):
    # Their once-only key was "view:None": only the first such submission ever was stored.
    user, _ = staff(slack, "no.view.id")
    titles = [f"No view id {slack.uid('')}", f"No view id {slack.uid('')}"]
    for title in titles:
        state = {
            name: {"value": {"type": "plain_text_input", "value": value}}
            for name, value in dict(CASE_FIELDS, title=title).items()
        }
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "view": {
                "type": "modal",
                "callback_id": "kc_form:business_case",
                "private_metadata": json.dumps({"form": "business_case", "prefilled": {}}),
                "state": {"values": state},
                "blocks": [],
            },
        }
        assert slack.post_form({"payload": json.dumps(payload)}).body == ""
    slack.fake.wait_for("chat.postMessage", count=2, channel=user)
    assert slack.scalar("SELECT COUNT(*) FROM business_case WHERE title IN (?, ?)", tuple(titles)) == 2


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "view_closed", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "kc_form:business_case"}},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "someone_elses"}},
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "callback_id": "kc_form:no_such_form"}},
        {"type": "shortcut", "callback_id": "anything", "trigger_id": "1.2", "user": {"id": "U1"}},
        {
            "type": "message_action",
            "callback_id": "anything",
            "trigger_id": "1.2",
            "user": {"id": "U1"},
            "message": {"text": "hi"},
        },
        {"type": "interactive_message", "callback_id": "old_attachment"},
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "view": {"id": "V1", "type": "workflow_step", "callback_id": "kc_form:business_case"},
        },
        {"type": "workflow_step_edit", "callback_id": "anything", "trigger_id": "1.2", "user": {"id": "U1"}},
    ],
)
def test_interactions_that_are_not_ours_are_acknowledged_with_200(slack, payload):
    answer = slack.post_form({"payload": json.dumps(payload)})
    assert answer.status == 200 and answer.body == ""


# --- the signing layer -------------------------------------------------------------------------------------

MALFORMED = {
    "empty": (b"", "application/x-www-form-urlencoded"),
    "not UTF-8": (b"token=x&text=\xff\xfe", "application/x-www-form-urlencoded"),
    "JSON list": (b"[1, 2]", "application/json"),
    "JSON null": (b"null", "application/json"),
    "JSON without a type": (b'{"event": {}}', "application/json"),
    "broken JSON": (b'{"type": "event_callback", ', "application/json"),
    "payload not JSON": (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    "form without payload or command": (b"token=x&team_id=T1", "application/x-www-form-urlencoded"),
    "unknown charset": (b'{"type": "event_callback"}', "application/json; charset=nonsense"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_signed_body_that_is_no_slack_request_is_400_and_unsigned_401(slack, name):
    raw, kind = MALFORMED[name]
    ts = str(int(time.time()))
    unsigned = slack.post_raw(
        raw, {"Content-Type": kind, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + "0" * 64}
    )
    assert unsigned.status == 401
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
    signed = slack.post_raw(
        raw, {"Content-Type": kind, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    )
    expected = 200 if name == "unknown charset" else 400  # a JSON event without one: nothing to do
    assert signed.status == expected, signed


def test_ssl_check_needs_a_signature(slack):
    # Bolt answers ssl_check before it checks the signature.
    body = "ssl_check=1&token=legacy"
    assert slack.post(body, "application/x-www-form-urlencoded", signed=False).status == 401
    answer = slack.post(body, "application/x-www-form-urlencoded")
    assert answer.status == 200 and answer.body == ""


@pytest.mark.parametrize("signature", ["v0=é" + "0" * 63, "v0=\u00b2"])
def test_a_signature_that_is_not_ascii_is_401(slack, signature):
    # slack_sdk's hmac.compare_digest raises for non-ASCII strings: a 500.
    answer = slack.post_raw(
        b"ssl_check=1",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": signature,
        },
    )
    assert answer.status == 401
