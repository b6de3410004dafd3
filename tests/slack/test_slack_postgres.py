"""The Slack route on PostgreSQL: retried deliveries and repeated submissions act once there too
(the once-only key is an INSERT ... ON CONFLICT DO NOTHING on inbound_seen)."""

from __future__ import annotations

import threading
import time

from tests.slack.harness import DEMO, check_message

SETTLE = 1.0
CASE = {
    "title": "Shared desks on PostgreSQL",
    "problem": "p",
    "proposal": "q",
    "partners": "Medway, Kent Police",
    "groups": "none",
    "sponsor": "GIS",
    "cost": "£12.5k",
    "timescale": "6 months",
    "contact": "me",
}


def test_slash_command_on_postgresql(pg_slack):
    body = pg_slack.command("next gis meeting", pg_slack.person(DEMO)).json
    check_message(body)
    assert "GIS meets next on" in body["text"]


def test_a_retried_dm_event_is_acted_on_once_on_postgresql(pg_slack):
    email = f"pg.retry.{pg_slack.uid('').lower()}@kent.gov.uk"
    user = pg_slack.person(email)
    channel = "D" + user[1:]
    event = pg_slack.dm_event(user, "join digital accessibility", channel)
    threads = [
        threading.Thread(
            target=pg_slack.post_json,
            args=(event,),
            kwargs={"headers": {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"} if n else {}},
        )
        for n in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pg_slack.fake.wait_for("chat.postMessage", channel=channel)
    time.sleep(SETTLE)
    assert len(pg_slack.fake.matching("chat.postMessage", channel=channel)) == 1
    assert (
        pg_slack.scalar(
            "SELECT COUNT(*) FROM membership m JOIN person p ON p.id = m.person_id "
            "JOIN kc_group g ON g.id = m.group_id WHERE p.email = ? AND g.slug = ?",
            (email, "digital-accessibility"),
        )
        == 1
    )


def test_a_modal_is_stored_once_on_postgresql(pg_slack):
    user = pg_slack.person(f"pg.modal.{pg_slack.uid('').lower()}@kent.gov.uk")
    view_id = pg_slack.uid("V")
    bad = pg_slack.submit_view(user, dict(CASE, partners="Narnia"), view_id=view_id).json
    assert bad["response_action"] == "errors" and set(bad["errors"]) == {"partners"}
    assert pg_slack.scalar("SELECT COUNT(*) FROM business_case WHERE title = ?", (CASE["title"],)) == 0
    for retry in range(3):
        answer = pg_slack.submit_view(user, CASE, view_id=view_id, headers={"X-Slack-Retry-Num": str(retry)})
        assert answer.status == 200 and answer.body == ""
    pg_slack.fake.wait_for("chat.postMessage", channel=user)
    time.sleep(SETTLE)
    assert pg_slack.rows(
        "SELECT estimated_cost_pence, benefiting_partners FROM business_case WHERE title = ?", (CASE["title"],)
    ) == [(1_250_000, ["kent-police", "medway"])]
    assert len(pg_slack.fake.matching("chat.postMessage", channel=user)) == 1
