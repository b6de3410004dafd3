"""Teams is closed by default: served only with Microsoft credentials or BOT_EMULATOR=1.

A public server must never take unauthenticated Teams requests, nor send anything to its own
host, unless the development switch says so. Each test starts its own `serve` on a copy of the
demo database, with a FakeConnector on 127.0.0.1 that must receive nothing.
"""

from __future__ import annotations

import pytest

from tests.teams import harness
from tests.teams.harness import AUTH_APP_ID, TeamsServe, token


def _server(fake, template, workdir, name: str, **env: str) -> TeamsServe:
    path = harness.copy_database(template, workdir, f"{name}.db")
    server = TeamsServe(fake, f"sqlite:///{path}", workdir, sqlite_path=path, name=name, **env)
    server.env.pop("BOT_EMULATOR", None)  # the harness's default; these servers set their own
    server.env.update(env)
    return server.start()


@pytest.fixture
def connector():
    fake = harness.start_connector()
    yield fake
    fake.stop()


@pytest.mark.parametrize(
    "env",
    [
        {},  # nothing configured at all
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret", "SLACK_API_URL": "http://127.0.0.1:9/api/"},
    ],
    ids=["nothing configured", "a Slack-only deployment"],
)
def test_without_microsoft_settings_or_the_emulator_switch_api_messages_is_404(connector, template, workdir, env):
    server = _server(connector, template, workdir, "closed", **env)
    try:
        user = server.person()
        before = server.scalar("SELECT COUNT(*) FROM conversation_ref")
        for activity in (
            server.activity(user, "whoami"),
            server.activity(user, None, type="conversationUpdate", membersAdded=[{"id": harness.BOT_ID}]),
            server.activity(
                user,
                None,
                type="invoke",
                name="adaptiveCard/action",
                value={"action": {"type": "Action.Execute", "data": {"kc_command": "help"}}},
            ),
        ):
            response = server.post(activity)
            assert response.status == 404, (response.status, response.body)
        assert connector.snapshot() == [], "a service URL was contacted although Teams is not configured"
        assert server.scalar("SELECT COUNT(*) FROM conversation_ref") == before
        assert server.scalar("SELECT COUNT(*) FROM person WHERE email = ?", (harness.DEMO,)) == 1
        log = server.log()
        assert "Teams is not configured" in log and "WITHOUT authentication" not in log
    finally:
        server.stop()


def test_with_the_emulator_switch_teams_answers_and_the_log_says_so_loudly(connector, template, workdir):
    server = _server(connector, template, workdir, "emulator", BOT_EMULATOR="1")
    try:
        user = server.person()
        response, activity = server.say(user, "whoami")
        assert response.status == 201, (response.status, response.body)
        [(_, card)] = server.reply_cards(activity)
        assert "from Kent County Council" in harness.card_text(card)
        log = server.log()
        assert "BOT_EMULATOR=1: DEVELOPMENT MODE" in log and "WITHOUT authentication" in log
    finally:
        server.stop()


def test_with_an_app_id_but_no_emulator_switch_a_loopback_service_url_is_never_contacted(connector, template, workdir):
    """Even when TEAMS_SERVICE_URL_ALLOWLIST names 127.0.0.1, plain http to the server's own host is
    only for BOT_EMULATOR=1: the activity is refused before anything is sent there."""
    server = _server(
        connector, template, workdir, "no-loopback", MICROSOFT_APP_ID=AUTH_APP_ID, MICROSOFT_APP_PASSWORD="x"
    )
    try:
        user = server.person()
        claims = {
            "aud": AUTH_APP_ID,
            "iss": "https://api.botframework.com",
            "exp": 4102444800,
            "serviceurl": connector.url,
        }
        for url in (
            connector.url,
            connector.url.replace("127.0.0.1", "localhost"),
            connector.url.replace("http://", "https://"),
        ):
            activity = server.activity(user, "whoami", service_url=url)
            response = server.post(activity, headers={"Authorization": "Bearer " + token(dict(claims, serviceurl=url))})
            assert response.status in (401, 403), (url, response.status, response.body)
        assert connector.snapshot() == []
        assert "DEVELOPMENT MODE" not in server.log()
    finally:
        server.stop()
