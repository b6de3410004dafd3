"""Reply.plain_text: the console's output and every platform's fallback text."""

from __future__ import annotations

import dataclasses

import pytest

from core.messages import Action, Field, Item, Reply, field_list


def full_reply() -> Reply:
    return Reply(
        "GIS meets next on Tuesday 8 December 2026.",
        title="GIS quarterly meeting (meeting 13)",
        fields=(Field("When", "Tuesday 8 December 2026, 10:00–12:00 GMT"), Field("Where", "Map Room")),
        items=(
            Item("First item", "its text", fields=(Field("Online", "https://meet.example.org/x"),)),
            Item("Second item"),
        ),
        actions=(Action("All its dates", "meetings gis"), Action("Leave", "leave gis", "danger")),
        footer="Say `help` for more.",
    )


def test_everything_in_order():
    assert full_reply().plain_text().split("\n") == [
        "GIS quarterly meeting (meeting 13)",
        "GIS meets next on Tuesday 8 December 2026.",
        "When: Tuesday 8 December 2026, 10:00–12:00 GMT",
        "Where: Map Room",
        "• First item",
        "  its text",
        "  Online: https://meet.example.org/x",
        "• Second item",
        "You can say: `meetings gis`, `leave gis`",
        "Say `help` for more.",
    ]


def test_text_alone():
    assert Reply("Hello.").plain_text() == "Hello."


def test_no_title_no_footer_no_actions_leave_no_blank_lines():
    text = Reply("Lead.", fields=(Field("A", "1"),)).plain_text()
    assert text == "Lead.\nA: 1"
    assert "\n\n" not in full_reply().plain_text()


def test_empty_text_is_left_out():
    assert Reply("", title="Title", footer="Foot").plain_text() == "Title\nFoot"


def test_actions_show_the_commands_not_the_labels():
    text = Reply("x", actions=(Action("Next meeting", "next gis meeting"),)).plain_text()
    assert "`next gis meeting`" in text
    assert "Next meeting" not in text


def test_item_actions_are_not_in_the_plain_text():
    text = Reply("x", items=(Item("GIS", actions=(Action("Join", "join gis"),)),)).plain_text()
    assert text == "x\n• GIS"


def test_user_text_is_kept_verbatim():
    # plain text: nothing is escaped or interpreted here; each renderer escapes for its platform
    sneaky = "<!channel> <script>alert(1)</script> *bold* `code`"
    assert sneaky in Reply(sneaky).plain_text()


def test_reply_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        full_reply().text = "changed"  # type: ignore[misc]  # writing a frozen field is what is tested


# --- field_list ---------------------------------------------------------------------------------


def test_field_list_keeps_order_and_leaves_out_empty_values():
    fields = field_list(("Group", "GIS"), ("Where", None), ("Online", ""), ("Agenda", "Updates"))
    assert fields == (Field("Group", "GIS"), Field("Agenda", "Updates"))


def test_field_list_of_nothing():
    assert field_list() == ()
    assert field_list(("Where", None)) == ()


def test_empty_fields_do_not_appear_in_the_reply():
    reply = Reply("Lead.", fields=field_list(("Where", None), ("Online", "https://x.example")))
    assert reply.plain_text() == "Lead.\nOnline: https://x.example"
    assert "Where" not in reply.plain_text()
