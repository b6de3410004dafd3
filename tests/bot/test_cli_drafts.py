"""A business case draft survives the process ending: the real `python -m bot console`, run three
times in the same fresh folder on the default SQLite file (kentconnects.db).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[2]
DEMO = "demo@kent.gov.uk"

FIRST_ANSWERS = [
    "Shared desk booking <!channel>",
    "Staff visiting other partners cannot find a desk.",
    "Buy one desk booking service for every partner office.",
]
REST_ANSWERS = ["Medway, Kent Police", "gis", "smart kent", "£1.2m", "9 months", "me"]


def run_console(tmp_path: Path, lines: list[str]) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BOT_TIMEZONE", "BOT_ADMINS", "PORT")
    }
    environment["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "something went wrong" not in result.stdout
    return result


def replies(stdout: str) -> list[str]:
    return stdout.rstrip("\n").split("\n\n")


def rows(db_file: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_file) as connection:
        return connection.execute(sql).fetchall()


def test_a_draft_is_resumed_after_the_process_is_restarted(tmp_path):
    db_file = tmp_path / "kentconnects.db"

    first = run_console(tmp_path, ["idea", *FIRST_ANSWERS])
    out = replies(first.stdout)
    assert len(out) == 4
    assert "What is the idea called?" in out[0]
    assert "What problem does it solve?" in out[1]
    assert "What do you propose to do?" in out[2]
    assert "Which partners benefit?" in out[3]
    assert rows(db_file, "SELECT count(*) FROM business_case WHERE title LIKE 'Shared desk%'") == [(0,)]
    ((form, step, field, values),) = rows(db_file, 'SELECT form, step, field, "values" FROM conversation_state')
    assert (form, step, field) == ("business_case", "asking", "partners")
    assert json.loads(values) == dict(zip(("title", "problem", "proposal"), FIRST_ANSWERS, strict=True))

    second = run_console(tmp_path, [*REST_ANSWERS, "yes"])
    out = replies(second.stdout)
    assert len(out) == len(REST_ANSWERS) + 1
    assert "Which groups benefit?" in out[0]  # carried straight on from the stored draft
    summary = out[-2]
    assert "Title: Shared desk booking <!channel>" in summary
    assert "Problem: Staff visiting other partners cannot find a desk." in summary
    assert "Estimated cost: £1,200,000" in summary
    assert "your business case is submitted as Shared desk booking <!channel> (case " in out[-1]
    assert rows(db_file, "SELECT count(*) FROM conversation_state") == [(0,)]

    third = run_console(tmp_path, ["ideas mine"])
    mine = third.stdout
    assert "Your business cases: 1, newest first." in mine
    assert "• Shared desk booking <!channel> (case " in mine and "Asks for: £1,200,000" in mine

    cases = rows(
        db_file,
        """
        SELECT c.title, c.problem, c.proposal, c.benefiting_partners, c.benefiting_groups, g.slug,
               c.estimated_cost_pence, c.timescale, c.contact, p.email, pa.slug, c.status
        FROM business_case c
        JOIN kc_group g ON g.id = c.sponsor_group_id
        JOIN person p ON p.id = c.submitter_id
        JOIN partner pa ON pa.id = c.submitter_partner_id
        WHERE c.title != 'County-wide GovRoam roll-out'""",
    )
    assert len(cases) == 1  # exactly one: nothing lost, nothing duplicated
    ((title, problem, proposal, partners, groups, sponsor, cost, timescale, contact, submitter, partner, status),) = (
        cases
    )
    assert (title, problem, proposal) == tuple(FIRST_ANSWERS)
    assert json.loads(partners) == ["kent-police", "medway"]
    assert json.loads(groups) == ["gis"]
    assert sponsor == "smart-kent-and-medway"
    assert cost == 120_000_000 and type(cost) is int
    assert (timescale, contact, submitter, partner, status) == ("9 months", DEMO, DEMO, "kcc", "submitted")
    changes = rows(
        db_file,
        """SELECT cc.from_status, cc.to_status FROM case_change cc
                               JOIN business_case c ON c.id = cc.case_id WHERE c.title = 'Shared desk booking <!channel>'""",
    )
    assert changes == [("draft", "submitted")]
    board = rows(
        db_file,
        """SELECT p.email FROM delivery d JOIN person p ON p.id = d.recipient_id
                             WHERE d.kind = 'case_submitted' ORDER BY p.email""",
    )
    assert board == [("board.demo@kent.police.uk",), ("leadership.demo@medway.gov.uk",)]
