"""The form's controls across real restarts: `python -m bot console` run four times in the same
fresh folder (the default SQLite file), the draft kept in the database between them."""

from __future__ import annotations

import json

from handlers.conversation import PAUSED_NOTE
from tests.bot.test_cli_drafts import replies, rows, run_console

DRAFT = 'SELECT step, field, "values" FROM conversation_state'


def test_continue_edit_and_skip_after_restarts(tmp_path):
    db_file = tmp_path / "kentconnects.db"

    out = replies(run_console(tmp_path, ["idea", "Shared desk booking", "my events"]).stdout)
    assert "What problem does it solve?" in out[1]
    assert PAUSED_NOTE in out[2]
    ((step, field, values),) = rows(db_file, DRAFT)
    assert (step, field, json.loads(values)) == ("paused", "problem", {"title": "Shared desk booking"})

    # A fresh process: the paused draft resumes.
    out = replies(run_console(tmp_path, ["continue"]).stdout)
    assert out == ["Let's carry on. What problem does it solve?\n`back` for the previous question, `cancel` to stop."]
    assert rows(db_file, "SELECT step, field FROM conversation_state") == [("asking", "problem")]

    # Another: `continue` at the question asks it again, `edit title` jumps back and returns,
    # and `skip` at a required question stores nothing.
    out = replies(run_console(tmp_path, ["continue", "edit title", "Desk booking for all", "skip"]).stdout)
    assert out[0].startswith("Let's carry on. What problem does it solve?")
    assert out[1].startswith("What is the idea called? (a short title) (Now: Shared desk booking;")
    assert out[2].startswith("What problem does it solve?")
    assert out[3].startswith("This one is needed: What problem does it solve?")
    ((step, field, values),) = rows(db_file, DRAFT)
    assert (step, field, json.loads(values)) == ("asking", "problem", {"title": "Desk booking for all"})

    out = replies(run_console(tmp_path, ["cancel"]).stdout)
    assert "nothing was saved" in out[0]
    assert rows(db_file, "SELECT count(*) FROM conversation_state") == [(0,)]
    assert rows(db_file, "SELECT count(*) FROM business_case WHERE title LIKE '%Desk booking%'") == [(0,)]
