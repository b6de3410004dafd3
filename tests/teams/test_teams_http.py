"""Teams end to end: `python -m bot serve` over HTTP with Bot Framework activities whose serviceUrl is
FakeConnector; what the bot answers is read from what the connector received.

Each test uses Teams users and conversations of its own on the shared server (see conftest), and every
card the connector receives is checked against the Adaptive Card 1.5 schema after each test.
"""

from __future__ import annotations

import json
import time
from collections import deque
from urllib.parse import quote

import pytest

from tests.teams import harness
from tests.teams.harness import ADAPTIVE, BOT_ID, BOT_NAME, CASE, DEMO, TENANT, card_text, commands, form_value, inputs

SORRY = "something went wrong"
NOT_UNDERSTOOD = "don't understand"


def only_reply(teams, activity) -> tuple[dict, dict]:
    """The one message the bot posted in the activity's conversation, and its card."""
    replies = teams.reply_cards(activity)
    assert len(replies) == 1, f"expected one reply, got {len(replies)}: {[b.get('text', '')[:80] for b, _ in replies]}"
    return replies[0]


def cases(teams) -> int:
    return teams.scalar("SELECT COUNT(*) FROM business_case")


# --- personal messages ------------------------------------------------------------------------------


def test_personal_message_is_answered_with_a_card_in_the_same_conversation(teams):
    user = teams.person()
    response, activity = teams.say(user, "next gis meeting")
    assert response.status == 201, response.body
    body, card = only_reply(teams, activity)
    sent = teams.replies(activity)[0]
    conversation = activity["conversation"]["id"]
    # a reply to the person's activity, in their 1:1 chat, from the bot, to them
    assert sent.path == f"/v3/conversations/{quote(conversation, safe='')}/activities/{quote(activity['id'])}"
    assert body["replyToId"] == activity["id"]
    assert body["conversation"]["id"] == conversation
    assert body["from"]["id"] == BOT_ID and body["recipient"]["id"] == user
    assert body["attachments"][0]["contentType"] == ADAPTIVE
    text = card_text(card)
    assert "GIS quarterly meeting" in text and "GIS meets next on" in text
    assert "GIS meets next on" in body["text"]
    assert "meetings gis" in commands(card)
    # who is talking came from the connector's member look-up
    lookups = [s for s in teams.fake.about_conversation(conversation) if s.method == "GET"]
    assert [s.path for s in lookups] == [
        f"/v3/conversations/{quote(conversation, safe='')}/members/{quote(user, safe='')}"
    ]


def test_talking_to_the_bot_links_the_person_and_stores_the_reference(teams):
    user = teams.person()
    response, activity = teams.say(user, "whoami")
    assert response.status == 201
    _, card = only_reply(teams, activity)
    assert "Kent County Council" in card_text(card) and "demo@kent.gov.uk" in card_text(card)
    person = teams.scalar("SELECT id FROM person WHERE email = ?", (DEMO,))
    assert teams.rows(
        "SELECT person_id FROM platform_identity WHERE platform = 'teams' AND workspace = ? AND external_id = ?",
        (TENANT, user),
    ) == [(person,)]
    rows = teams.rows(
        "SELECT service_url, tenant_id, reference, blocked_at FROM conversation_ref "
        "WHERE platform = 'teams' AND key = ?",
        (f"user:{user}",),
    )
    assert len(rows) == 1
    service_url, tenant, reference, blocked = rows[0]
    reference = json.loads(reference)
    assert service_url == teams.fake.url and tenant == TENANT and blocked is None
    assert reference["conversation"]["id"] == activity["conversation"]["id"]
    assert reference["serviceUrl"] == teams.fake.url and reference["user"]["id"] == user
    # a second message refreshes the same row (and now knows the person), it does not add one
    teams.post(teams.activity(user, "help", conversation=activity["conversation"]["id"]))
    assert teams.rows("SELECT person_id FROM conversation_ref WHERE key = ?", (f"user:{user}",)) == [(person,)]


def test_member_lookup_failure_is_answered_and_retried_on_the_next_message(teams):
    user = teams.person()
    # (a 5xx is retried inside the SDK; a 404 is not)
    teams.fake.script("GET", rf"/members/{quote(user, safe='')}$", 404, {"error": {"code": "NotFound"}})
    response, first = teams.say(user, "whoami")
    assert response.status == 201
    _, card = only_reply(teams, first)
    assert "can't see an e-mail address" in card_text(card)  # answered, as someone unknown
    response, second = teams.say(user, "whoami", conversation=first["conversation"]["id"])
    replies = teams.reply_cards(second)
    assert "demo@kent.gov.uk" in card_text(replies[-1][1]), "the failed look-up was cached"


def test_same_activity_id_in_two_conversations_gets_two_answers(teams):
    same = str(int(time.time() * 1000))
    first = teams.activity(teams.person(), "events", id=same)
    second = teams.activity(teams.person(), "events", id=same)
    assert teams.post(first).status == 201 and teams.post(second).status == 201
    assert len(teams.replies(first)) == 1
    assert len(teams.replies(second)) == 1


def test_a_retried_activity_is_answered_once(teams):
    """The Bot Framework may deliver an activity again; the same id gets one answer."""
    user = teams.person()
    activity = teams.activity(user, "events")
    assert teams.post(activity).status == 201
    assert teams.post(activity).status == 201
    only_reply(teams, activity)


# --- channels ---------------------------------------------------------------------------------------


def test_channel_message_with_a_mention_is_answered_in_the_thread(teams):
    user = teams.person()
    activity = teams.mention_activity(user, "events")
    response = teams.post(activity)
    assert response.status == 201, response.body
    body, card = only_reply(teams, activity)
    assert body["conversation"]["id"] == activity["conversation"]["id"]  # the thread (;messageid=...)
    assert body["replyToId"] == activity["id"]
    text = card_text(card)
    assert "Future Workplaces" in text and NOT_UNDERSTOOD not in text
    channel = activity["conversation"]["id"].split(";")[0]
    assert teams.rows(
        "SELECT tenant_id, person_id FROM conversation_ref WHERE key = ?", (f"conversation:{channel}",)
    ) == [(TENANT, None)]


def test_mention_anywhere_in_the_text_is_stripped(teams):
    user = teams.person()
    activity = teams.mention_activity(user, "events")
    activity["text"] = f"events <at>{BOT_NAME}</at>"
    teams.post(activity)
    _, card = only_reply(teams, activity)
    assert "Future Workplaces" in card_text(card)


def test_only_the_bots_own_mention_is_stripped(teams):
    """The words are read after removing the mention of the bot, found by the entity's id."""
    user = teams.person()
    activity = teams.mention_activity(user, "events")
    activity["entities"][0]["mentioned"] = {"id": "29:someone-else", "name": BOT_NAME}
    teams.post(activity)
    _, card = only_reply(teams, activity)
    assert NOT_UNDERSTOOD in card_text(card)


# --- buttons (Action.Submit) --------------------------------------------------------------------


def test_submit_button_with_kc_command_runs_the_command(teams):
    user = teams.person()
    activity = teams.activity(user, None, value={"kc_command": "events"})  # Action.Submit: value, no text
    assert teams.post(activity).status == 201
    body, card = only_reply(teams, activity)
    assert "Future Workplaces" in card_text(card)
    assert set(commands(card)) >= {"event 1", "register 1"}
    # the messageBack form of the same button carries the words as text too: still one answer
    both = teams.activity(user, "events", value={"kc_command": "events"})
    teams.post(both)
    _, again = only_reply(teams, both)
    assert "Future Workplaces" in card_text(again)


def test_every_button_the_bot_shows_leads_to_an_answer(teams):
    """Press each button reached from `help`, `events` and `whoami` (a bounded walk); none may fail."""
    user = teams.person("buttons.walk@medway.gov.uk")
    conversation = teams.activity(user, "x")["conversation"]["id"]
    skip = ("cancel", "unregister", "leave", "forget", "decline", "approve", "erase", "delete", "remove")
    queue, seen, pressed = deque(["help", "events", "whoami"]), set(), []
    while queue and len(pressed) < 14:
        command = queue.popleft()
        if command in seen or command.startswith(skip):
            continue
        seen.add(command)
        activity = teams.activity(user, None, conversation=conversation, value={"kc_command": command})
        assert teams.post(activity).status == 201
        replies = [(s.body, harness.check_activity(s.body)) for s in teams.replies(activity)]
        assert len(replies) == 1, f"{command!r}: {len(replies)} replies"
        text = card_text(replies[0][1])
        assert SORRY not in text and NOT_UNDERSTOOD not in text, f"button {command!r} gave: {text[:300]}"
        pressed.append(command)
        queue.extend(c for c in commands(replies[0][1]) if c not in seen)
    assert len(pressed) >= 6, pressed


# --- forms ------------------------------------------------------------------------------------------


def test_idea_opens_the_business_case_form_card(teams):
    user = teams.person()
    response, activity = teams.say(user, "idea")
    body, card = only_reply(teams, activity)
    assert body["text"] == "Submit a business case: please fill in the form."
    fields = inputs(card)
    assert list(fields) == list(CASE)
    assert fields["problem"]["isMultiline"] is True and fields["problem"]["maxLength"] == 3000
    assert fields["title"]["isRequired"] is True and fields["groups"]["isRequired"] is False
    assert all(f.get("label") for f in fields.values())
    [submit] = card["actions"]
    assert submit["type"] == "Action.Submit" and submit["data"] == {"kc_form": "business_case"}


def test_invalid_form_submission_shows_the_form_again_and_stores_nothing(teams):
    user = teams.person()
    conversation = teams.say(user, "idea")[1]["conversation"]["id"]
    before_cases, before_deliveries = cases(teams), teams.scalar("SELECT COUNT(*) FROM delivery")
    typed = dict(CASE, title="Desk booking, attempt one", partners="Atlantis", cost="lots")
    activity = teams.activity(user, "", conversation=conversation, value=form_value(typed))
    assert teams.post(activity).status == 201
    body, card = only_reply(teams, activity)
    assert body["text"] == "Please correct the fields marked on the form."
    text = card_text(card)
    assert "Please correct the fields marked below." in text
    assert "I don't know the partner “Atlantis”" in text
    assert "“lots” isn't a sum of money" in text
    # the error stands right under its input, and what was typed is kept
    order = [e.get("id") or e.get("text", "")[:20] for e in card["body"]]
    assert order.index("partners") + 1 == order.index("I don't know the par")
    fields = inputs(card)
    assert fields["title"]["value"] == "Desk booking, attempt one" and fields["cost"]["value"] == "lots"
    assert card["actions"][0]["data"] == {"kc_form": "business_case"}
    assert cases(teams) == before_cases
    assert teams.scalar("SELECT COUNT(*) FROM delivery") == before_deliveries


def test_missing_required_field_is_refused_on_the_card(teams):
    user = teams.person()
    before = cases(teams)
    activity = teams.activity(user, "", value=form_value(dict(CASE, title="  ")))
    teams.post(activity)
    _, card = only_reply(teams, activity)
    assert "Title is needed." in card_text(card)
    assert cases(teams) == before


def test_valid_form_submission_is_stored_once(teams):
    user = teams.person()
    title = "Shared desk booking " + teams.uid("t")
    activity = teams.activity(user, "", value=form_value(dict(CASE, title=title)))
    before = cases(teams)
    assert teams.post(activity).status == 201
    body, card = only_reply(teams, activity)
    rows = teams.rows(
        "SELECT c.id, c.estimated_cost_pence, c.status, c.timescale, c.contact, c.benefiting_partners, "
        "c.benefiting_groups, g.slug, p.email FROM business_case c JOIN kc_group g ON g.id = "
        "c.sponsor_group_id JOIN person p ON p.id = c.submitter_id WHERE c.title = ?",
        (title,),
    )
    assert len(rows) == 1
    case_id, pence, status, timescale, contact, partners, groups, sponsor, submitter = rows[0]
    assert (pence, timescale, contact, submitter) == (2_500_000, "9 months", DEMO, DEMO)
    assert status.lower() == "submitted" and sponsor == "smart-kent-and-medway"
    assert json.loads(partners) == ["all"] and json.loads(groups) == ["gis"]
    assert f"your business case is submitted as {title} (case {case_id})" in body["text"]
    assert f"idea {case_id}" in commands(card)
    assert cases(teams) == before + 1
    # the board is told (a delivery each), in the same transaction
    assert teams.scalar("SELECT COUNT(*) FROM delivery WHERE subject = ?", (f"case:{case_id}",)) >= 1
    # the Bot Framework delivering the same submission again stores nothing more and says nothing more
    assert teams.post(activity).status == 201
    assert cases(teams) == before + 1
    assert len(teams.replies(activity)) == 1


def test_prefilled_title_comes_back_with_the_submission(teams):
    # An answer given beforehand (`new idea TITLE`) is shown in its input, and read again on
    # submission like every other: nothing from the client is taken as it is.
    user = teams.person()
    title = "Shared desks " + teams.uid("p")
    response, activity = teams.say(user, f"new idea {title}")
    _, card = only_reply(teams, activity)
    assert inputs(card)["title"]["value"] == title
    data = card["actions"][0]["data"]
    assert data == {"kc_form": "business_case"}
    fields = {k: v for k, v in CASE.items() if k != "title"}
    submit = teams.activity(
        user, "", conversation=activity["conversation"]["id"], value={**data, **fields, "title": title}
    )
    teams.post(submit)
    body, _ = only_reply(teams, submit)
    assert teams.scalar("SELECT COUNT(*) FROM business_case WHERE title = ?", (title,)) == 1
    assert title in body["text"]


def test_prefilled_values_from_the_client_are_validated(teams):
    user = teams.person()
    marker = "forged-" + teams.uid("f")
    forged = {"title": marker + "X" * 2000, "cost": -500_000}
    fields = {k: v for k, v in CASE.items() if k not in forged}
    teams.post(teams.activity(user, "", value=form_value(fields, prefilled=forged)))
    stored = teams.rows(
        "SELECT length(title), estimated_cost_pence FROM business_case WHERE title LIKE ?", (marker + "%",)
    )
    assert all(length <= 150 and pence >= 0 for length, pence in stored), stored


def test_unknown_form_name_is_ignored_quietly(teams):
    user = teams.person()
    before = cases(teams)
    activity = teams.activity(user, "", value={"kc_form": "no_such_form", "kc_prefilled": {}, "title": "x"})
    assert teams.post(activity).status == 201
    assert teams.replies(activity) == [] and cases(teams) == before


# --- Action.Execute (invoke adaptiveCard/action): Universal Actions -------------------------------

MESSAGE = "application/vnd.microsoft.activity.message"
ERROR = "application/vnd.microsoft.error"
MISSING = object()


def _execute(teams, user: str, data=MISSING, *, action=MISSING, value=MISSING, **kw) -> dict:
    """An invoke as Teams sends it for an Action.Execute button, or with its parts replaced."""
    if action is MISSING:
        action = {"type": "Action.Execute", "id": "a1", "verb": "kc"}
        if data is not MISSING:
            action["data"] = data
    if value is MISSING:
        value = {"action": action, "trigger": "manual"}
    return teams.activity(user, None, type="invoke", name="adaptiveCard/action", value=value, **kw)


def _answer(response) -> dict:
    """The Universal Actions answer: HTTP 200 always, {statusCode, type, value} saying what happened."""
    assert response.status == 200, (response.status, response.body)
    body = response.json
    assert set(body) == {"statusCode", "type", "value"}, body
    if body["type"] == MESSAGE:
        assert body["statusCode"] == 200 and isinstance(body["value"], str) and body["value"], body
    else:
        assert body["type"] == ERROR, body
        assert 400 <= body["statusCode"] <= 599, body
        assert set(body["value"]) == {"code", "message"} and all(
            isinstance(v, str) and v for v in body["value"].values()
        ), body
    return body


def test_action_execute_runs_the_command_and_answers_the_invoke(teams):
    user = teams.person()
    activity = _execute(teams, user, {"kc_command": "events"})
    body = _answer(teams.post(activity))
    assert body == {"statusCode": 200, "type": MESSAGE, "value": "Done: my answer is in the chat."}
    _, card = only_reply(teams, activity)
    assert "Future Workplaces" in card_text(card)
    # the same invoke delivered again answers the same and says nothing more in the chat
    assert _answer(teams.post(activity)) == body
    assert len(teams.replies(activity)) == 1


def test_action_execute_submits_a_form(teams):
    user = teams.person()
    title = "Shared desks by Execute " + teams.uid("x")
    activity = _execute(teams, user, form_value(dict(CASE, title=title)))
    body = _answer(teams.post(activity))
    assert body["type"] == MESSAGE and body["value"] == "Done: my answer is in the chat."
    assert teams.scalar("SELECT COUNT(*) FROM business_case WHERE title = ?", (title,)) == 1
    reply, _ = only_reply(teams, activity)
    assert f"your business case is submitted as {title}" in reply["text"]


def test_action_execute_with_fields_to_correct_puts_the_form_in_the_chat_and_says_so(teams):
    user = teams.person()
    before = cases(teams)
    activity = _execute(teams, user, form_value(dict(CASE, cost="lots")))
    body = _answer(teams.post(activity))
    assert body == {
        "statusCode": 200,
        "type": MESSAGE,
        "value": "Please correct the fields marked on the form I've put in the chat.",
    }
    reply, card = only_reply(teams, activity)
    assert reply["text"] == "Please correct the fields marked on the form."
    assert "“lots” isn't a sum of money" in card_text(card)
    assert cases(teams) == before


@pytest.mark.parametrize(
    "data", [{}, {"ticket": 42, "action": "approve"}, MISSING], ids=["empty data", "another bot's data", "no data"]
)
def test_action_execute_from_a_card_this_version_does_not_know_is_an_error_that_says_so(teams, data):
    user = teams.person()
    activity = _execute(teams, user, data)
    body = _answer(teams.post(activity))
    assert body["statusCode"] == 400 and body["value"]["code"] == "NotSupported"
    message = body["value"]["message"]
    assert "older version" in message and "help" in message
    assert teams.replies(activity) == []


MALFORMED = {
    "no value": dict(value=None),
    "value not an object": dict(value=["action"]),
    "no action": dict(value={"trigger": "manual"}),
    "action not an object": dict(action="Action.Execute"),
    "action a list": dict(action=[{"type": "Action.Execute"}]),
    "action of another type": dict(action={"type": "Action.Submit", "data": {"kc_command": "events"}}),
    "data not an object": dict(data="events"),
    "data a list": dict(data=[{"kc_command": "events"}]),
    "data null": dict(data=None),
    "a form that doesn't exist": dict(data={"kc_form": "no_such_form", "title": "x"}),
    "a form name not a string": dict(data={"kc_form": ["business_case"], "title": "x"}),
    "a command that is a number": dict(data={"kc_command": 5}),
    "a command that is a list": dict(data={"kc_command": ["events"]}),
    "a command that is null": dict(data={"kc_command": None}),
    "a blank command": dict(data={"kc_command": "   "}),
}


@pytest.mark.parametrize("parts", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_action_execute_is_an_error_body_never_an_http_error(teams, parts):
    user = teams.person()
    before = cases(teams)
    activity = _execute(teams, user, **parts)
    body = _answer(teams.post(activity))
    assert body["statusCode"] == 400 and body["value"]["code"] == "BadRequest", body
    assert "help" in body["value"]["message"]
    assert teams.replies(activity) == [] and cases(teams) == before


def test_an_automatic_refresh_runs_nothing(teams):
    """Only a card's `refresh` sends trigger "automatic", and the bot's cards have none: no command runs unasked."""
    user = teams.person()
    activity = _execute(
        teams,
        user,
        value={
            "action": {"type": "Action.Execute", "verb": "kc", "data": {"kc_command": "register 1"}},
            "trigger": "automatic",
        },
    )
    body = _answer(teams.post(activity))
    assert body["statusCode"] == 400 and body["value"]["code"] == "NotSupported"
    assert teams.fake.about_conversation(activity["conversation"]["id"]) == []
    assert teams.rows("SELECT id FROM conversation_ref WHERE key = ?", (f"user:{user}",)) == []


@pytest.mark.allow_server_errors
def test_action_execute_that_fails_on_our_side_is_an_error_body_with_the_traceback_logged(teams):
    """The connector refuses the answer: the turn fails, Teams still gets HTTP 200 and an error to show."""
    user = teams.person()
    activity = _execute(teams, user, {"kc_command": "events"})
    conversation = quote(activity["conversation"]["id"], safe="")
    teams.fake.script("POST", rf"/v3/conversations/{conversation}/activities", 400, {"error": {"code": "BadArgument"}})
    mark = len(teams.log())
    body = _answer(teams.post(activity))
    assert body["statusCode"] == 500 and body["value"]["code"] == "InternalServerError"
    assert "something went wrong on my side" in body["value"]["message"]
    log = teams.log()[mark:]
    assert "Teams turn failed: Action.Execute" in log and "Traceback (most recent call last)" in log, log[-2000:]


# --- installs ------------------------------------------------------------------------------------

WELCOME = "Hello! I'm the Kent Connects assistant"


def test_bot_added_to_a_personal_chat_says_welcome(teams):
    user = teams.person()
    activity = teams.activity(user, None, type="conversationUpdate", membersAdded=[{"id": BOT_ID, "name": BOT_NAME}])
    assert teams.post(activity).status == 201
    body, card = only_reply(teams, activity)
    assert WELCOME in body["text"] and WELCOME in card_text(card)
    assert card["body"][0]["text"] == "Kent Connects"
    assert commands(card) == ["help", "events"]
    assert body["recipient"]["id"] == user
    assert teams.rows("SELECT service_url FROM conversation_ref WHERE key = ?", (f"user:{user}",)) == [
        (teams.fake.url,)
    ]


def test_someone_else_added_gets_no_welcome(teams):
    user = teams.person()
    activity = teams.activity(user, None, type="conversationUpdate", membersAdded=[{"id": "29:newcomer"}])
    assert teams.post(activity).status == 201
    assert teams.replies(activity) == []


def test_bot_added_to_a_team_says_welcome_in_the_channel(teams):
    user = teams.person()
    channel = "19:" + teams.uid("team") + "@thread.tacv2"
    activity = teams.activity(
        user,
        None,
        kind="channel",
        conversation=channel,
        type="conversationUpdate",
        membersAdded=[{"id": BOT_ID}],
        channelData={
            "tenant": {"id": TENANT},
            "eventType": "teamMemberAdded",
            "team": {"id": channel, "name": "Kent Connects GIS"},
        },
    )
    assert teams.post(activity).status == 201
    body, card = only_reply(teams, activity)
    assert WELCOME in body["text"]
    assert teams.rows("SELECT person_id FROM conversation_ref WHERE key = ?", (f"conversation:{channel}",)) == [(None,)]


def test_installation_update_add_says_welcome(teams):
    user = teams.person()
    activity = teams.activity(user, None, type="installationUpdate", action="add")
    assert teams.post(activity).status == 201
    body, card = only_reply(teams, activity)
    assert WELCOME in body["text"] and commands(card) == ["help", "events"]
    assert len(teams.rows("SELECT id FROM conversation_ref WHERE key = ?", (f"user:{user}",))) == 1


def test_installation_update_remove_says_nothing(teams):
    user = teams.person()
    activity = teams.activity(user, None, type="installationUpdate", action="remove")
    assert teams.post(activity).status == 201
    assert teams.replies(activity) == []


# --- what is refused ----------------------------------------------------------------------------


def test_service_url_outside_the_allowlist_is_never_contacted(teams):
    """403 for the activity, and a connector reachable at that URL gets nothing (no look-up, no reply)."""
    other = harness.start_connector(host="127.0.0.2")  # reachable, but its host is not on the allowlist
    try:
        user = teams.person()
        other.emails[user] = DEMO
        before_refs = teams.scalar("SELECT COUNT(*) FROM conversation_ref")
        for url in (
            "https://not-allowed.example.com/",
            other.url,
            other.url.replace("http://", "http://127.0.0.1@"),  # user-info that looks like the host
            other.url.replace("127.0.0.2", "127.0.0.1.nip.io"),
        ):
            activity = teams.activity(user, "next gis meeting", service_url=url)
            response = teams.post(activity)
            assert response.status == 403, (url, response.status, response.body)
            assert response.json == {"error": "service URL not allowed"}
        assert other.snapshot() == []
        assert teams.scalar("SELECT COUNT(*) FROM conversation_ref") == before_refs
    finally:
        other.stop()


@pytest.mark.parametrize(
    "raw, content_type",
    [
        (b"this is not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"{}", "application/json"),
        (b'{"type": "message", "text": "help", "from": "29:not-an-account"}', "application/json"),
        (b'{"type": "message", "text": "help", "timestamp": "yesterday"}', "application/json"),
        (b'{"type": "message", "text": "help", "from": {"id": "29:someone"}}', "application/json"),  # no conversation
        (None, "text/plain"),
        (b'{"type": "message", "text": "' + b"x" * (1100 * 1024) + b'"}', "application/json"),  # over 1 MB
    ],
)
def test_malformed_requests_get_a_4xx_never_a_500(teams, raw, content_type):
    before = len(teams.fake.snapshot())
    user = teams.person()
    if raw is None:  # a good activity, but not sent as JSON
        raw = json.dumps(teams.activity(user, "help")).encode()
    response = teams.post(None, raw=raw, headers={"Content-Type": content_type})
    assert 400 <= response.status < 500, (response.status, response.body)
    assert len(teams.fake.snapshot()) == before


def test_activity_without_a_type_is_a_bad_request(teams):
    user = teams.person()
    activity = teams.activity(user, "help")
    del activity["type"]
    response = teams.post(activity)
    assert response.status == 400, (response.status, response.body)
    assert teams.replies(activity) == []


def test_typing_and_other_activities_get_no_answer(teams):
    user = teams.person()
    for kind in ("typing", "messageReaction", "endOfConversation"):
        activity = teams.activity(user, None, type=kind)
        assert teams.post(activity).status in (200, 201)
        assert teams.replies(activity) == []
