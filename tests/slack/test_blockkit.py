"""bot.blockkit on its own: replies of every shape stay within Block Kit's limits (checked with
slack_sdk's models and our own counts), long lists are cut with a note, and user text is escaped."""

from __future__ import annotations

import json
import re

import pytest

import bot.router  # noqa: F401  (imports every handler, so that FORMS holds every form)
from bot import blockkit
from bot.slack_adapter import _visible
from core.forms import FORMS
from core.messages import Action, Field, Item, Reply
from tests.slack.harness import check_message, check_mrkdwn, check_view, mrkdwn_texts

HOSTILE = "<!channel> <@U0BOSS> <https://evil.example|click> & <script>"
ESCAPED = "&lt;!channel&gt; &lt;@U0BOSS&gt; &lt;https://evil.example|click&gt; &amp; &lt;script&gt;"
BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def _items(n: int, actions: int = 1) -> tuple[Item, ...]:
    return tuple(
        Item(
            f"Item {i}",
            f"Text of item {i}",
            fields=(Field("When", f"day {i}"),),
            actions=tuple(Action(f"Do {i}.{a}", f"do {i} {a}") for a in range(actions)),
        )
        for i in range(n)
    )


@pytest.mark.parametrize("count", [0, 1, 24, 25, 26, 60, 500])
def test_long_lists_are_cut_in_a_message_not_rejected(count):
    reply = Reply("Lead.", title="A list", items=_items(count), actions=(Action("Help", "help"),), footer="Foot.")
    body = blockkit.message(reply)
    check_message(body)
    blocks = body["blocks"]
    assert len(blocks) <= 50
    shown = sum(1 for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*Item "))
    notes = [b for b in blocks if b["type"] == "context" and "more not shown" in b["elements"][0]["text"]]
    if shown < count:
        assert len(notes) == 1 and f"…and {count - shown} more not shown" in notes[0]["elements"][0]["text"]
        assert len(blocks) >= 48  # cut near the limit, not early
    else:
        assert notes == []
    assert blocks[0]["type"] == "header"
    assert blocks[-1]["type"] == "context" and blocks[-1]["elements"][0]["text"] == "Foot."  # the footer stays
    assert blocks[-2]["type"] == "actions" and blocks[-2]["elements"][0]["value"] == "help"  # so do the actions


def test_a_long_list_on_the_home_tab_uses_up_to_100_blocks():
    view = blockkit.home_view(Reply("Lead.", title="Home", items=_items(300)))
    check_view(view)
    assert 95 <= len(view["blocks"]) <= 100
    assert "more not shown" in view["blocks"][-1]["elements"][0]["text"]


def test_every_button_has_its_own_action_id():
    body = blockkit.message(Reply("x", items=_items(10, actions=3), actions=(Action("A", "a"), Action("B", "b"))))
    ids = [e["action_id"] for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == 32 == len(set(ids))
    assert all(i.startswith(blockkit.ACTION_PREFIX) for i in ids)


def test_oversized_pieces_are_cut_to_their_limits():
    reply = Reply(
        "word " * 4000,  # 20,000 characters of text
        title="T" * 500,
        fields=tuple(Field(f"Label {i}", "v" * 3000) for i in range(23)),
        items=(Item("I" * 4000, "x" * 4000, actions=tuple(Action("L" * 200, "c" * 3000) for _ in range(40))),),
        actions=tuple(Action(f"Action {i}", f"a{i}") for i in range(40)),
        footer="f" * 5000,
    )
    body = blockkit.message(reply)
    check_message(body)  # slack_sdk validation of every block, plus our counts
    blocks = body["blocks"]
    assert len(blocks[0]["text"]["text"]) == 150 and blocks[0]["text"]["text"].endswith("…")
    field_sections = [b for b in blocks if b["type"] == "section" and "fields" in b]
    assert [len(b["fields"]) for b in field_sections] == [10, 10, 3]
    assert all(len(f["text"]) <= 2000 for b in field_sections for f in b["fields"])
    for block in blocks:
        if block["type"] == "actions":
            assert len(block["elements"]) == 25
            assert all(len(e["text"]["text"]) <= 75 and len(e["value"]) <= 2000 for e in block["elements"])
    assert len(body["text"]) <= 3000


def test_long_text_is_split_into_sections_without_losing_words():
    lines = [f"Line {i}: the GIS group meets quarterly in the Map Room." for i in range(300)]
    body = blockkit.message(Reply("\n".join(lines)))
    check_message(body)
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(s) <= 3000 for s in sections)
    assert "\n".join(sections).split("\n") == lines


def test_user_text_is_escaped_everywhere_mrkdwn_is_used():
    reply = Reply(
        HOSTILE,
        title=HOSTILE,
        fields=(Field(HOSTILE, HOSTILE),),
        items=(Item(HOSTILE, HOSTILE, fields=(Field(HOSTILE, HOSTILE),), actions=(Action(HOSTILE, HOSTILE),)),),
        footer=HOSTILE,
    )
    body = blockkit.message(reply)
    check_message(body)
    texts = mrkdwn_texts(body)
    assert len(texts) >= 5
    for text in texts:
        check_mrkdwn(text, "escaped")
        assert ESCAPED in text
    # plain_text (header, button labels) is never parsed by Slack: shown as typed.
    assert body["blocks"][0]["text"] == {"type": "plain_text", "text": HOSTILE, "emoji": True}


def test_escape_touches_only_the_three_characters():
    assert blockkit.escape("a & b < c > d * _ ~ ` :smile: @here") == "a &amp; b &lt; c &gt; d * _ ~ ` :smile: @here"
    assert blockkit.escape("&amp;") == "&amp;amp;"  # typed text is text, even if it looks like an entity


def test_a_long_escaped_text_is_never_cut_inside_an_entity():
    for n in range(6):
        body = blockkit.message(Reply("x" * n + "&" * 700 + "y" * 3000))
        for block in body["blocks"]:
            assert not BARE_AMPERSAND.search(block["text"]["text"])
            assert len(block["text"]["text"]) <= 3000


@pytest.mark.parametrize("where", ["item", "field", "fallback"])
def test_other_cut_texts_are_never_cut_inside_an_entity(where):
    for n in range(6):
        text = "x" * n + "&" * 3000
        if where == "item":
            body = blockkit.message(Reply("t", items=(Item("title", text),)))
            cut = body["blocks"][1]["text"]["text"]
        elif where == "field":
            body = blockkit.message(Reply("t", fields=(Field("Problem", text),)))
            cut = body["blocks"][1]["fields"][0]["text"]
        else:
            cut = blockkit.message(Reply(text))["text"]
        assert not BARE_AMPERSAND.search(cut), (n, cut[-10:])


def test_text_dense_in_special_characters_is_not_lost():
    text = "<p>" * 1000  # 3,000 characters; 9,000 escaped
    body = blockkit.message(Reply(text))
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"])
    shown = "".join(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
    assert shown.count("&lt;p&gt;") == 1000


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_form_renders_as_a_valid_modal(name):
    form = FORMS[name]
    metadata = {"form": name, "prefilled": {}, "channel": "C1"}
    view = blockkit.modal(form, {}, metadata)
    check_view(view)
    assert view["callback_id"] == f"kc_form:{name}"
    assert json.loads(view["private_metadata"]) == metadata
    assert [b["block_id"] for b in view["blocks"]] == [f.name for f in form.fields]
    for block, f in zip(view["blocks"], form.fields, strict=True):
        assert block["element"]["action_id"] == "value"
        assert block["optional"] == (not f.required or f.conditional)
        if block["element"]["type"] == "static_select":
            assert 0 < len(block["element"]["options"]) <= 100


def test_prefilled_fields_are_left_off_the_modal():
    form = FORMS["business_case"]
    view = blockkit.modal(form, {"title": "Given"}, {"form": "business_case", "prefilled": {"title": "Given"}})
    check_view(view)
    assert "title" not in [b["block_id"] for b in view["blocks"]]
    assert len(view["blocks"]) == len(form.fields) - 1


def test_modal_values_reads_every_kind_of_input():
    view = {
        "state": {
            "values": {
                "title": {"value": {"type": "plain_text_input", "value": "A title"}},
                "day": {"value": {"type": "datepicker", "selected_date": "2027-03-09"}},
                "format": {"value": {"type": "static_select", "selected_option": {"value": "online"}}},
                "empty_text": {"value": {"type": "plain_text_input", "value": None}},
                "empty_select": {"value": {"type": "static_select", "selected_option": None}},
            }
        }
    }
    assert blockkit.modal_values(view) == {
        "title": "A title",
        "day": "2027-03-09",
        "format": "online",
        "empty_text": "",
        "empty_select": "",
    }


def test_errors_attach_to_inputs_that_are_on_the_modal():
    view = {"blocks": [{"type": "input", "block_id": "problem"}, {"type": "input", "block_id": "cost"}]}
    errors = _visible({"title": "Title is needed.", "cost": "Not money.", "check": "Too early."}, view)
    assert errors == {"problem": "Title is needed. Too early.", "cost": "Not money."}
    assert blockkit.form_errors({"cost": "x" * 5000})["cost"].endswith("…")
    assert len(blockkit.form_errors({"cost": "x" * 5000})["cost"]) == 2000
