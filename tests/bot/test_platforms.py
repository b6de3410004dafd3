"""Which platforms a deployment serves and sends to (bot.platforms), from the settings alone.

`serve` and `worker` build their senders in the same place, so the Procfile's two processes
deliver alike; Teams is configured only by Microsoft credentials or BOT_EMULATOR=1.
"""

from __future__ import annotations

import pytest

from bot import platforms
from bot.teams_adapter import service_url_allowed
from core.settings import DEFAULT_TEAMS_ALLOWLIST, ConfigError, Settings

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
TEAMS = {"MICROSOFT_APP_ID": "5b8a1f0e-7c2d-4e6a-9f31-0d4c2b7e8a19", "MICROSOFT_APP_PASSWORD": "p"}


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, ()),
        (SLACK, ("slack",)),
        (TEAMS, ("teams",)),
        ({"BOT_EMULATOR": "1"}, ("teams",)),
        ({**SLACK, **TEAMS}, ("slack", "teams")),
        ({**SLACK, "BOT_EMULATOR": "0"}, ("slack",)),
    ],
)
def test_the_configured_platforms_follow_the_settings(env, expected):
    assert Settings.from_env(env).platforms == expected


def test_senders_are_built_for_exactly_the_configured_platforms(tmp_path):
    from storage import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    sessions = db.make_session_factory(engine)
    for env, expected in (({}, []), (SLACK, ["slack"]), ({**SLACK, "BOT_EMULATOR": "1"}, ["slack", "teams"])):
        senders = platforms.build_senders(Settings.from_env(env), sessions)
        try:
            assert [s.platform for s in senders] == expected
            assert not any(s.by_email for s in senders)  # nothing "reaches anyone" by printing
        finally:
            platforms.close(senders)
    engine.dispose()


def test_without_the_emulator_switch_loopback_hosts_are_not_on_the_default_allowlist():
    assert Settings.from_env({}).teams_allowlist == DEFAULT_TEAMS_ALLOWLIST
    assert Settings.from_env(TEAMS).teams_allowlist == DEFAULT_TEAMS_ALLOWLIST
    assert "127.0.0.1" in Settings.from_env({"BOT_EMULATOR": "1"}).teams_allowlist


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:3979/",
        "https://127.0.0.1/",
        "http://localhost:3979/",
        "https://localhost/",
        "https://[::1]/",
        "http://127.0.0.2/",
        "https://0.0.0.0/",
        "http://smba.trafficmanager.net/emea/",
    ],
)
def test_loopback_or_plain_http_service_urls_need_the_emulator_switch_even_when_listed(url):
    listed = ("127.0.0.1", "127.0.0.2", "localhost", "::1", "0.0.0.0", "smba.trafficmanager.net")
    assert not service_url_allowed(url, listed, emulator=False)


def test_the_emulator_switch_allows_the_emulators_own_address():
    assert service_url_allowed("http://localhost:57001/", ("localhost",), emulator=True)
    assert service_url_allowed("https://smba.trafficmanager.net/emea/", DEFAULT_TEAMS_ALLOWLIST)


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_an_unreadable_emulator_switch_is_refused_at_start(value):
    with pytest.raises(ConfigError, match="BOT_EMULATOR"):
        Settings.from_env({"BOT_EMULATOR": value})


def test_the_openid_metadata_url_must_be_https_outside_the_emulator():
    with pytest.raises(ConfigError, match="BOT_OPENID_METADATA_URL"):
        Settings.from_env({**TEAMS, "BOT_OPENID_METADATA_URL": "http://127.0.0.1:9/metadata"})
    local = Settings.from_env({**TEAMS, "BOT_EMULATOR": "1", "BOT_OPENID_METADATA_URL": "http://127.0.0.1:9/m"})
    assert local.teams_openid_metadata_url == "http://127.0.0.1:9/m"
