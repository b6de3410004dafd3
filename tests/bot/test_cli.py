"""The real command line, `python -m bot ...`, run as a subprocess in a fresh folder.

With no DATABASE_URL the CLI uses the embedded default, a SQLite file kentconnects.db in the
current folder, and loads the demo relative to today's date, so the expected dates are
computed here from the demo's rule for GIS: quarterly on the second Tuesday, 10:00-12:00
London time, starting in the month after the day of loading.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.console import NOTICE_MARK
from storage.demo import DEMO_PEOPLE
from storage.seed import PARTNERS_FILE
from tests.conftest import _drop_schema, _open_postgres, _postgres_required

REPO = Path(__file__).parents[2]
LONDON = ZoneInfo("Europe/London")
ISSUE_EXAMPLE = "groups\nnext gis meeting\nmeetings leadership\n"
GROUP_NAMES = (
    "Leadership Group",
    "Information Security",
    "Digital Accessibility",
    "GIS",
    "Smart Kent and Medway Projects",
)
NEXT_GIS = re.compile(
    r"GIS meets next on (?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) (?P<day>\d{1,2}) "
    r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December) "
    r"(?P<year>\d{4}), 10:00–12:00 (?P<zone>GMT|BST)\."
)


def run_bot(*args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BOT_TIMEZONE", "BOT_ADMINS", "PORT")
    }
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=environment,
        timeout=120,
    )


def london_today() -> date:
    return datetime.now(LONDON).date()


def expected_next_gis(today: date) -> str:
    """The demo's first GIS meeting: the second Tuesday of the month after `today`."""
    month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    first_tuesday = month + timedelta(days=(1 - month.weekday()) % 7)
    day = first_tuesday + timedelta(days=7)
    start = datetime.combine(day, time(10), LONDON)
    return f"GIS meets next on {day:%A} {day.day} {day:%B %Y}, 10:00–12:00 {start.tzname()}."


def replies(stdout: str) -> list[str]:
    """The replies, one per input line; a message from the bot's own initiative (a reminder that
    fell due today) comes as a block of its own and is left out."""
    return [block for block in stdout.rstrip("\n").split("\n\n") if not block.startswith(NOTICE_MARK)]


def meeting_numbers(text: str) -> list[str]:
    return re.findall(r"\(meeting (\d+)\)", text)


def meeting_rows(db_file: Path) -> int:
    with sqlite3.connect(db_file) as connection:
        return connection.execute("SELECT count(*) FROM meeting").fetchone()[0]


def check_issue_example(result: subprocess.CompletedProcess, before: date) -> None:
    assert result.returncode == 0, result.stderr
    groups, next_gis, leadership = replies(result.stdout)
    assert "Kent Connects has 5 groups" in groups
    for name in GROUP_NAMES:
        assert f"• {name}" in groups
    assert "• Leadership Group (closed" in groups

    match = NEXT_GIS.search(next_gis)
    assert match, next_gis
    assert match["weekday"] == "Tuesday"
    assert match.group(0) in {expected_next_gis(before), expected_next_gis(london_today())}
    assert "Where: Map Room, Demo Centre, Chatham (demo venue)" in next_gis

    assert "Leadership Group is a closed group" in leadership
    assert "Orchard Room" not in leadership and not re.search(r"\b20\d\d\b", leadership)
    assert "Traceback" not in result.stderr


# --- console -------------------------------------------------------------------------------------


def test_issue_example_on_the_default_sqlite_file(tmp_path):
    today = london_today()
    result = run_bot("console", "--user", "someone@medway.gov.uk", cwd=tmp_path, stdin=ISSUE_EXAMPLE)
    check_issue_example(result, today)
    assert (tmp_path / "kentconnects.db").is_file()
    assert meeting_rows(tmp_path / "kentconnects.db") == 20  # five groups, four meetings each


def test_expected_date_helper_follows_the_demo_rule():
    # the demo day of the other tests: 25 November 2026 -> Tuesday 8 December 2026
    assert expected_next_gis(date(2026, 11, 25)) == "GIS meets next on Tuesday 8 December 2026, 10:00–12:00 GMT."
    assert expected_next_gis(date(2026, 12, 31)) == "GIS meets next on Tuesday 12 January 2027, 10:00–12:00 GMT."
    assert expected_next_gis(date(2027, 5, 1)) == "GIS meets next on Tuesday 8 June 2027, 10:00–12:00 BST."


def test_a_second_run_does_not_reload_the_demo(tmp_path):
    first = run_bot("console", stdin="meetings\nmeetings gis\n", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    rows = meeting_rows(tmp_path / "kentconnects.db")
    second = run_bot("console", stdin="meetings\nmeetings gis\n", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert meeting_numbers(first.stdout) and meeting_numbers(second.stdout) == meeting_numbers(first.stdout)
    assert second.stdout == first.stdout
    assert meeting_rows(tmp_path / "kentconnects.db") == rows == 20


def test_changes_persist_between_runs(tmp_path):
    run = run_bot("console", "--user", "someone@medway.gov.uk", cwd=tmp_path, stdin="join gis\n")
    assert run.returncode == 0 and "Welcome to GIS" in run.stdout
    run = run_bot("console", "--user", "someone@medway.gov.uk", cwd=tmp_path, stdin="whoami\n")
    assert "Groups: GIS" in run.stdout


def test_no_command_chats_as_the_demo_user(tmp_path):
    result = run_bot(cwd=tmp_path, stdin="whoami\n")
    assert result.returncode == 0, result.stderr
    assert "Demo User (KCC), from Kent County Council" in result.stdout
    assert "Smart Kent and Medway Projects (chair)" in result.stdout


def test_end_of_input_at_once_exits_zero(tmp_path):
    result = run_bot("console", cwd=tmp_path, stdin="")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_one_reply_per_line_including_blank_and_windows_lines(tmp_path):
    result = run_bot("console", cwd=tmp_path, stdin="whoami\r\n\nnext gis meeting\r\n")
    assert result.returncode == 0, result.stderr
    out = replies(result.stdout)
    assert len(out) == 3
    assert "Kent County Council" in out[0]
    assert "didn't catch anything" in out[1]
    assert NEXT_GIS.search(out[2])


def test_quit_ends_the_chat(tmp_path):
    result = run_bot("console", cwd=tmp_path, stdin="whoami\nquit\ngroups\n")
    assert result.returncode == 0
    assert "Kent County Council" in result.stdout
    assert "Kent Connects has 5 groups" not in result.stdout


def test_bad_input_lines_do_not_end_the_chat(tmp_path):
    lines = ["x" * 10_000, "📅 meetings?", "meetings on 31 February", "join gis'; DROP TABLE person; --", "groups"]
    result = run_bot("console", cwd=tmp_path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = replies(result.stdout)
    assert len(out) == len(lines)
    assert "something went wrong" not in result.stdout
    assert "Kent Connects has 5 groups" in out[-1]


def test_console_user_must_be_an_email_address(tmp_path):
    result = run_bot("console", "--user", "not-an-email", cwd=tmp_path, stdin="whoami\n")
    assert result.returncode == 2
    assert "--user needs an e-mail address" in result.stderr and "not-an-email" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


# --- db upgrade and seed ----------------------------------------------------------------------------


def test_db_upgrade(tmp_path):
    result = run_bot("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Database is up to date." in result.stdout
    assert (tmp_path / "kentconnects.db").is_file()
    again = run_bot("db", "upgrade", cwd=tmp_path)
    assert again.returncode == 0 and "Database is up to date." in again.stdout


def test_seed_the_partners_file(tmp_path):
    (tmp_path / "storage" / "data").mkdir(parents=True)
    shutil.copy(REPO / "storage" / "data" / "kent_connects.yaml", tmp_path / "storage" / "data")
    result = run_bot("seed", "storage/data/kent_connects.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Loaded 19 partners, 5 groups, 0 people." in result.stdout
    again = run_bot("seed", "storage/data/kent_connects.yaml", cwd=tmp_path)  # safe to run again
    assert again.returncode == 0, again.stderr

    chat = run_bot("console", "--user", "someone@medway.gov.uk", cwd=tmp_path, stdin="groups\nwhoami\nmeetings\n")
    assert chat.returncode == 0, chat.stderr
    groups, whoami, meetings = replies(chat.stdout)
    assert "Kent Connects has 5 groups" in groups
    assert "Partner: Medway Council" in whoami
    assert "No meetings are scheduled yet." in meetings  # the partners file has no demo meetings


def test_seed_demo(tmp_path):
    today = london_today()
    result = run_bot("seed", "--demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    partners = len(yaml.safe_load(PARTNERS_FILE.read_text())["partners"])
    assert f"Loaded {partners} partners, 5 groups, {len(DEMO_PEOPLE)} people." in result.stdout
    assert run_bot("seed", "--demo", cwd=tmp_path).returncode == 0
    assert meeting_rows(tmp_path / "kentconnects.db") == 20  # loading again adds no meetings

    chat = run_bot("console", "--user", "someone@medway.gov.uk", cwd=tmp_path, stdin=ISSUE_EXAMPLE)
    check_issue_example(chat, today)


def test_seed_a_missing_file(tmp_path):
    result = run_bot("seed", "missing.yaml", cwd=tmp_path)
    assert result.returncode != 0
    assert "missing.yaml" in result.stderr and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_a_malformed_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("partners:\n  - {slug: x}\n", encoding="utf-8")
    result = run_bot("seed", "bad.yaml", cwd=tmp_path)
    assert result.returncode != 0
    assert "Seed error" in result.stderr and "'name' is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_needs_a_file_or_demo(tmp_path):
    result = run_bot("seed", cwd=tmp_path)
    assert result.returncode == 2
    assert "--demo" in result.stderr


# --- configuration and commands still to come ------------------------------------------------------


@pytest.mark.parametrize("args", [("console",), ("db", "upgrade")])
def test_an_unknown_time_zone_is_a_configuration_error(tmp_path, args):
    result = run_bot(*args, cwd=tmp_path, stdin="whoami\n", env={"BOT_TIMEZONE": "Mars/Olympus"})
    assert result.returncode != 0
    assert "Configuration error" in result.stderr and "Mars/Olympus" in result.stderr
    assert "Europe/London" in result.stderr  # says what would work
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_bad_port_is_a_configuration_error(tmp_path):
    result = run_bot("console", cwd=tmp_path, stdin="", env={"PORT": "eighty"})
    assert result.returncode != 0
    assert "Configuration error" in result.stderr and "eighty" in result.stderr


def test_another_time_zone_shows_times_there(tmp_path):
    result = run_bot("console", cwd=tmp_path, stdin="next gis meeting\n", env={"BOT_TIMEZONE": "UTC"})
    assert result.returncode == 0, result.stderr
    assert re.search(r"GIS meets next on Tuesday \d{1,2} \w+ \d{4}, (10:00–12:00|09:00–11:00) UTC\.", result.stdout)


def test_serve_refuses_half_a_slack_configuration(tmp_path):
    result = run_bot("serve", "--port", "0", cwd=tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr and "Traceback" not in result.stderr


def test_worker_without_platforms_holds_notices_for_the_console_and_stops_cleanly_on_sigterm(tmp_path):
    # A chat queues a notice for the Board. A worker with neither Slack nor Teams configured
    # prints nothing and sends nothing: it holds the notice with the reason, and the Board
    # member sees it the next time they chat in the console. SIGTERM stops it with status 0.
    chat = run_bot("console", cwd=tmp_path, stdin="idea\nT\nP\nQ\nall\nnone\ngis\n£100\n1 month\nme\nyes\n")
    assert "is submitted" in chat.stdout, chat.stdout
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BOT_ADMINS")}
    environment["PYTHONPATH"] = str(REPO)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "MICROSOFT_APP_ID", "BOT_EMULATOR"):
        environment.pop(name, None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = datetime.now() + timedelta(seconds=60)
        while datetime.now() < deadline:
            with sqlite3.connect(tmp_path / "kentconnects.db") as db:
                found = db.execute(
                    "select status, last_error, delivered_via from delivery where kind = 'case_submitted'"
                ).fetchall()
            if found and all(status != "pending" for status, _, _ in found):
                break
            import time as _time

            _time.sleep(0.5)
        assert found and {status for status, _, _ in found} == {"held"}, found
        assert all(
            error.startswith("neither Slack nor Teams is configured here") and via is None for _, error, via in found
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert out == "", out  # no message is ever "sent" to the worker's own output
    assert "neither Slack nor Teams is configured" in err and "stopped" in err and "Traceback" not in err

    board = run_bot("console", "--user", "board.demo@kent.police.uk", cwd=tmp_path, stdin="whoami\nnotices\n")
    assert board.returncode == 0, board.stderr
    blocks = board.stdout.rstrip("\n").split("\n\n")
    assert blocks[0].startswith(NOTICE_MARK) and "A new business case awaits the Leadership Board" in blocks[0]
    assert blocks[1].startswith("Who you are") and len(blocks) == 3
    assert "in the console" in blocks[2] and "New business case" in blocks[2]
    again = run_bot("console", "--user", "board.demo@kent.police.uk", cwd=tmp_path, stdin="whoami\n")
    assert NOTICE_MARK not in again.stdout  # shown once
    with sqlite3.connect(tmp_path / "kentconnects.db") as db:
        rows = db.execute(
            "select p.email, d.status, d.delivered_via from delivery d join person p "
            "on p.id = d.recipient_id where d.kind = 'case_submitted' order by p.email"
        ).fetchall()
    # The other Board member has not chatted since: theirs still waits for them.
    assert rows == [("board.demo@kent.police.uk", "sent", "console"), ("leadership.demo@medway.gov.uk", "held", None)]


def test_an_unreachable_database_is_reported_without_its_password(tmp_path):
    result = run_bot(
        "db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": "postgresql://kc:sup3rsecret@127.0.0.1:1/nothing"}
    )
    assert result.returncode == 1
    assert "did not answer" in result.stderr
    assert "sup3rsecret" not in result.stderr and "sup3rsecret" not in result.stdout
    assert "Traceback" not in result.stderr


# --- PostgreSQL -----------------------------------------------------------------------------------


def test_issue_example_on_postgresql(tmp_path):
    url, reason = _open_postgres()
    if reason:
        if _postgres_required():
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        today = london_today()
        env = {"DATABASE_URL": url}
        result = run_bot("console", "--user", "someone@medway.gov.uk", cwd=tmp_path, stdin=ISSUE_EXAMPLE, env=env)
        check_issue_example(result, today)
        assert not (tmp_path / "kentconnects.db").exists()  # the URL was used, not the default file

        first = run_bot("console", stdin="meetings gis\n", cwd=tmp_path, env=env)
        second = run_bot("console", stdin="meetings gis\n", cwd=tmp_path, env=env)
        assert first.returncode == second.returncode == 0
        assert len(meeting_numbers(first.stdout)) == 4
        assert meeting_numbers(second.stdout) == meeting_numbers(first.stdout)

        upgrade = run_bot("db", "upgrade", cwd=tmp_path, env=env)
        assert upgrade.returncode == 0 and "Database is up to date." in upgrade.stdout
    finally:
        _drop_schema(url)
