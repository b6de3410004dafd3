"""`GET /healthz` tells how far the bot reaches, as counts only (bot/server.py, storage/reach.py
`counts`), over real HTTP to `python -m bot serve` on its SQLite file; its 503 when the database
stops answering is tested in tests/bot/test_operations.py."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

from tests.bot.test_operations import get, start_serve

REACH_KEYS = {"partners_reached", "slack_workspaces", "slack_org_installs", "teams_tenants", "people"}


def add_people(db_file) -> None:
    """Two KCC people (one on Slack and Teams), one at Medway whose workspace was uninstalled,
    and a workspace installed where nobody has come from yet; written as another process would."""
    now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(db_file) as connection:
        partner = dict(connection.execute("SELECT slug, id FROM partner").fetchall())
        people = []
        for email, slug in (("a@kent.gov.uk", "kcc"), ("b@kent.gov.uk", "kcc"), ("c@medway.gov.uk", "medway")):
            cursor = connection.execute(
                "INSERT INTO person (email, partner_id, created_at) VALUES (?, ?, ?)", (email, partner[slug], now)
            )
            people.append(cursor.lastrowid)
        for person, platform, workspace, external, gone in (
            (people[0], "slack", "T0KCC", "U1", None),
            (people[0], "teams", "tenant-kcc", "29:a", None),
            (people[1], "slack", "T0KCC", "U2", None),
            (people[2], "slack", "T0MED", "U3", now),
        ):
            connection.execute(
                "INSERT INTO platform_identity (person_id, platform, workspace, external_id, enterprise, "
                "last_seen_at, gone_at) VALUES (?, ?, ?, ?, '', ?, ?)",
                (person, platform, workspace, external, now, gone),
            )
        connection.execute(
            "INSERT INTO slack_bots (client_id, app_id, team_id, team_name, bot_token, is_enterprise_install, "
            "installed_at) VALUES ('1.2', 'A1', 'T0NEW', 'Secret Team Name', 'xoxb-secret', 0, ?)",
            (now,),
        )


def test_healthz_counts_the_reach_and_names_nothing(tmp_path):
    server, port = start_serve(tmp_path, "--no-worker")
    try:
        status, kind, body = get(port, "/healthz")
        assert status == 200 and kind.startswith("application/json")
        health = json.loads(body)
        assert health["status"] == "ok" and health["database"] == "ok"
        assert health["reach"] == dict.fromkeys(REACH_KEYS, 0)

        add_people(tmp_path / "kentconnects.db")
        status, _, body = get(port, "/healthz")
        assert status == 200
        health = json.loads(body)
        assert health["reach"] == {
            "partners_reached": 2,
            "slack_workspaces": 2,  # T0KCC in use, T0NEW installed; T0MED uninstalled
            "slack_org_installs": 0,
            "teams_tenants": 1,
            "people": 3,
        }
        text = body.decode()
        for secret in ("T0KCC", "T0NEW", "Secret Team Name", "xoxb", "tenant-kcc", "kent.gov.uk", "Medway"):
            assert secret not in text
    finally:
        code = server.stop()
    assert code == 0, server.stderr
