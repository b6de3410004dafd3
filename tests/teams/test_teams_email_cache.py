"""Who a Teams user is (the connector's member look-up) is kept for EMAIL_CACHE_SECONDS, an hour, and no longer.

`serve` runs through tests/teams/launcher.py with KC_TEST_CLOCK_FILE: the cache's clock runs as many
seconds ahead as the file says, so the test moves it to just before and just past the hour without
waiting. The addresses are not at a partner's domain, so the bot stores nobody and `whoami` shows the
address it was given each time.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.teams_adapter import EMAIL_CACHE_SECONDS
from tests.teams import harness
from tests.teams.harness import TeamsServe, card_text


def test_a_changed_address_is_seen_after_the_hour_and_not_before(template, workdir, tmp_path):
    clock = tmp_path / "email-clock"
    clock.write_text("0")
    fake = harness.start_connector()
    path = harness.copy_database(template, workdir, "email-cache.db")
    server = TeamsServe(
        fake,
        f"sqlite:///{path}",
        workdir,
        sqlite_path=path,
        name="email-cache",
        module="tests.teams.launcher",
        KC_TEST_CLOCK_FILE=str(clock),
    )
    server.start()
    harness.SERVERS.append(server)
    try:
        user = server.person("first.address@example.com")
        conversation = server.activity(user, "x")["conversation"]["id"]
        member = f"/members/{quote(user, safe='')}"

        def whoami() -> tuple[str, int]:
            """What `whoami` answers now, and how many member look-ups the connector has had for the user."""
            response, activity = server.say(user, "whoami", conversation=conversation)
            assert response.status == 201, response.body
            [(_, card)] = server.reply_cards(activity)
            return card_text(card), sum(1 for s in fake.snapshot() if s.method == "GET" and s.path.endswith(member))

        text, lookups = whoami()
        assert "first.address@example.com" in text and lookups == 1

        fake.emails[user] = "second.address@example.org"
        clock.write_text(str(EMAIL_CACHE_SECONDS - 60))  # a minute before the hour is up
        text, lookups = whoami()
        assert "first.address@example.com" in text and "second.address" not in text
        assert lookups == 1, "the cached address was looked up again before the hour was up"

        clock.write_text(str(EMAIL_CACHE_SECONDS + 1))  # the hour is up
        text, lookups = whoami()
        assert "second.address@example.org" in text and "first.address" not in text
        assert lookups == 2

        text, lookups = whoami()  # and the new address is kept in its turn
        assert "second.address@example.org" in text and lookups == 2
    finally:
        server.stop()
        harness.SERVERS.remove(server)
        fake.stop()
