"""A sweep over the bot's replies, for people of every kind: every ack, message, modal and Home tab
the bot sends is valid Block Kit within Slack's limits, with fallback text and escaped mrkdwn.

The checks themselves are in harness.py (`check_message`, `check_view`); SlackBot.post checks
every ack, and here every Web API call the sweep caused is checked again explicitly.
"""

from __future__ import annotations

import time

import pytest

from tests.slack.harness import ADMIN, BOARD, DEMO, check_call, check_message, check_view

COMMANDS = [
    "",
    "help",
    "whoami",
    "groups",
    "events",
    "past events",
    "my events",
    "event future workplaces",
    "meetings",
    "my meetings",
    "meetings gis",
    "meetings leadership",
    "next leadership meeting",
    "meetings in March",
    "what's on next month",
    "fund",
    "ideas",
    "ideas approved",
    "idea 1",
    "review",
    "reminders",
    "announcements",
    "attendees 1",
    "calendar gis",
    "join",
    "meetigns",
    "x" * 1200,
    "idea",
    "schedule gis",
    "schedule smart kent",
    "create event",
    "announce",
]
PEOPLE = {"admin": ADMIN, "board": BOARD, "chair": DEMO, "outsider": "someone@gmail.com", "no e-mail": None}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_reply_fits_block_kit(slack, who):
    user = slack.person(PEOPLE[who])
    start = len(slack.fake.snapshot())
    modals = 0
    for text in COMMANDS:
        answer = slack.command(text, user)
        assert answer.status == 200, (text, answer)
        if answer.body == "":
            modals += 1  # a form opened as a modal: checked below with the calls
            continue
        body = answer.json
        check_message(body, f"{who}: /kc {text[:40]}")
        assert body["response_type"] == "ephemeral"
    slack.home_opened(user)
    slack.fake.wait_for("views.publish", user_id=user)
    # `idea` for partner staff; `schedule` for chairs of that group and admins; `create event` for admins
    expected = {"admin": 4, "chair": 2, "board": 1}.get(who, 0)
    assert modals == expected
    if modals:
        slack.fake.wait_for("views.open", count=modals, timeout=5)
    time.sleep(0.3)
    calls = slack.fake.snapshot()[start:]
    assert any(c.method == "views.publish" for c in calls)
    for call in calls:
        check_call(call)
    views = [c.args["view"] for c in calls if c.method in ("views.open", "views.publish")]
    for view in views:
        check_view(view)
    assert len([v for v in views if v["type"] == "modal"]) == modals


def test_forms_open_as_valid_modals(slack):
    """Forms a command opens, as the Partnership Office (who may use them all)."""
    user = slack.person(ADMIN)
    opened = {}
    for text in ("idea", "schedule gis", "create event"):
        trigger = slack.uid("TR")
        assert slack.command(text, user, trigger_id=trigger).body == ""
        calls = slack.fake.wait_for("views.open", trigger_id=trigger)
        assert len(calls) == 1, text
        view = calls[0].args["view"]
        check_view(view)
        opened[view["callback_id"]] = [b["block_id"] for b in view["blocks"]]
    assert set(opened) == {"kc_form:business_case", "kc_form:schedule_meeting", "kc_form:create_event"}
    assert "group" not in opened["kc_form:schedule_meeting"]  # `schedule gis` named the group: not asked
