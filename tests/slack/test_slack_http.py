"""Slack end to end: `python -m bot serve` over HTTP, signed like Slack, against FakeSlack.

Each test uses Slack users, channels and ids of its own on the shared server (see conftest).
"""

from __future__ import annotations

import re
import threading
import time

from tests.slack.harness import BOARD, DEMO, SlackBot, check_message, check_view, mrkdwn_texts

SETTLE = 1.0  # how long to wait before concluding that something did NOT happen

CASE_FIELDS = {
    "title": "Shared desk booking for partner offices",
    "problem": "Staff visiting other partners cannot book a desk.",
    "proposal": "A shared booking tool for partner offices.",
    "partners": "all",
    "groups": "GIS",
    "sponsor": "Smart Kent",
    "cost": "£25,000",
    "timescale": "9 months",
    "contact": "me",
}


def header(payload: dict) -> str:
    return next((b["text"]["text"] for b in payload.get("blocks") or [] if b["type"] == "header"), "")


def group_id(slack: SlackBot, slug: str) -> int:
    return slack.scalar("SELECT id FROM kc_group WHERE slug = ?", (slug,))


def memberships(slack: SlackBot, email: str, slug: str) -> int:
    return slack.scalar(
        "SELECT COUNT(*) FROM membership m JOIN person p ON p.id = m.person_id "
        "JOIN kc_group g ON g.id = m.group_id WHERE p.email = ? AND g.slug = ?",
        (email, slug),
    )


def registrations(slack: SlackBot, email: str, event_id: int = 1) -> list[tuple]:
    return slack.rows(
        "SELECT r.mode, r.status FROM registration r JOIN person p ON p.id = r.person_id "
        "WHERE p.email = ? AND r.event_id = ?",
        (email, event_id),
    )


def new_staff(slack: SlackBot, name: str) -> tuple[str, str]:
    """A new partner member of staff (KCC, by their address): (Slack user id, e-mail)."""
    email = f"{name}.{slack.uid('').lower()}@kent.gov.uk"
    return slack.person(email), email


# --- the basics ------------------------------------------------------------------------------------


def test_url_verification_echoes_the_challenge(slack):
    answer = slack.post_json(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    assert answer.status == 200
    assert answer.json == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_slash_command_is_answered_in_the_ack(slack):
    user = slack.person(DEMO)
    channel = slack.uid("C")
    answer = slack.command("next gis meeting", user, channel=channel)
    assert answer.status == 200
    body = answer.json
    assert body["response_type"] == "ephemeral"
    assert body["blocks"] and body["text"].strip()
    check_message(body)
    assert "GIS meets next on" in body["text"]
    assert re.match(r"GIS quarterly meeting \(meeting \d+\)", header(body))
    assert any("Map Room" in t for t in mrkdwn_texts(body))
    time.sleep(0.3)
    assert not slack.fake.matching("chat.postMessage", channel=channel)  # the ack was the answer


def test_slash_command_alone_shows_help(slack):
    user = slack.person(DEMO)
    body = slack.command("", user).json
    check_message(body)
    assert header(body) == "Kent Connects Bot"
    assert "Here is what you can ask me" in body["text"]
    assert "`next GROUP meeting`" in " ".join(mrkdwn_texts(body))


def test_slash_command_idea_opens_the_business_case_modal(slack):
    user = slack.person(DEMO)
    trigger = slack.uid("TR")
    answer = slack.command("idea", user, trigger_id=trigger)
    assert answer.status == 200 and answer.body == ""  # a form opened: nothing to say in the channel
    opened = slack.fake.wait_for("views.open", trigger_id=trigger)
    assert len(opened) == 1
    view = opened[0].args["view"]
    check_view(view)
    assert view["callback_id"] == "kc_form:business_case"
    assert [b["block_id"] for b in view["blocks"]] == list(CASE_FIELDS)
    assert {b["element"]["action_id"] for b in view["blocks"]} == {"value"}


def test_dm_is_answered_with_post_message_to_that_channel(slack):
    user = slack.person(DEMO)
    channel = slack.uid("D")
    answer = slack.dm(user, "my meetings", channel)
    assert answer.status == 200
    posted = slack.fake.wait_for("chat.postMessage", channel=channel)
    assert len(posted) == 1
    check_message(posted[0].args)
    assert header(posted[0].args) == "Your meetings"
    assert "GIS" in posted[0].args["text"]
    assert "thread_ts" not in posted[0].args or posted[0].args["thread_ts"] is None


def test_mention_is_answered_privately_in_its_thread(slack):
    # A channel is shared: the answer (which may hold a closed group's dates or personal data)
    # is shown only to the person who asked, in the thread of their message.
    user = slack.person(DEMO)
    channel = slack.uid("C")
    assert slack.mention(user, "<@UBOT> events", channel, ts="1700000100.000200").status == 200
    posted = slack.fake.wait_for("chat.postEphemeral", channel=channel)
    assert len(posted) == 1 and posted[0].args["user"] == user
    assert posted[0].args["thread_ts"] == "1700000100.000200"
    assert header(posted[0].args) == "Events"
    assert "Future Workplaces" in posted[0].args["text"]
    # Mentioned inside a thread: the answer goes to that thread, not a new one under the mention.
    slack.mention(user, "<@UBOT> whoami", channel, ts="1700000200.000300", thread_ts="1700000100.000200")
    posted = slack.fake.wait_for("chat.postEphemeral", count=2, channel=channel)
    assert [c.args["thread_ts"] for c in posted] == ["1700000100.000200", "1700000100.000200"]
    assert "Demo User (KCC)" in posted[1].args["text"]
    assert not slack.fake.matching("chat.postMessage", channel=channel)  # nothing public


def test_button_registers_for_the_event(slack):
    user, email = new_staff(slack, "button.register")
    channel = "D" + user[1:]
    assert registrations(slack, email) == []
    answer = slack.button(user, "register 1 online", action_id="kc:3", channel=channel)
    assert answer.status == 200 and answer.body == ""
    posted = slack.fake.wait_for("chat.postMessage", channel=channel)
    assert len(posted) == 1
    assert "You have a place at Future Workplaces (event 1), online" in posted[0].args["text"]
    assert registrations(slack, email) == [("online", "confirmed")]


def test_button_join_in_a_channel_answers_privately(slack):
    # In a channel, the answer goes back through the action's response URL as an ephemeral
    # message: only the person who pressed sees it, and it works in channels the bot isn't in.
    user, email = new_staff(slack, "button.join")
    channel = slack.uid("C")
    trigger = slack.uid("TR")
    assert slack.button(user, "join gis", action_id="kc:1", channel=channel, trigger_id=trigger).status == 200
    posted = slack.fake.wait_for(f"/response/{trigger}")
    assert len(posted) == 1 and posted[0].args["response_type"] == "ephemeral"
    assert posted[0].args["text"].startswith("Welcome to GIS!")
    assert memberships(slack, email, "gis") == 1
    assert not slack.fake.matching("chat.postMessage", channel=channel)  # nothing public


def test_home_tab_is_published(slack):
    user = slack.person(DEMO)
    assert slack.home_opened(user).status == 200
    published = slack.fake.wait_for("views.publish", user_id=user)
    assert len(published) == 1
    view = published[0].args["view"]
    check_view(view)
    assert view["type"] == "home"
    texts = " ".join(t for b in view["blocks"] for t in mrkdwn_texts({"blocks": [b]}))
    assert "Hello Demo User (KCC)" in texts
    assert "Meeting: GIS" in texts  # one of the demo user's groups
    # The Messages tab is not the Home tab: nothing is published for it.
    other = slack.person(DEMO)
    slack.home_opened(other, tab="messages")
    time.sleep(SETTLE)
    assert not slack.fake.matching("views.publish", user_id=other)


# --- modals -------------------------------------------------------------------------------------------


def test_modal_with_an_invalid_field_answers_errors_and_stores_nothing(slack):
    user, email = new_staff(slack, "modal.invalid")
    before = slack.table_counts()
    answer = slack.submit_view(user, dict(CASE_FIELDS, cost="lots of money"))
    assert answer.status == 200
    body = answer.json
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"cost"}
    assert "isn't a sum of money" in body["errors"]["cost"]
    time.sleep(0.3)
    after = slack.table_counts()
    assert after["business_case"] == before["business_case"]
    assert after["inbound_seen"] == before["inbound_seen"]  # the same view may be submitted again
    assert after["delivery"] == before["delivery"]
    assert not slack.fake.matching("chat.postMessage", channel=user)


def test_modal_error_for_a_field_not_on_the_modal_goes_to_a_visible_input(slack):
    """Slack rejects `errors` keyed by a block id that is not an input on the modal. With the title
    prefilled (`new idea TITLE`) and no timescale input, the missing timescale's message must go
    to an input that is there: the first one."""
    user, _ = new_staff(slack, "modal.prefilled")
    fields = {k: v for k, v in CASE_FIELDS.items() if k not in ("title", "timescale")}
    before = slack.table_counts()["business_case"]
    body = slack.submit_view(user, fields, prefilled={"title": "A prefilled idea"}).json
    assert body == {"response_action": "errors", "errors": {"problem": "Timescale is needed."}}
    assert slack.table_counts()["business_case"] == before


def test_valid_modal_is_stored_once_even_when_submitted_again(slack):
    user, email = new_staff(slack, "modal.valid")
    view_id = slack.uid("V")
    title = f"Shared desks {view_id}"
    # First with an error, then corrected: Slack keeps the view id across both.
    assert (
        slack.submit_view(user, dict(CASE_FIELDS, title=title, cost="£"), view_id=view_id).json["response_action"]
        == "errors"
    )
    first = slack.submit_view(user, dict(CASE_FIELDS, title=title), view_id=view_id)
    assert first.status == 200 and first.body == ""  # closes the modal
    posted = slack.fake.wait_for("chat.postMessage", channel=user)
    assert len(posted) == 1 and "your business case is submitted" in posted[0].args["text"]
    again = slack.submit_view(user, dict(CASE_FIELDS, title=title), view_id=view_id, headers={"X-Slack-Retry-Num": "1"})
    assert again.status == 200 and again.body == ""
    time.sleep(SETTLE)
    stored = slack.rows(
        "SELECT b.status, b.estimated_cost_pence, b.contact, g.slug FROM business_case b "
        "JOIN kc_group g ON g.id = b.sponsor_group_id WHERE b.title = ?",
        (title,),
    )
    assert stored == [("submitted", 2_500_000, email, "smart-kent-and-medway")]
    assert len(slack.fake.matching("chat.postMessage", channel=user)) == 1
    # A new view (another modal) with the same answers is a new case.
    slack.submit_view(user, dict(CASE_FIELDS, title=title))
    slack.fake.wait_for("chat.postMessage", count=2, channel=user)
    assert slack.scalar("SELECT COUNT(*) FROM business_case WHERE title = ?", (title,)) == 2


# --- escaping -----------------------------------------------------------------------------------------

HOSTILE = "<!channel> & <script>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;script&gt;"


def test_user_text_is_escaped_for_mrkdwn(slack):
    user, _ = new_staff(slack, "escape")
    channel = "D" + user[1:]
    slack.submit_view(user, dict(CASE_FIELDS, title=HOSTILE))
    confirmation = slack.fake.wait_for("chat.postMessage", channel=user)[0].args
    case_id = slack.scalar("SELECT MAX(id) FROM business_case WHERE title = ?", (HOSTILE,))
    assert case_id is not None  # stored as typed: escaping is the renderer's job
    mine = slack.command("ideas mine", user).json
    details = slack.command(f"idea {case_id}", user).json
    slack.dm(user, f"case {case_id}", channel)
    dm = slack.fake.wait_for("chat.postMessage", channel=channel)[0].args
    for payload in (confirmation, mine, details, dm):
        check_message(payload)
        texts = mrkdwn_texts(payload)
        assert not any("<!channel>" in t or "<script>" in t for t in texts), texts
        assert ESCAPED in payload["text"]  # the fallback text, which Slack also parses
    assert any(ESCAPED in t for t in mrkdwn_texts(confirmation)[1:])
    assert any(ESCAPED in t for t in mrkdwn_texts(mine)[1:])
    # The case's own page has its title as a plain_text header, which Slack never parses for
    # mentions: there it is shown as typed (escaping would show "&lt;" literally).
    assert header(details) == f"{HOSTILE} (case {case_id})"


def test_not_understood_words_are_quoted_back_escaped(slack):
    user = slack.person(DEMO)
    body = slack.command("<!here> <@U0ADMIN> <https://evil.example|click me> & more", user).json
    check_message(body)
    assert "Sorry, I don't understand" in body["text"]
    for text in mrkdwn_texts(body):
        assert "<" not in text and ">" not in text
    assert "&lt;!here&gt; &lt;@U0ADMIN&gt; &lt;https://evil.example|click me&gt; &amp; more" in body["text"]


# --- long lists ---------------------------------------------------------------------------------------


def test_a_long_list_is_cut_within_block_kits_limits(slack):
    """30 personal reminders: `reminders` would need 60+ blocks; it sends 50 and says how many more."""
    user, email = new_staff(slack, "many.reminders")
    for minutes in range(31, 61):
        answer = slack.command(f"remind me in {minutes} minutes to call Medway & <Swale> #{minutes}", user).json
        assert "call Medway &amp; &lt;Swale&gt;" in answer["text"], answer["text"]
    pending = slack.scalar(
        "SELECT COUNT(*) FROM delivery d JOIN person p ON p.id = d.recipient_id "
        "WHERE p.email = ? AND d.kind = 'personal_reminder' AND d.status = 'pending'",
        (email,),
    )
    assert pending == 30
    body = slack.command("reminders", user).json
    check_message(body)
    blocks = body["blocks"]
    assert len(blocks) == 50  # filled to the limit, not past it
    assert header(body) == "Your reminders"
    shown = [b for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*Reminder ")]
    assert 20 <= len(shown) < 30
    note = [
        e["text"] for b in blocks if b["type"] == "context" for e in b["elements"] if "more not shown here" in e["text"]
    ]
    assert note == [f"…and {30 - len(shown)} more not shown here; ask a narrower question to see them."]
    assert blocks[-1]["type"] == "context" and "remind me ..." in blocks[-1]["elements"][0]["text"]  # footer kept
    assert len(body["text"]) <= 3000  # the fallback text is cut to its own limit
    # The same list in a DM (chat.postMessage) is cut the same way.
    channel = "D" + user[1:]
    slack.dm(user, "reminders", channel)
    posted = slack.fake.wait_for("chat.postMessage", channel=channel)[0].args
    assert len(posted["blocks"]) == 50


def test_long_lists_of_cases_stay_within_limits(slack):
    """60 cases waiting for the Board, created in the database directly: `review` and `ideas` answer
    within Block Kit's limits, showing part of the list and telling how many there are."""
    from sqlalchemy.orm import Session

    from storage import db
    from storage.models import BusinessCase, CaseStatus

    engine = db.make_engine(slack.database_url)
    try:
        with Session(engine) as session, session.begin():
            gis = group_id(slack, "gis")
            for n in range(60):
                session.add(
                    BusinessCase(
                        title=f"Bulk case {n:02d} " + "with a long title " * 6,
                        problem="p",
                        proposal="q",
                        benefiting_partners=["all"],
                        benefiting_groups=[],
                        sponsor_group_id=gis,
                        estimated_cost_pence=100_000 + n,
                        timescale="1 year",
                        contact="bulk@kent.gov.uk",
                        status=CaseStatus.SUBMITTED,
                    )
                )
    finally:
        engine.dispose()
    waiting = slack.scalar("SELECT COUNT(*) FROM business_case WHERE status IN ('submitted', 'under_assessment')")
    total = slack.scalar("SELECT COUNT(*) FROM business_case WHERE status != 'draft'")
    assert waiting >= 60
    board = slack.person(BOARD)
    for command, count in (("review", waiting), ("ideas", total)):
        body = slack.command(command, board).json
        check_message(body)
        shown = [b for b in body["blocks"] if b["type"] == "section" and "(case " in b.get("text", {}).get("text", "")]
        assert 10 <= len(shown) < count, command
        assert str(count) in body["text"], command  # the person is told how many there are
    channel = "D" + board[1:]
    slack.dm(board, "review", channel)
    check_message(slack.fake.wait_for("chat.postMessage", channel=channel)[0].args)


# --- who may use the bot ------------------------------------------------------------------------------


def test_someone_outside_the_partnership_is_told_how_to_get_access(slack):
    user = slack.person("someone@gmail.com")
    body = slack.command("next gis meeting", user).json
    check_message(body)
    assert "I can't match someone@gmail.com to a Kent Connects partner" in body["text"]
    assert "ask the Partnership Office" in body["text"]
    channel = "D" + user[1:]
    slack.dm(user, "join gis", channel)
    reply = slack.fake.wait_for("chat.postMessage", channel=channel)[0].args
    assert "I can't match someone@gmail.com" in reply["text"]
    assert slack.person_id("someone@gmail.com") is None  # nothing is kept about them


def test_someone_without_a_visible_email_gets_the_no_email_explanation(slack):
    user = slack.person(None)  # users.info gives a profile without an e-mail
    body = slack.command("my meetings", user).json
    check_message(body)
    assert "I can't see an e-mail address for you" in body["text"]
    assert "workspace administrator" in body["text"]
    slack.home_opened(user)
    home = slack.fake.wait_for("views.publish", user_id=user)[0].args["view"]
    assert any("I can't see an e-mail address" in t for t in mrkdwn_texts({"blocks": home["blocks"]}))


# --- users.info ---------------------------------------------------------------------------------------


def test_users_info_is_asked_once_per_person(slack):
    user, email = new_staff(slack, "once")
    channel = "D" + user[1:]
    slack.command("whoami", user)
    slack.command("groups", user)
    slack.dm(user, "my meetings", channel)
    slack.fake.wait_for("chat.postMessage", channel=channel)
    slack.button(user, "events", channel=channel)
    slack.fake.wait_for("chat.postMessage", count=2, channel=channel)
    slack.home_opened(user)
    slack.fake.wait_for("views.publish", user_id=user)
    assert len(slack.fake.matching("users.info", user=user)) == 1
    other = slack.person(DEMO)
    slack.command("whoami", other)
    assert len(slack.fake.matching("users.info", user=other)) == 1
    assert len(slack.fake.matching("users.info", user=user)) == 1


def test_a_failed_users_info_is_asked_again_next_time(slack):
    user, email = new_staff(slack, "failed.lookup")
    slack.fake.scripted[f"users.info:{user}"] = [(200, {"ok": False, "error": "internal_error"}, {})]
    assert slack.command("whoami", user).status == 200  # answered, without knowing who it is
    second = slack.command("whoami", user).json
    assert f"You're {email}" in second["text"] or "Kent County Council" in second["text"]
    assert len(slack.fake.matching("users.info", user=user)) == 2


def test_users_info_is_asked_once_even_for_simultaneous_messages(slack):
    user, _ = new_staff(slack, "simultaneous")
    slack.fake.scripted[f"users.info:{user}"] = [
        (200, {"ok": True, "user": {"id": user, "profile": {"email": slack.fake.emails[user]}}}, {}, 0.5)
    ]
    threads = [threading.Thread(target=slack.dm, args=(user, text, "D" + user[1:])) for text in ("whoami", "groups")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slack.fake.wait_for("chat.postMessage", count=2, channel="D" + user[1:])
    assert len(slack.fake.matching("users.info", user=user)) == 1


# --- slow answers and files -----------------------------------------------------------------------------


def test_a_slow_answer_is_acknowledged_then_sent_to_the_response_url(slack):
    user, _ = new_staff(slack, "slow")
    slack.fake.scripted[f"users.info:{user}"] = [
        (200, {"ok": True, "user": {"id": user, "profile": {"email": slack.fake.emails[user]}}}, {}, 2.5)
    ]
    trigger = slack.uid("TR")
    answer = slack.command("next gis meeting", user, trigger_id=trigger)
    assert answer.status == 200 and answer.body == "Working on it…"  # Bolt sends a text-only ack as plain text
    posted = slack.fake.wait_for(f"/response/{trigger}")
    assert len(posted) == 1
    check_message(posted[0].args)
    assert posted[0].args["response_type"] == "ephemeral"
    assert posted[0].args["replace_original"] is False
    assert "GIS meets next on" in posted[0].args["text"]


def test_a_calendar_file_goes_to_the_persons_dm(slack):
    user = slack.person(DEMO)
    body = slack.command("calendar gis", user).json
    check_message(body)
    opened = slack.fake.wait_for("conversations.open", users=user)
    assert len(opened) == 1
    done = slack.fake.wait_for("files.completeUploadExternal", channel_id="D" + user)
    assert len(done) == 1
    uploads = slack.fake.named("/upload/F1")
    assert any(b"BEGIN:VCALENDAR" in c.args.get("_raw", b"") for c in uploads)


# --- retries ----------------------------------------------------------------------------------------------


def test_a_retried_dm_event_is_acted_on_once(slack):
    user, email = new_staff(slack, "retry.dm")
    channel = "D" + user[1:]
    event = slack.dm_event(user, "join digital accessibility", channel)
    first = slack.post_json(event)
    retry = slack.post_json(event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status == retry.status == 200  # a retry is acknowledged too, or Slack keeps retrying
    posted = slack.fake.wait_for("chat.postMessage", channel=channel)
    time.sleep(SETTLE)
    assert len(slack.fake.matching("chat.postMessage", channel=channel)) == 1
    assert posted[0].args["text"].startswith("Welcome to Digital Accessibility!")
    assert memberships(slack, email, "digital-accessibility") == 1


def test_simultaneous_copies_of_an_event_are_acted_on_once(slack):
    user, _ = new_staff(slack, "retry.parallel")
    channel = "D" + user[1:]
    event = slack.dm_event(user, "whoami", channel)
    threads = [
        threading.Thread(
            target=slack.post_json, args=(event,), kwargs={"headers": {"X-Slack-Retry-Num": str(n)} if n else {}}
        )
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slack.fake.wait_for("chat.postMessage", channel=channel)
    time.sleep(SETTLE)
    assert len(slack.fake.matching("chat.postMessage", channel=channel)) == 1


def test_a_repeated_slash_command_registers_once(slack):
    user, email = new_staff(slack, "retry.command")
    trigger = slack.uid("TR")
    first = slack.command("register 1 online", user, trigger_id=trigger)
    assert "You have a place at Future Workplaces" in first.json["text"]
    again = slack.command("register 1 online", user, trigger_id=trigger, headers={"X-Slack-Retry-Num": "1"})
    assert again.status == 200 and again.body == ""  # not even "you're already registered"
    assert registrations(slack, email) == [("online", "confirmed")]
    # A new command (a new trigger id) is a new request.
    third = slack.command("register 1 online", user).json
    assert "already registered" in third["text"]


def test_a_repeated_button_press_is_acted_on_once(slack):
    user, email = new_staff(slack, "retry.button")
    channel = "D" + user[1:]
    trigger = slack.uid("TR")
    slack.button(user, "join information security", trigger_id=trigger, channel=channel)
    slack.button(user, "join information security", trigger_id=trigger, channel=channel)
    slack.fake.wait_for("chat.postMessage", channel=channel)
    time.sleep(SETTLE)
    assert len(slack.fake.matching("chat.postMessage", channel=channel)) == 1
    assert memberships(slack, email, "information-security") == 1


def test_a_retried_mention_is_answered_once(slack):
    user = slack.person(DEMO)
    channel = slack.uid("C")
    body = slack.event_body(
        {
            "type": "app_mention",
            "user": user,
            "text": "<@UBOT> groups",
            "channel": channel,
            "ts": "1700000300.000100",
            "event_ts": "1700000300.000100",
        }
    )
    slack.post_json(body)
    slack.post_json(body, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    slack.fake.wait_for("chat.postEphemeral", channel=channel)
    time.sleep(SETTLE)
    assert len(slack.fake.matching("chat.postEphemeral", channel=channel)) == 1


# --- replies to buttons where the bot cannot post -----------------------------------------------------------


def test_a_button_in_a_channel_the_bot_is_not_in_still_gets_an_answer(slack):
    user, email = new_staff(slack, "private.channel")
    channel = slack.uid("G")
    trigger = slack.uid("TR")
    slack.fake.scripted[f"chat.postEphemeral:{user}"] = [(200, {"ok": False, "error": "channel_not_found"}, {})]
    slack.button(user, "join gis", channel=channel, trigger_id=trigger)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and memberships(slack, email, "gis") == 0:
        time.sleep(0.05)
    assert memberships(slack, email, "gis") == 1  # the action itself happened
    answered = slack.fake.wait_for(f"/response/{trigger}", timeout=3)
    assert answered and answered[0].args["text"].startswith("Welcome to GIS!")
    assert not slack.fake.matching("chat.postEphemeral", channel=channel)  # never tried where it can't go
