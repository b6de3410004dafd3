"""Property-based tests: whatever Slack can send, signed, over real HTTP to `serve` (the shared
`slack` server), is answered as it deserves, and whatever isn't signed is refused with 401.

Answered as it deserves: never a 404 or a 5xx; a slash command acknowledged with an answer (or with
nothing when a modal opened, or "Working on it…" then the answer through its response URL); a DM
answered with chat.postMessage in its channel (and thread); a mention answered privately; the Home
tab published; a button of ours answered, where the person will see it; a modal's submission
answered with errors or closed and confirmed; anything else acknowledged with an empty 200. Never
"Sorry, something went wrong" (the router's SORRY), and no traceback or error in the server's log.
Every message and view the bot sent is checked against Block Kit's rules by `audit_slack_payloads`.

The people are new partner staff, outsiders and people without a visible e-mail, never the demo's
chairs or admins: fuzzed words could otherwise cancel the demo meetings other tests rely on.

About 2,100 generated requests a run in all (EXAMPLES); the four tests take about 20 s together
(KC_FUZZ_SCALE=10: 21,000 requests, about 4.5 minutes).
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

import bot.commands  # noqa: F401  (declares every command)
from bot.language import _lead_words
from core.commands import COMMANDS
from core.forms import FORMS
from tests.slack.harness import SECRET, TEAM, SlackBot

SORRY = "something went wrong on my side"
# Generated requests per test, 2,100 a run in all; KC_FUZZ_SCALE=10 for a longer hunt.
EXAMPLES = {
    name: int(count * float(os.environ.get("KC_FUZZ_SCALE", "1")))
    for name, count in {"commands": 550, "events": 600, "interactions": 550, "signing": 400}.items()
}
FUZZ = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTLE = 1.0
WAIT = 30.0  # for all the answers a test's requests deserve

# --- what people type ---------------------------------------------------------------------------------

MRKDWN = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@U0ADMIN|admin>",
    "<#C123|general>",
    "<https://evil.example|click me>",
    "<mailto:a@b.c|mail>",
    "&lt;",
    "&gt;",
    "&amp;",
    "&",
    "<",
    ">",
    "*bold*",
    "_it_",
    "~no~",
    "`code`",
    "```pre```",
    ":smile:",
    "<!date^1392734382^{date}|Feb 18>",
    "<!subteam^S123|@team>",
    "\u200b",
    "\u202e",
    "\x00",
    "\r\n",
    "\t",
    "\\",
    '"',
    "%",
    "+",
    "=",
    "&x=1",
    "payload",
    "payload=",
    "ssl_check=1",
    "{",
    "}",
]
# Command words, from the declarations (bot/commands.py): each command's own leading words
# (`join`, `register`, `fund add`...), the whole words of those that take nothing, a few whole
# commands a fresh member of staff may use without harming the demo data other tests read, and
# the forms' own words.
VERBS = sorted(
    {_lead_words(c.suggestion) for c in COMMANDS if c.suggestion and _lead_words(c.suggestion)}
    | {c.suggestion for c in COMMANDS if c.complete and c.suggestion}
    | {"next gis meeting", "register 1 online", "idea 1", "ideas mine", "calendar gis", "schedule gis", "ack 1"}
    | {"link channel gis", "/kc", "kc", "?", "cancel", "continue", "back", "skip", "yes", "no thanks"}
)
word = st.one_of(st.sampled_from(MRKDWN), st.sampled_from(VERBS), st.text(max_size=12))
texts = st.one_of(
    st.text(max_size=60),  # any Unicode: control characters, NUL, right-to-left marks, emoji
    st.builds(" ".join, st.lists(word, max_size=6)),
    st.builds(lambda verb, rest: f"{verb} {rest}", st.sampled_from(VERBS), st.text(max_size=40)),
    # Long, up to a message's limit (a slash command's text is far shorter in practice)
    st.builds(lambda chunk, n: (chunk * n)[:n], st.text(min_size=1, max_size=8), st.integers(900, 4_000)),
)
LONG = "x" * 40_000  # Slack's message limit


def ids(prefix: str) -> st.SearchStrategy[str]:
    """A Slack-like id's prefix, or any text; the test appends a unique suffix."""
    return st.one_of(st.just(prefix), st.just(prefix), st.text(max_size=10))


PEOPLE = ("staff", "outsider", "no e-mail")


def new_person(slack: SlackBot, kind: str) -> str:
    """A Slack user id nobody used before, whose users.info tells the kind of address."""
    tag = slack.uid("").lower()
    return slack.person({"staff": f"fuzz.{tag}@kent.gov.uk", "outsider": f"fuzz.{tag}@gmail.com"}.get(kind))


# --- watching the server --------------------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("slack_log_is_quiet")


def no_apology(slack: SlackBot, calls_from: int, acks_from: int) -> None:
    """Nothing the bot said since then is the router's apology for a failure."""
    for body, ack in slack.acks[acks_from:]:
        assert SORRY not in json.dumps(ack), f"an ack apologised, for {body!r}: {ack}"
    for call in slack.fake.snapshot()[calls_from:]:
        assert SORRY not in json.dumps(call.args, default=str), f"{call.method} apologised: {call.args}"


@dataclass
class Expected:
    """An answer a request deserves (or that it gets none), checked once all requests are in."""

    what: str  # what was sent, for the failure message
    method: str = ""  # "" for nothing
    args: dict[str, Any] = field(default_factory=dict)
    # Where nothing may arrive: (method, args) pairs
    nothing: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Several places the answer may go (a button): any one of these, exactly once in all
    anywhere: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    check: Optional[Any] = None  # a function of the call, for what it must say
    acked: bool = False  # answered in the ack itself (a modal's errors)


def verify(slack: SlackBot, expected: list[Expected], examples: int) -> None:
    """Every answer deserved came, exactly once, and nothing came where none was. `examples`: how
    many requests the test meant to send; at least a fifth must deserve an answer, or the strategies
    have drifted into testing only what is ignored."""
    fake = slack.fake
    assert len(expected) >= examples, f"only {len(expected)} requests sent"
    answered = sum(1 for e in expected if e.method or e.anywhere or e.acked)
    assert answered >= len(expected) // 5, f"only {answered} of {len(expected)} requests deserved an answer"

    def found(e: Expected) -> list:
        if e.anywhere:
            return [c for method, args in e.anywhere for c in fake.matching(method, **args)]
        return fake.matching(e.method, **e.args)

    deadline = time.monotonic() + WAIT
    waiting = [e for e in expected if e.method or e.anywhere]
    while waiting and time.monotonic() < deadline:
        waiting = [e for e in waiting if not found(e)]
        time.sleep(0.05)
    assert not waiting, f"{len(waiting)} requests got no answer, e.g. {waiting[0].what}"
    time.sleep(SETTLE)
    for e in expected:
        if e.method or e.anywhere:
            calls = found(e)
            assert len(calls) == 1, f"{len(calls)} answers to {e.what}: {[c.method for c in calls]}"
            if e.check is not None:
                e.check(calls[0])
        for method, args in e.nothing:
            assert not fake.matching(method, **args), f"{method} {args} after {e.what}"


# --- (a) slash commands ---------------------------------------------------------------------------------

OPTIONAL_COMMAND_FIELDS = [
    "token",
    "team_id",
    "team_domain",
    "enterprise_id",
    "enterprise_name",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
    "text",
]
# Extra fields with names Bolt gives no meaning to (Slack adds fields from time to time).
extra_names = st.one_of(
    st.sampled_from(
        ["context_team_id", "context_enterprise_id", "is_ext_shared_channel", "thread_ts", "x_extra", "api_version"]
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).map("x_".__add__),
)


@st.composite
def commands(draw) -> dict[str, Any]:
    return {
        "person": draw(st.sampled_from(PEOPLE)),
        "user_prefix": draw(st.one_of(st.just(None), ids("U"))),  # None: the person's own id
        "command": draw(st.sampled_from(["/kc", "/kc", "/kc", "/kentconnects", "/KC"])),
        "text": draw(texts),
        "team_id": draw(st.sampled_from([TEAM, TEAM, "", "E123", "T" + "9" * 40])),
        "team_domain": draw(st.text(max_size=30)),
        "channel": draw(st.sampled_from(["C", "D", "G", "", "x"])),
        "channel_name": draw(
            st.one_of(
                st.sampled_from(["general", "directmessage", "privategroup", "payload-team"]), st.text(max_size=30)
            )
        ),
        "user_name": draw(st.text(max_size=30)),
        "enterprise": draw(st.sampled_from([None, ("E1", "Kent"), ("", "")])),
        "missing": draw(st.sets(st.sampled_from(OPTIONAL_COMMAND_FIELDS), max_size=4)),
        "extra": draw(st.dictionaries(extra_names, st.text(max_size=20), max_size=3)),
        "duplicated": draw(
            st.lists(st.sampled_from(["text", "channel_name", "user_name", "team_domain", "token"]), max_size=2)
        ),
    }


def command_pairs(slack: SlackBot, case: dict[str, Any]) -> list[tuple[str, str]]:
    user = new_person(slack, case["person"])
    if case["user_prefix"] is not None:
        user = case["user_prefix"] + slack.uid("")
    channel = case["channel"] + slack.uid("") if case["channel"] != "" else ""
    trigger = slack.uid("TR")
    fields = {
        "token": "legacy",
        "team_id": case["team_id"],
        "team_domain": case["team_domain"],
        "channel_id": channel,
        "channel_name": case["channel_name"],
        "user_id": user,
        "user_name": case["user_name"],
        "command": case["command"],
        "text": case["text"],
        "api_app_id": "A1",
        "is_enterprise_install": "false",
        "response_url": f"{slack.fake.base}/response/{trigger}",
        "trigger_id": trigger,
    }
    if case["enterprise"]:
        fields["enterprise_id"], fields["enterprise_name"] = case["enterprise"]
    for name in case["missing"]:
        fields.pop(name, None)
    fields.update(case["extra"])
    pairs = list(fields.items())
    for name in case["duplicated"]:
        pairs.insert(0, (name, "an earlier copy"))  # the last copy is the one that counts, for Bolt and us
    return pairs


@settings(max_examples=EXAMPLES["commands"], **FUZZ)
@given(case=commands())
@example(
    case={
        "person": "staff",
        "user_prefix": None,
        "command": "/kc",
        "text": "payload",
        "team_id": TEAM,
        "team_domain": "kc",
        "channel": "C",
        "channel_name": "payload-team",
        "user_name": "u",
        "enterprise": None,
        "missing": set(),
        "extra": {},
        "duplicated": [],
    }
)
@example(
    case={
        "person": "staff",
        "user_prefix": None,
        "command": "/kc",
        "text": "idea",
        "team_id": TEAM,
        "team_domain": "kc",
        "channel": "C",
        "channel_name": "general",
        "user_name": "u",
        "enterprise": None,
        "missing": {"trigger_id"},
        "extra": {},
        "duplicated": [],
    }
)
@example(
    case={
        "person": "staff",
        "user_prefix": None,
        "command": "/kc",
        "text": LONG,
        "team_id": TEAM,
        "team_domain": "kc",
        "channel": "D",
        "channel_name": "directmessage",
        "user_name": "u",
        "enterprise": None,
        "missing": set(),
        "extra": {},
        "duplicated": [],
    }
)
@example(
    case={
        "person": "staff",
        "user_prefix": None,
        "command": "/kc",
        "text": "help",
        "team_id": TEAM,
        "team_domain": "kc",
        "channel": "C",
        "channel_name": "general",
        "user_name": "u",
        "enterprise": None,
        "missing": {"user_id"},
        "extra": {},
        "duplicated": [],
    }
)
def test_any_slash_command_is_answered_in_its_ack(slack, case):
    calls_from, acks_from = len(slack.fake.snapshot()), len(slack.acks)
    pairs = command_pairs(slack, case)
    fields = dict(pairs)
    answer = slack.post(urllib.parse.urlencode(pairs), "application/x-www-form-urlencoded")
    assert answer.status == 200, (answer, fields)
    trigger = fields.get("trigger_id")
    if not fields.get("user_id"):
        assert answer.body == "Sorry, Slack didn't tell me who you are, so I can't answer that. Please try again."
    elif answer.body == "":  # a form opened as a modal: only with a trigger id to open it
        assert trigger and slack.fake.matching("views.open", trigger_id=trigger), (fields, "no modal opened")
    elif answer.body == "Working on it…":  # slower than the ack may wait: the answer follows
        target = (
            ("/response/" + trigger, {})
            if fields.get("response_url")
            else ("chat.postMessage", {"channel": fields["user_id"]})
        )
        assert slack.fake.wait_for(target[0], **target[1]), (fields, "no answer after 'Working on it'")
    else:
        body = answer.json  # SlackBot.post has checked it against Block Kit
        assert body["response_type"] == "ephemeral" and body["text"].strip(), body
        if "please fill in the form" in body["text"]:
            pytest.fail(f"a form that can't open was offered as one: {fields}")
    no_apology(slack, calls_from, acks_from)


# --- (b) Events API --------------------------------------------------------------------------------------

MESSAGE_SUBTYPES = [
    None,
    None,
    None,
    "file_share",
    "thread_broadcast",
    "message_changed",
    "message_deleted",
    "bot_message",
    "channel_join",
    "me_message",
    "message_replied",
    "huddle_thread",
]
OTHER_EVENTS = [
    "reaction_added",
    "member_joined_channel",
    "app_uninstalled",
    "tokens_revoked",
    "team_join",
    "message_metadata_posted",
    "im_history_changed",
    "user_change",
    "function_executed",
    "x_new_event",
]
MAYBE = st.sampled_from(["present", "present", "present", "missing", "null"])


@st.composite
def presence(draw, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, str]:
    """ "present", "missing" or "null" for each field: the required ones all present most of the time
    (a request as Slack sends it), otherwise one or two of them missing or null; the optional ones freely."""
    how = {name: "present" for name in required}
    if draw(st.integers(0, 3)) == 0:
        for name in draw(st.sets(st.sampled_from(required), min_size=1, max_size=2)):
            how[name] = draw(st.sampled_from(["missing", "null"]))
    how.update({name: draw(MAYBE) for name in optional})
    return how


@st.composite
def events(draw) -> dict[str, Any]:
    return {
        "kind": draw(
            st.sampled_from(
                ["dm"] * 5
                + ["mention"] * 2
                + ["home"] * 2
                + ["channel message", "other", "rate limited", "url verification"]
            )
        ),
        "person": draw(st.sampled_from(PEOPLE)),
        "subtype": draw(st.one_of(st.none(), st.none(), st.sampled_from(MESSAGE_SUBTYPES))),
        "bot_id": draw(st.sampled_from([None] * 6 + ["B0OTHER"])),
        "files": draw(st.booleans()),
        "edited": draw(st.booleans()),
        "thread": draw(st.booleans()),
        "text": draw(texts),
        **draw(presence(("user", "channel", "ts", "text_field"), ("event_id", "client_msg_id", "team_id"))),
        "authorizations": draw(st.booleans()),
        "tab": draw(st.sampled_from(["home", "home", "messages", None, "other"])),
        "other_type": draw(st.one_of(st.sampled_from(OTHER_EVENTS), st.text(min_size=1, max_size=20))),
        "channel_prefix": draw(ids("D")),
        "challenge": draw(st.text(max_size=80)),
    }


def _maybe(event: dict, key: str, how: str, value: Any) -> None:
    if how == "present":
        event[key] = value
    elif how == "null":
        event[key] = None


def build_event(slack: SlackBot, case: dict[str, Any]) -> tuple[dict[str, Any], Expected]:
    """The request body and the answer it deserves."""
    kind = case["kind"]
    if kind == "rate limited":
        body = {
            "token": "legacy",
            "type": "app_rate_limited",
            "team_id": TEAM,
            "minute_rate_limited": 1518467820,
            "api_app_id": "A1",
        }
        return body, Expected(f"{kind}")
    if kind == "url verification":
        return {"token": "legacy", "type": "url_verification", "challenge": case["challenge"]}, Expected(kind)
    user = new_person(slack, case["person"])
    channel = ("C" if kind in ("mention", "channel message") else case["channel_prefix"]) + slack.uid("")
    ts = f"{time.time():.6f}"
    event: dict[str, Any] = {"event_ts": ts}
    _maybe(event, "user", case["user"], user)
    _maybe(event, "channel", case["channel"], channel)
    _maybe(event, "ts", case["ts"], ts)
    thread = "1700000000.000100" if case["thread"] else None
    if thread:
        event["thread_ts"] = thread
    if kind in ("dm", "channel message"):
        event.update(type="message", channel_type="im" if kind == "dm" else "channel")
        _maybe(event, "text", case["text_field"], case["text"])
        _maybe(event, "client_msg_id", case["client_msg_id"], slack.uid("M"))
        if case["subtype"]:
            event["subtype"] = case["subtype"]
        if case["subtype"] == "message_changed":  # an edit: the message is inside, with no user outside
            event.pop("user", None)
            event["message"] = {
                "type": "message",
                "user": user,
                "text": case["text"],
                "ts": ts,
                "edited": {"user": user, "ts": ts},
            }
            event["previous_message"] = {"type": "message", "user": user, "text": "before", "ts": ts}
        if case["bot_id"]:
            event["bot_id"] = case["bot_id"]
        if case["files"]:
            event["files"] = [{"id": slack.uid("F"), "name": "agenda.pdf", "mimetype": "application/pdf"}]
        if case["edited"]:
            event["edited"] = {"user": user, "ts": ts}
    elif kind == "mention":
        event["type"] = "app_mention"
        _maybe(event, "text", case["text_field"], "<@UBOT> " + case["text"])
    elif kind == "home":
        event.update(type="app_home_opened", tab=case["tab"])
        if case["tab"] is None:
            event.pop("tab")
        if case["tab"] == "home":
            event["view"] = {"id": slack.uid("V"), "type": "home", "blocks": []}
    else:
        event["type"] = case["other_type"]
    body: dict[str, Any] = {
        "token": "legacy",
        "api_app_id": "A1",
        "type": "event_callback",
        "event": event,
        "event_time": int(time.time()),
    }
    _maybe(body, "team_id", case["team_id"], TEAM)
    _maybe(body, "event_id", case["event_id"], slack.uid("EV"))
    if case["authorizations"]:
        body["authorizations"] = [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}]
    return body, expected_for_event(kind, case, event, user, channel, thread)


def expected_for_event(kind: str, case: dict, event: dict, user: str, channel: str, thread: Optional[str]) -> Expected:
    what = f"{kind} {json.dumps(event)[:300]}"
    has = lambda key: isinstance(event.get(key), str) and event[key] != ""  # noqa: E731
    if kind == "dm":
        typed = event.get("subtype") in (None, "file_share", "thread_broadcast") and not event.get("bot_id")
        if typed and has("user") and has("channel"):

            def in_thread(call):
                assert call.args.get("thread_ts") == thread, (what, call.args.get("thread_ts"))

            return Expected(what, "chat.postMessage", {"channel": channel}, check=in_thread)
    elif kind == "mention":
        if has("user") and has("channel"):
            where = thread or (event["ts"] if has("ts") else None)

            def privately_in_thread(call):
                assert call.args["user"] == user and call.args.get("thread_ts") == where, (what, call.args)

            return Expected(
                what,
                "chat.postEphemeral",
                {"channel": channel},
                check=privately_in_thread,
                nothing=[("chat.postMessage", {"channel": channel})],
            )
    elif kind == "home":
        if event.get("tab") == "home" and has("user"):
            return Expected(what, "views.publish", {"user_id": user})
        return Expected(what, nothing=[("views.publish", {"user_id": user})])
    return Expected(what, nothing=[(m, {"channel": channel}) for m in ("chat.postMessage", "chat.postEphemeral")])


def test_any_event_is_acknowledged_and_answered_where_due(slack):
    calls_from, acks_from = len(slack.fake.snapshot()), len(slack.acks)
    expected: list[Expected] = []

    @settings(max_examples=EXAMPLES["events"], **FUZZ)
    @given(case=events())
    def send(case):
        body, deserved = build_event(slack, case)
        answer = slack.post_json(body)
        assert answer.status == 200, (answer, body)
        if case["kind"] == "url verification":
            assert answer.json == {"challenge": case["challenge"]}
        else:
            assert answer.body == "", (answer, body)  # an event is acknowledged at once, with nothing
        expected.append(deserved)

    send()
    verify(slack, expected, EXAMPLES["events"])
    no_apology(slack, calls_from, acks_from)


# --- (c) interactivity -------------------------------------------------------------------------------------

ACTION_IDS = ["kc:0", "kc:1", "kc:7", "kc:", "kc:xyz", "other", "kc_form:x", "kc-1", "Kc:1", ""]


@st.composite
def our_button(draw) -> dict[str, Any]:
    """A button the bot sent: its action id, the command as its value."""
    return {
        "type": "button",
        "action_id": f"kc:{draw(st.integers(0, 24))}",
        "block_id": draw(st.text(max_size=8)),
        "value": draw(st.one_of(st.sampled_from(VERBS), texts)),
        "text": {"type": "plain_text", "text": "Go"},
        "action_ts": f"{time.time():.6f}",
    }


@st.composite
def actions(draw) -> dict[str, Any]:
    """Any action: ours or not, with or without an id, a value, a timestamp."""
    action: dict[str, Any] = {
        "type": draw(st.sampled_from(["button", "button", "static_select", "overflow"])),
        "block_id": draw(st.text(max_size=10)),
    }
    if draw(st.integers(0, 5)):  # now and then none at all
        action["action_id"] = draw(st.one_of(st.sampled_from(ACTION_IDS), st.text(max_size=10)))
    if draw(st.integers(0, 4)):
        action["value"] = draw(st.one_of(st.sampled_from(VERBS), texts))
    if action["type"] == "static_select":
        action["selected_option"] = {"text": {"type": "plain_text", "text": "x"}, "value": draw(st.sampled_from(VERBS))}
    if draw(st.booleans()):
        action["action_ts"] = f"{time.time():.6f}"
    if draw(st.booleans()):
        action["text"] = {"type": "plain_text", "text": "Go"}
    return action


@st.composite
def state_values(draw) -> dict[str, Any]:
    """What Slack's view state may hold for each input, and some things it never does."""
    names = sorted({f.name for form in FORMS.values() for f in form.fields})
    block_ids = draw(st.lists(st.one_of(st.sampled_from(names), st.text(max_size=8)), max_size=10, unique=True))
    values = {}
    for block_id in block_ids:
        element = draw(st.sampled_from(["text", "date", "select", "empty", "odd", "other action"]))
        if element == "text":
            values[block_id] = {"value": {"type": "plain_text_input", "value": draw(st.one_of(texts, st.none()))}}
        elif element == "date":
            values[block_id] = {
                "value": {
                    "type": "datepicker",
                    "selected_date": draw(st.sampled_from(["2027-03-09", "2027-02-30", "", None, "tomorrow"])),
                }
            }
        elif element == "select":
            values[block_id] = {
                "value": {
                    "type": "static_select",
                    "selected_option": draw(
                        st.sampled_from(
                            [None, {"value": "all"}, {"value": ""}, {}, {"text": {"type": "plain_text", "text": "x"}}]
                        )
                    ),
                }
            }
        elif element == "empty":
            values[block_id] = {}
        elif element == "odd":
            values[block_id] = {
                "value": draw(
                    st.sampled_from([None, 5, "text", [], {"type": None}, {"type": "plain_text_input", "value": 12}])
                )
            }
        else:
            values[block_id] = {"other": {"type": "plain_text_input", "value": "x"}}
    return values


# A business case's answers as a modal's state, all valid (for the business_case form).
VALID_CASE = {
    name: {"value": {"type": "plain_text_input", "value": value}}
    for name, value in {
        "title": "Fuzzed desk booking",
        "problem": "Visiting staff cannot book a desk.",
        "proposal": "A booking tool.",
        "partners": "all",
        "groups": "GIS",
        "sponsor": "Smart Kent",
        "cost": "£25,000",
        "timescale": "9 months",
        "contact": "me",
    }.items()
}
METADATA = [
    "ours",
    "not json",
    "a list",
    "a number",
    "a string",
    "null",
    "missing",
    "empty",
    "prefilled not an object",
    "channel not a string",
]


@st.composite
def interactions(draw) -> dict[str, Any]:
    return {
        "type": draw(
            st.sampled_from(
                ["block_actions"] * 5
                + ["view_submission"] * 4
                + [
                    "view_closed",
                    "shortcut",
                    "message_action",
                    "block_suggestion",
                    "interactive_message",
                    "workflow_step_edit",
                    "x_new_kind",
                ]
            )
        ),
        "person": draw(st.sampled_from(PEOPLE)),
        **draw(presence(("user", "team", "trigger_id", "response_url", "view_id"))),
        "container": draw(
            st.sampled_from(["message", "message", "ephemeral message", "home view", "modal", "missing"])
        ),
        "channel": draw(st.sampled_from(["C", "C", "G", "D", "D", "missing", "null"])),
        "actions": draw(
            st.one_of(
                st.lists(our_button(), min_size=1, max_size=1),
                st.lists(our_button(), min_size=1, max_size=1),
                st.lists(actions(), max_size=3),
                st.sampled_from([None, "missing"]),
            )
        ),
        "form": draw(st.sampled_from(sorted(FORMS) * 2 + ["no_such_form"])),
        "callback": draw(st.sampled_from(["ours"] * 5 + ["other", "missing"])),
        "metadata": draw(st.sampled_from(["ours"] * 6 + METADATA)),
        "metadata_text": draw(st.text(max_size=40)),
        "state": draw(st.one_of(state_values(), st.just(VALID_CASE))),
        "blocks": draw(st.sampled_from(["inputs", "none", "odd"])),
        "view_type": draw(st.sampled_from(["modal"] * 6 + [None, "home", "workflow_step"])),
        "callback_id": draw(st.text(max_size=20)),
    }


def build_interaction(slack: SlackBot, case: dict[str, Any]) -> tuple[dict[str, Any], Expected]:
    kind = case["type"]
    user = new_person(slack, case["person"])
    trigger = slack.uid("TR")
    channel = case["channel"] + slack.uid("") if case["channel"] in ("C", "G", "D") else None
    payload: dict[str, Any] = {"type": kind, "api_app_id": "A1", "token": "legacy", "is_enterprise_install": False}
    _maybe(payload, "user", case["user"], {"id": user, "username": user.lower(), "team_id": TEAM})
    _maybe(payload, "team", case["team"], {"id": TEAM, "domain": "kc"})
    _maybe(payload, "trigger_id", case["trigger_id"], trigger)
    response_url = f"{slack.fake.base}/response/{trigger}"
    _maybe(payload, "response_url", case["response_url"], response_url)
    if case["channel"] == "null":
        payload["channel"] = None
    elif channel:
        payload["channel"] = {"id": channel, "name": "general"}
    container = case["container"]
    if container in ("message", "ephemeral message") and channel:
        payload["container"] = {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": channel,
            "is_ephemeral": container == "ephemeral message",
        }
    elif container == "home view":
        payload["container"] = {"type": "view", "view_id": slack.uid("V")}
        payload["view"] = {"id": payload["container"]["view_id"], "type": "home", "blocks": []}
    elif container == "modal":
        payload["container"] = {"type": "view", "view_id": slack.uid("V")}
    what = f"{kind} {json.dumps(payload)[:200]}"
    # Where an answer to this person could go: the modal (trigger), the response URL, their DM or the channel.
    places = [
        ("views.open", {"trigger_id": trigger}),
        (f"/response/{trigger}", {}),
        ("chat.postMessage", {"channel": user}),
        ("chat.postEphemeral", {"user": user}),
    ]
    if channel:
        places.append(("chat.postMessage", {"channel": channel}))
    nowhere = Expected(what, nothing=places)
    if kind == "block_actions":
        if case["actions"] != "missing":
            payload["actions"] = case["actions"]
        first = payload.get("actions")[0] if isinstance(payload.get("actions"), list) and payload["actions"] else None
        ours = (
            isinstance(first, dict) and isinstance(first.get("action_id"), str) and first["action_id"].startswith("kc:")
        )
        if ours and case["user"] == "present":
            return payload, Expected(what, anywhere=places)
        return payload, nowhere
    if kind in ("view_submission", "view_closed"):
        view = view_of(slack, case, user)
        payload["view"] = view
        if kind == "view_closed":
            payload["is_cleared"] = False
            return payload, nowhere
        ours = (
            view.get("callback_id") == f"kc_form:{case['form']}"
            and case["form"] in FORMS
            and view.get("type") == "modal"
        )
        if ours and case["user"] == "present":
            # Errors in the ack, or closed and answered in the person's DM
            return payload, Expected(what, anywhere=[("chat.postMessage", {"channel": user})])
        return payload, nowhere
    payload["callback_id"] = case["callback_id"]
    if kind == "block_suggestion":
        payload.update(action_id=case["callback_id"], block_id="b", value="gi")
    if kind == "message_action":
        payload["message"] = {"type": "message", "text": "hello", "user": user, "ts": "1700000000.000100"}
    return payload, nowhere


def view_of(slack: SlackBot, case: dict[str, Any], user: str) -> dict[str, Any]:
    form = case["form"]
    meta = {"form": form, "prefilled": {}, "channel": "C" + slack.uid("")}
    how = case["metadata"]
    metadata = {
        "ours": json.dumps(meta),
        "not json": case["metadata_text"] + "{",
        "a list": json.dumps([meta]),
        "a number": "5",
        "a string": json.dumps("kc"),
        "null": "null",
        "empty": "",
        "prefilled not an object": json.dumps(dict(meta, prefilled=["title"])),
        "channel not a string": json.dumps(dict(meta, channel={"id": "C1"})),
    }.get(how)
    state = case["state"]
    blocks: Any = [
        {
            "type": "input",
            "block_id": name,
            "label": {"type": "plain_text", "text": name[:20] or "x"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
        for name in state
    ]
    if case["blocks"] == "none":
        blocks = []
    elif case["blocks"] == "odd":
        blocks = [None, "input", {"type": "section"}]
    view: dict[str, Any] = {
        "type": case["view_type"],
        "team_id": TEAM,
        "blocks": blocks,
        "state": {"values": state},
        "hash": "1.abc",
        "title": {"type": "plain_text", "text": "A form"},
    }
    if case["view_type"] is None:
        del view["type"]
    _maybe(view, "id", case["view_id"], slack.uid("V"))
    if metadata is not None:
        view["private_metadata"] = metadata
    if case["callback"] == "ours":
        view["callback_id"] = f"kc_form:{form}"
    elif case["callback"] == "other":
        view["callback_id"] = case["callback_id"]
    return view


def test_any_interaction_is_acknowledged_and_answered_where_due(slack):
    calls_from, acks_from = len(slack.fake.snapshot()), len(slack.acks)
    expected: list[Expected] = []

    @settings(max_examples=EXAMPLES["interactions"], **FUZZ)
    @given(case=interactions())
    def send(case):
        payload, deserved = build_interaction(slack, case)
        answer = slack.post_form({"payload": json.dumps(payload)})
        assert answer.status == 200, (answer, payload)
        if answer.body:
            # Only a modal's submission has something to say in its ack: errors on its inputs.
            assert case["type"] == "view_submission", (answer, payload)
            body = answer.json
            assert body["response_action"] == "errors" and body["errors"], body
            inputs = [
                b["block_id"]
                for b in payload["view"].get("blocks") or []
                if isinstance(b, dict) and b.get("type") == "input"
            ]
            if inputs:  # Slack refuses errors for blocks that aren't inputs on the modal
                assert set(body["errors"]) <= set(inputs), (body, inputs)
            deserved = Expected(
                deserved.what, nothing=[("chat.postMessage", {"channel": payload["user"]["id"]})], acked=True
            )
        expected.append(deserved)

    send()
    verify(slack, expected, EXAMPLES["interactions"])
    no_apology(slack, calls_from, acks_from)


# --- (d) the signing layer -----------------------------------------------------------------------------------


def _now(offset: int = 0) -> str:
    return str(int(time.time()) + offset)


TIMESTAMPS = {
    "now": lambda: _now(),
    "4 minutes ago": lambda: _now(-240),
    "6 minutes ago": lambda: _now(-360),
    "6 minutes ahead": lambda: _now(360),
    "1970": lambda: "0",
    "far future": lambda: "9" * 12,
    "too many digits": lambda: "1" * 5000,
    "negative": lambda: "-" + _now(),
    "float": lambda: _now() + ".5",
    "words": lambda: "yesterday",
    "empty": lambda: "",
    "spaces": lambda: " " + _now() + " ",
    "underscores": lambda: _now()[:4] + "_" + _now()[4:],
    "superscript": lambda: "²",
    "arabic digits": lambda: "١٧٠٠٠٠٠٠٠٠",
    "missing": lambda: None,
}
BODIES = [
    "command",
    "dm",
    "empty",
    "not utf-8",
    "json list",
    "json string",
    "json null",
    "json number",
    "bad json",
    "brace",
    "form without payload",
    "payload not json",
    "payload a list",
    "text",
    "ssl_check",
    "random bytes",
    "url verification",
]
SIGNATURES = [
    "right",
    "right",
    "wrong secret",
    "other body",
    "other timestamp",
    "missing",
    "empty",
    "v1 scheme",
    "non-ascii",
    "utf-8 bytes",
    "upper case",
    "truncated",
    "random",
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    None,
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded; charset=nonsense",
    "multipart/form-data; boundary=x",
]


def signing_body(slack: SlackBot, kind: str, user: str, channel: str, data: bytes) -> bytes:
    return {
        "command": urllib.parse.urlencode(dict(slack.command_fields("join gis", user), channel_id=channel)).encode(),
        "dm": json.dumps(slack.dm_event(user, "join gis", channel)).encode(),
        "empty": b"",
        "not utf-8": b"payload=\xff\xfe" + data,
        "json list": b"[1, 2]",
        "json string": b'"event"',
        "json null": b"null",
        "json number": b"1",
        "bad json": b'{"type": "event_callback", ',
        "brace": b"{" + data,
        "form without payload": b"token=x&type=block_actions&team_id=T1",
        "payload not json": b"payload=" + urllib.parse.quote_from_bytes(b"{not json" + data).encode(),
        "payload a list": b"payload=%5B%7B%7D%5D",
        "text": b"hello there",
        "ssl_check": b"ssl_check=1&token=legacy",
        "random bytes": data,
        "url verification": b'{"type": "url_verification", "challenge": "c"}',
    }[kind]


def signature_for(kind: str, raw: bytes, ts: Optional[str]) -> Any:
    base = ts or ""

    def mac(secret: str, body: bytes, stamp: str) -> str:
        import hashlib
        import hmac

        return "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()

    right = mac(SECRET, raw, base)
    return {
        "right": right,
        "wrong secret": mac("not-the-secret", raw, base),
        "other body": mac(SECRET, raw + b"x", base),
        "other timestamp": mac(SECRET, raw, _now(-1)),
        "missing": None,
        "empty": "",
        "v1 scheme": "v1" + right[2:],
        "non-ascii": right[:-1] + "é",
        "utf-8 bytes": (right[:-1] + "é").encode(),
        "upper case": right.upper(),
        "truncated": right[:-2],
        "random": "v0=" + "0" * 64,
    }[kind]


@st.composite
def forgeries(draw) -> dict[str, Any]:
    return {
        "body": draw(st.sampled_from(BODIES)),
        "timestamp": draw(st.sampled_from(sorted(TIMESTAMPS))),
        "signature": draw(st.sampled_from(SIGNATURES)),
        "content_type": draw(st.sampled_from(CONTENT_TYPES)),
        "data": draw(st.binary(max_size=40)),
        "retry": draw(st.booleans()),
    }


def test_the_signing_layer_refuses_what_slack_did_not_sign_and_never_fails(slack):
    """Unsigned, badly signed or stale: 401 and nothing done. Signed but no request Slack sends (not UTF-8,
    empty, JSON that isn't an object, a form without payload or command): 400. Never a 404 or a 5xx."""
    forged: list[tuple[str, str]] = []  # (what was sent, the Slack user it named)
    sent: list[dict] = []

    @settings(max_examples=EXAMPLES["signing"], **FUZZ)
    @given(case=forgeries())
    def send(case):
        channel, user = "D" + slack.uid(""), slack.person(f"fuzz.{slack.uid('').lower()}@kent.gov.uk")
        raw = signing_body(slack, case["body"], user, channel, case["data"])
        ts = TIMESTAMPS[case["timestamp"]]()
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature_for(case["signature"], raw, ts),
            "Content-Type": case["content_type"],
            "X-Slack-Retry-Num": "1" if case["retry"] else None,
        }
        answer = slack.post_raw(raw, {k: v for k, v in headers.items() if v is not None})
        sent.append(case)
        fresh = ts is not None and ts.isascii() and ts.isdigit() and len(ts) < 13 and abs(time.time() - int(ts)) <= 300
        genuine = fresh and case["signature"] == "right"
        what = f"{case} -> {answer}"
        if not genuine:
            assert answer.status == 401, what
            forged.append((what, user))
            return
        # Read as Bolt reads it: JSON for that content type or a body starting with "{", else a form.
        as_json = (case["content_type"] or "").split(";")[0] == "application/json"
        if case["body"] in ("dm", "url verification") or (case["body"] in ("command", "ssl_check") and not as_json):
            assert answer.status == 200, what
        else:
            assert 400 <= answer.status < 500 and answer.status != 404, what

    send()
    assert len(sent) >= EXAMPLES["signing"] and len(forged) >= len(sent) // 2, (len(sent), len(forged))
    time.sleep(SETTLE)
    for what, user in forged:  # nothing was done: Slack wasn't even asked who they are
        assert not slack.fake.matching("users.info", user=user), what
    emails = [slack.fake.emails[user] for _, user in forged]
    stored = slack.rows(f"SELECT email FROM person WHERE email IN ({', '.join('?' * len(emails))})", tuple(emails))
    assert forged and not stored, stored
