"""The distributed Slack app: installed in many workspaces through OAuth v2, every request and
every reply with the token of the workspace it came from, tokens refreshed once across racing
dispatchers, an uninstall stopping sends there and nowhere else.

`serve --no-worker` runs in a subprocess with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET (no
SLACK_BOT_TOKEN), on SQLite and on PostgreSQL, against a FakeSlack of its own that gives out
rotating tokens (oauth.v2.access) and refuses any call whose token it did not issue or that has
expired. Deliveries run through the real dispatcher and SlackSender, built from the same
settings as `worker` builds them.
"""

from __future__ import annotations

import http.cookies
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData

from bot import platforms
from bot.dispatcher import Dispatcher, Policy
from bot.slack_adapter import SlackInstalls
from core.messages import Reply
from core.settings import SLACK_BOT_SCOPES, ConfigError, Settings
from storage import db
from storage.models import Base
from tests.slack.fake_slack import FakeSlack, Workspace
from tests.slack.harness import ADMIN, Response, SlackBot

KCC = Workspace("TKCC0001", "Kent County Council", bot_user="UBOTKCC")
MEDWAY = Workspace("TMED0001", "Medway Council", bot_user="UBOTMED")
GRID = Workspace("", "Kent Police", enterprise="EPOLICE1", enterprise_name="Kent Police", org_wide=True)
GRID_TEAM = "TPOLHQ01"  # a workspace inside the Kent Police org
# Where the token-refresh race is run: its token is made to expire at once, which `serve`, holding
# it for BOT_CACHE_SECONDS, would otherwise still use for the other tests' requests.
RACE = Workspace("TTWBC001", "Tunbridge Wells Borough Council", bot_user="UBOTTW")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def oauth(request, tmp_path_factory) -> Iterator[SlackBot]:
    fake = FakeSlack().start()
    workdir = tmp_path_factory.mktemp(f"slack-oauth-{request.param}")
    if request.param == "sqlite":
        path = workdir / "kc.db"
        url, drop = f"sqlite:///{path}", None
    else:
        from tests.conftest import _drop_schema, _open_postgres, _postgres_required

        url, reason = _open_postgres()
        if reason:
            fake.stop()
            if _postgres_required():
                pytest.fail(f"{reason}; the PostgreSQL tests must run here")
            pytest.skip(f"{reason}; set KC_TEST_DATABASE_URL to run the PostgreSQL tests")
        path, drop = None, _drop_schema
    bot = SlackBot(fake, url, workdir, sqlite_path=path)
    bot.env.pop("SLACK_BOT_TOKEN")
    bot.env.update(SLACK_CLIENT_ID=fake.client_id, SLACK_CLIENT_SECRET=fake.client_secret)
    try:
        bot.seed()
        bot.start()
        try:
            for workspace in (KCC, MEDWAY, GRID, RACE):
                install(bot, workspace)
            yield bot
        finally:
            bot.stop()
    finally:
        fake.stop()
        if drop is not None:
            drop(url)


# --- driving the install the way a browser does ---------------------------------------------


def get(bot: SlackBot, path: str, cookie: str = "") -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(bot.base + path, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def start_install(bot: SlackBot) -> tuple[str, str]:
    """GET /slack/install: the state in the "Add to Slack" link, and the cookie that goes with it."""
    status, page, headers = get(bot, "/slack/install")
    assert status == 200, page
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
    assert link, page
    query = urllib.parse.parse_qs(urllib.parse.urlparse(link[1].replace("&amp;", "&")).query)
    assert query["client_id"] == [bot.fake.client_id]
    assert set(query["scope"][0].split(",")) == set(SLACK_BOT_SCOPES)
    cookie = http.cookies.SimpleCookie(headers["Set-Cookie"])
    name, morsel = next(iter(cookie.items()))
    assert morsel.value == query["state"][0]
    return query["state"][0], f"{name}={morsel.value}"


def install(bot: SlackBot, workspace: Workspace) -> str:
    state, cookie = start_install(bot)
    code = bot.fake.installable(workspace)
    status, page, _ = get(bot, f"/slack/oauth_redirect?code={code}&state={state}", cookie)
    assert status == 200, page
    return page


def bot_token(bot: SlackBot, team: str = "", enterprise: str = "") -> str:
    where, value = ("team_id", team) if team else ("enterprise_id", enterprise)
    return bot.scalar(f"SELECT bot_token FROM slack_bots WHERE {where} = ? ORDER BY installed_at DESC", (value,))


def dm_in(bot: SlackBot, team: str, user: str, text: str, enterprise: str = "") -> Response:
    body = bot.dm_event(user, text, "D" + user[1:])
    body["team_id"] = team
    if enterprise:  # an org-wide install: the event names the org, the authorisation no workspace
        body["enterprise_id"] = enterprise
        body["authorizations"] = [
            {
                "enterprise_id": enterprise,
                "team_id": None,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": True,
            }
        ]
    else:
        body["authorizations"] = [{"team_id": team, "user_id": "UBOT", "is_bot": True}]
    return bot.post_json(body)


def answers_to(bot: SlackBot, user: str, count: int = 1) -> list:
    return bot.fake.wait_for("chat.postMessage", count, channel="D" + user[1:])


def person_in(bot: SlackBot, email: str) -> str:
    return bot.person(email)


def execute(bot: SlackBot, sql: str, **params) -> None:
    from sqlalchemy import text

    engine = db.make_engine(bot.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


def expired_in_our_database(bot: SlackBot, team: str) -> None:
    """The stored token's expiry passed a minute ago (with fake.expire, twelve hours have passed)."""
    execute(
        bot,
        "UPDATE slack_bots SET bot_token_expires_at = :at WHERE team_id = :team",
        at=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=1),
        team=team,
    )


def deliver(bot: SlackBot, at: datetime | None = None, senders=None) -> None:
    settings = Settings.from_env(bot.env)
    engine = db.make_engine(bot.database_url)
    try:
        sessions = db.make_session_factory(engine)
        senders = senders or platforms.build_senders(settings, sessions)
        Dispatcher(sessions, senders, clock=lambda: at or datetime.now(timezone.utc)).run_until_idle()
    finally:
        engine.dispose()


# --- installing ----------------------------------------------------------------------------------


def test_two_workspaces_and_an_org_are_installed_with_tokens_kept_in_our_database(oauth):
    rows = oauth.rows(
        "SELECT team_id, enterprise_id, is_enterprise_install, bot_token, bot_refresh_token, bot_token_expires_at "
        "FROM slack_bots ORDER BY id"
    )
    by_where = {(r[0], r[1]): r for r in rows}
    assert set(by_where) >= {(KCC.team, None), (MEDWAY.team, None), (None, GRID.enterprise)}
    for row in by_where.values():
        assert row[3] in oauth.fake.issued and row[4] and row[5] is not None
    assert by_where[(None, GRID.enterprise)][2] in (True, 1)
    # One code each, spent by the server with the app's credentials.
    exchanged = [c for c in oauth.fake.named("oauth.v2.access") if c.args.get("code")]
    assert len(exchanged) >= 3
    installations = oauth.scalar("SELECT COUNT(*) FROM slack_installations")
    assert installations >= 3


def test_a_state_works_once_and_only_with_its_cookie(oauth):
    state, cookie = start_install(oauth)
    code = oauth.fake.installable(MEDWAY)
    status, page, _ = get(oauth, f"/slack/oauth_redirect?code={code}&state={state}")  # no cookie
    assert status >= 400, page
    status, page, _ = get(oauth, f"/slack/oauth_redirect?code={code}&state=made-up", cookie)
    assert status >= 400, page
    assert oauth.fake.codes.get(code) is MEDWAY  # never exchanged


def test_expired_states_are_not_kept(oauth):
    execute(
        oauth,
        "INSERT INTO slack_oauth_states (state, expire_at) VALUES ('stale-state', :at)",
        at=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1),
    )
    start_install(oauth)
    assert oauth.scalar("SELECT COUNT(*) FROM slack_oauth_states WHERE state = 'stale-state'") == 0
    assert oauth.scalar("SELECT COUNT(*) FROM slack_oauth_states") >= 1  # the one just issued


def test_the_installer_is_told_when_slack_refuses_the_code(oauth):
    state, cookie = start_install(oauth)
    status, page, _ = get(oauth, f"/slack/oauth_redirect?code=not-a-code&state={state}", cookie)
    assert status >= 400 and "slack" in page.lower(), page


# --- requests and replies with their own workspace's token ----------------------------------------


def test_commands_from_two_workspaces_are_answered_with_their_own_tokens(oauth):
    kcc_user = person_in(oauth, "ann.oauth@kent.gov.uk")
    medway_user = person_in(oauth, "bob.oauth@medway.gov.uk")
    assert dm_in(oauth, KCC.team, kcc_user, "whoami").status == 200
    assert dm_in(oauth, MEDWAY.team, medway_user, "whoami").status == 200
    kcc_answer = answers_to(oauth, kcc_user)[-1]
    medway_answer = answers_to(oauth, medway_user)[-1]
    assert oauth.fake.workspace_of(kcc_answer) is KCC
    assert oauth.fake.workspace_of(medway_answer) is MEDWAY
    assert "Kent County Council" in kcc_answer.args["text"]
    assert "Medway Council" in medway_answer.args["text"]
    # The e-mail was asked of each person's own workspace too.
    lookups = {c.args.get("user"): oauth.fake.workspace_of(c) for c in oauth.fake.named("users.info")}
    assert lookups[kcc_user] is KCC and lookups[medway_user] is MEDWAY
    identities = dict(
        oauth.rows(
            "SELECT external_id, workspace FROM platform_identity WHERE external_id IN (?, ?)",
            (kcc_user, medway_user),
        )
    )
    assert identities == {kcc_user: KCC.team, medway_user: MEDWAY.team}


def test_a_workspace_inside_an_org_wide_install_is_answered_with_the_org_token(oauth):
    user = person_in(oauth, "carol.oauth@kent.police.uk")
    assert dm_in(oauth, GRID_TEAM, user, "whoami", enterprise=GRID.enterprise).status == 200
    answer = answers_to(oauth, user)[-1]
    assert oauth.fake.workspace_of(answer) is GRID
    assert "Kent Police" in answer.args["text"]
    assert oauth.rows("SELECT workspace, enterprise FROM platform_identity WHERE external_id = ?", (user,)) == [
        (GRID_TEAM, GRID.enterprise)
    ]


def test_a_request_from_a_workspace_without_the_app_is_not_answered_with_anyone_elses_token(oauth):
    user = person_in(oauth, "dan.oauth@kent.gov.uk")
    before = len(oauth.fake.named("chat.postMessage"))
    response = dm_in(oauth, "TNOTINSTALLED", user, "whoami")
    assert response.status == 200  # acknowledged: Slack would only retry it
    time.sleep(0.5)
    assert len(oauth.fake.named("chat.postMessage")) == before
    assert not oauth.rows("SELECT id FROM platform_identity WHERE external_id = ?", (user,))


def test_a_command_from_a_workspace_without_the_app_is_told_how_to_get_it(oauth):
    user = person_in(oauth, "kim.oauth@kent.gov.uk")
    fields = oauth.command_fields("events", user)
    fields["team_id"] = "TNOTINSTALLED"
    response = oauth.post_form(fields)
    assert response.status == 200
    # Bolt answers through the command's response URL (only the person sees it).
    posted = oauth.fake.wait_for(urllib.parse.urlparse(fields["response_url"]).path)
    assert posted, oauth.fake.snapshot()[-3:]
    text = json.dumps(posted[-1].args)
    assert "isn't installed in this Slack workspace" in text and "/slack/install" in text, text


def test_slack_connect_uses_the_person_s_own_workspace_and_answers_privately(oauth):
    """Someone from Medway @mentions the bot in a KCC channel shared with Medway."""
    user = person_in(oauth, "erin.oauth@medway.gov.uk")
    ts = f"{time.time():.6f}"
    body = oauth.event_body(
        {
            "type": "app_mention",
            "user": user,
            "user_team": MEDWAY.team,
            "team": MEDWAY.team,
            "text": "<@UBOTKCC> whoami",
            "channel": "CSHARED01",
            "ts": ts,
            "event_ts": ts,
        }
    )
    body.update(team_id=KCC.team, is_ext_shared_channel=True, context_team_id=KCC.team)
    body["authorizations"] = [{"team_id": KCC.team, "user_id": "UBOTKCC", "is_bot": True}]
    assert oauth.post_json(body).status == 200
    posted = oauth.fake.wait_for("chat.postEphemeral", 1, channel="CSHARED01", user=user)
    assert posted, "the answer in a shared channel is for the asker only"
    assert oauth.fake.workspace_of(posted[-1]) is KCC  # the channel's host posts it
    assert "Medway Council" in posted[-1].args["text"]
    lookups = [c for c in oauth.fake.named("users.info") if c.args.get("user") == user]
    assert lookups and oauth.fake.workspace_of(lookups[-1]) is MEDWAY
    assert oauth.rows("SELECT workspace FROM platform_identity WHERE external_id = ?", (user,)) == [(MEDWAY.team,)]


# --- deliveries --------------------------------------------------------------------------------


def join(bot: SlackBot, team: str, user: str, group: str = "gis") -> None:
    count = len(answers_to(bot, user, 0))
    assert dm_in(bot, team, user, f"join {group}").status == 200
    assert len(answers_to(bot, user, count + 1)) > count


def announce(bot: SlackBot, team: str, admin_user: str, group: str, text: str) -> None:
    count = len(answers_to(bot, admin_user, 0))
    assert dm_in(bot, team, admin_user, f"announce {group} {text}").status == 200
    answers = answers_to(bot, admin_user, count + 1)
    assert len(answers) > count and "Announcement" in answers[-1].args["text"], answers[-1].args


def received(bot: SlackBot, user: str, words: str) -> list:
    return [c for c in bot.fake.named("chat.postMessage") if c.args.get("channel") == user and words in str(c.args)]


def test_an_announcement_reaches_members_in_both_workspaces_each_with_its_own_token(oauth):
    admin = person_in(oauth, ADMIN)
    kcc_user = person_in(oauth, "fay.oauth@kent.gov.uk")
    medway_user = person_in(oauth, "gus.oauth@medway.gov.uk")
    join(oauth, KCC.team, kcc_user, "smart kent")
    join(oauth, MEDWAY.team, medway_user, "smart kent")
    announce(oauth, KCC.team, admin, "smart kent", "Workshop on sensors next week")

    deliver(oauth)

    to_kcc, to_medway = received(oauth, kcc_user, "sensors"), received(oauth, medway_user, "sensors")
    assert len(to_kcc) == 1 and len(to_medway) == 1
    assert oauth.fake.workspace_of(to_kcc[0]) is KCC
    assert oauth.fake.workspace_of(to_medway[0]) is MEDWAY


def test_an_expired_token_is_refreshed_once_when_two_dispatchers_race(oauth):
    admin = person_in(oauth, ADMIN)
    people = [person_in(oauth, f"racer{i}.oauth@tunbridgewells.gov.uk") for i in range(8)]
    for user in people:
        join(oauth, RACE.team, user, "digital accessibility")
    announce(oauth, KCC.team, admin, "digital accessibility", "Audit results are out")
    old = bot_token(oauth, RACE.team)
    # Twelve hours pass: Slack no longer takes the token, and it is due for refreshing.
    oauth.fake.expire(old)
    expired_in_our_database(oauth, RACE.team)
    refreshes_before = len(oauth.fake.refreshes())

    settings = Settings.from_env(oauth.env)
    racers = 4
    barrier = threading.Barrier(racers)
    errors: list[BaseException] = []

    def dispatcher() -> None:
        engine = db.make_engine(oauth.database_url)  # a replica of its own: its own connections
        try:
            sessions = db.make_session_factory(engine)
            senders = platforms.build_senders(settings, sessions)
            barrier.wait()
            # One delivery a claim, so that every dispatcher has one in hand at the same moment.
            Dispatcher(sessions, senders, Policy(batch=1)).run_until_idle()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=dispatcher) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors

    assert len(oauth.fake.refreshes()) - refreshes_before == 1
    new = bot_token(oauth, RACE.team)
    assert new != old and new in oauth.fake.issued
    for user in people:
        got = received(oauth, user, "Audit results")
        assert len(got) == 1, (user, got)
        assert got[0].token == new
    assert not [c for c in oauth.fake.named("chat.postMessage") if c.token == old and "Audit" in str(c.args)]


def test_each_workspace_s_rate_limit_is_its_own(oauth):
    from storage import ratelimit

    admin = person_in(oauth, ADMIN)
    kcc_user = person_in(oauth, "lee.oauth@kent.gov.uk")
    medway_user = person_in(oauth, "mo.oauth@medway.gov.uk")
    join(oauth, KCC.team, kcc_user, "gis")
    join(oauth, MEDWAY.team, medway_user, "gis")
    announce(oauth, KCC.team, admin, "gis", "Layers workshop booked")
    now = datetime.now(timezone.utc)
    # Slack told us to wait in Medway's workspace (a 429 with Retry-After, say): only Medway waits.
    engine = db.make_engine(oauth.database_url)
    try:
        with db.make_session_factory(engine).begin() as session:
            ratelimit.block(session, f"slack:{MEDWAY.team}", now + timedelta(minutes=5), now)
    finally:
        engine.dispose()

    deliver(oauth, at=now)
    assert len(received(oauth, kcc_user, "Layers")) == 1
    assert received(oauth, medway_user, "Layers") == []

    deliver(oauth, at=now + timedelta(minutes=6))  # the wait is over
    assert len(received(oauth, medway_user, "Layers")) == 1
    assert len(received(oauth, kcc_user, "Layers")) == 1


def test_uninstalling_one_workspace_stops_sends_there_and_nowhere_else(oauth):
    admin = person_in(oauth, ADMIN)
    kcc_user = person_in(oauth, "hal.oauth@kent.gov.uk")
    medway_user = person_in(oauth, "ivy.oauth@medway.gov.uk")
    join(oauth, KCC.team, kcc_user, "infosec")
    join(oauth, MEDWAY.team, medway_user, "infosec")

    body = oauth.event_body({"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"})
    body["team_id"] = MEDWAY.team
    body["authorizations"] = [{"team_id": MEDWAY.team, "user_id": "UBOTMED", "is_bot": True}]
    assert oauth.post_json(body).status == 200
    deadline = time.monotonic() + 10
    while (
        oauth.scalar("SELECT COUNT(*) FROM slack_bots WHERE team_id = ?", (MEDWAY.team,))
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert oauth.scalar("SELECT COUNT(*) FROM slack_bots WHERE team_id = ?", (MEDWAY.team,)) == 0
    assert oauth.scalar("SELECT COUNT(*) FROM slack_installations WHERE team_id = ?", (MEDWAY.team,)) == 0
    assert oauth.scalar("SELECT COUNT(*) FROM slack_bots WHERE team_id = ?", (KCC.team,)) >= 1
    # The people stay; their Slack identity in Medway's workspace is marked gone.
    assert oauth.rows("SELECT gone_at IS NOT NULL FROM platform_identity WHERE external_id = ?", (medway_user,)) == [
        (True,)
    ] or oauth.rows("SELECT gone_at IS NOT NULL FROM platform_identity WHERE external_id = ?", (medway_user,)) == [(1,)]
    assert oauth.person_id("ivy.oauth@medway.gov.uk") is not None
    assert oauth.rows("SELECT gone_at FROM platform_identity WHERE external_id = ?", (kcc_user,)) == [(None,)]

    announce(oauth, KCC.team, admin, "infosec", "Phishing exercise on Friday")
    deliver(oauth)

    assert len(received(oauth, kcc_user, "Phishing")) == 1
    assert received(oauth, medway_user, "Phishing") == []
    assert not [
        c
        for c in oauth.fake.named("chat.postMessage")
        if oauth.fake.workspace_of(c) is MEDWAY and "Phishing" in str(c.args)
    ]

    # Installed again: Medway's people are reached there again.
    install(oauth, MEDWAY)
    assert oauth.rows("SELECT gone_at FROM platform_identity WHERE external_id = ?", (medway_user,)) == [(None,)]


def test_revoked_bot_tokens_mark_the_workspace_s_people_gone(oauth):
    user = person_in(oauth, "jo.oauth@kent.police.uk")
    assert dm_in(oauth, GRID_TEAM, user, "groups", enterprise=GRID.enterprise).status == 200
    answers_to(oauth, user)
    body = oauth.event_body(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}, "event_ts": f"{time.time():.6f}"}
    )
    body.update(team_id=GRID_TEAM, enterprise_id=GRID.enterprise)
    body["authorizations"] = [
        {
            "enterprise_id": GRID.enterprise,
            "team_id": None,
            "user_id": "UBOT",
            "is_bot": True,
            "is_enterprise_install": True,
        }
    ]
    assert oauth.post_json(body).status == 200
    deadline = time.monotonic() + 10
    gone = None
    while time.monotonic() < deadline:
        gone = oauth.scalar("SELECT gone_at FROM platform_identity WHERE external_id = ?", (user,))
        if gone is not None:
            break
        time.sleep(0.05)
    assert gone is not None
    assert oauth.scalar("SELECT COUNT(*) FROM slack_bots WHERE enterprise_id = ?", (GRID.enterprise,)) == 0
    install(oauth, GRID)  # the later tests' org is installed again


# --- the schema is slack_sdk's -----------------------------------------------------------------


def _shape(table) -> dict[str, tuple[str, bool]]:
    return {c.name: (repr(c.type), bool(c.nullable)) for c in table.columns}


def test_our_tables_are_the_ones_slack_sdk_reads_and_writes():
    theirs = MetaData()
    for name, built in (
        ("slack_installations", SQLAlchemyInstallationStore.build_installations_table(theirs, "slack_installations")),
        ("slack_bots", SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots")),
        ("slack_oauth_states", SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states")),
    ):
        assert _shape(Base.metadata.tables[name]) == _shape(built), name
        ours = {tuple(i.columns.keys()) for i in Base.metadata.tables[name].indexes}
        assert ours == {tuple(i.columns.keys()) for i in built.indexes}, name


def test_the_installs_find_a_workspace_s_own_install_before_its_org_s(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'installs.db'}")
    db.upgrade(engine)
    ticks = [0.0]
    installs = SlackInstalls(engine, "1111.2222", "secret", "http://127.0.0.1:9/api/", clock=lambda: ticks[0])
    from slack_sdk.oauth.installation_store import Bot

    now = time.time()
    org = Bot(
        app_id="A1",
        enterprise_id="E1",
        team_id=None,
        bot_token="xoxb-org",
        bot_id="B1",
        bot_user_id="U1",
        is_enterprise_install=True,
        installed_at=now,
    )
    own = Bot(
        app_id="A1",
        enterprise_id="E1",
        team_id="T2",
        bot_token="xoxb-own",
        bot_id="B2",
        bot_user_id="U2",
        installed_at=now,
    )
    installs.store.save_bot(org)
    assert installs.bot("E1", "T2").bot_token == "xoxb-org"
    installs.store.save_bot(own)  # by another process: this one has the org's bot in hand for a while
    assert installs.bot("E1", "T2").bot_token == "xoxb-org"
    ticks[0] += 31
    assert installs.bot("E1", "T2").bot_token == "xoxb-own"
    assert installs.bot("E1", "T3").bot_token == "xoxb-org"
    assert installs.bot("", "T3") is None
    assert installs.bot("", "") is None
    engine.dispose()


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_CLIENT_SECRET": "x", "SLACK_SIGNING_SECRET": "s"}, "SLACK_CLIENT_ID"),
        ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x"}, "SLACK_SIGNING_SECRET"),
        ({"PUBLIC_URL": "http://bot.example.org"}, "https"),
    ],
)
def test_settings_for_the_distributed_app_say_what_is_missing(env, words):
    with pytest.raises(ConfigError, match=words):
        Settings.from_env(env)


def test_settings_for_the_distributed_app():
    settings = Settings.from_env(
        {
            "SLACK_CLIENT_ID": "1.2",
            "SLACK_CLIENT_SECRET": "x",
            "SLACK_SIGNING_SECRET": "s",
            "PUBLIC_URL": "https://bot.example.org/",
            "SLACK_SCOPES": "chat:write, commands",
        }
    )
    assert settings.slack_enabled and settings.slack_distributed
    assert settings.slack_redirect_url == "https://bot.example.org/slack/oauth_redirect"
    assert settings.slack_scopes == ("chat:write", "commands")
    # A deployment moving to the distributed app may still have its old token set: it starts.
    both = Settings.from_env(
        {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x", "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "t"}
    )
    assert both.slack_distributed
    single = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert single.slack_enabled and not single.slack_distributed
    assert single.slack_scopes == SLACK_BOT_SCOPES


def test_the_install_routes_are_not_served_for_one_workspace_s_install(slack):
    status, _, _ = get(slack, "/slack/install")
    assert status == 404
    status, _, _ = get(slack, "/slack/oauth_redirect?code=x&state=y")
    assert status == 404


def test_the_fixed_scopes_are_the_manifests_scopes():
    import yaml

    from tests.slack.harness import ROOT

    for name in ("manifest.yml", "manifest.distributed.yml"):
        manifest = yaml.safe_load((ROOT / "slack" / name).read_text())
        assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == SLACK_BOT_SCOPES, name


def test_the_fake_spends_codes_and_refresh_tokens_once():
    # The fake's answers for tokens are plain JSON a real Slack would give (a guard for the fake).
    fake = FakeSlack()
    code = fake.installable(KCC)
    answer = fake.oauth_access({"code": code, "client_id": fake.client_id, "client_secret": fake.client_secret}, {})
    assert answer["ok"] and answer["team"] == {"id": KCC.team, "name": KCC.name}
    assert json.loads(json.dumps(answer)) == answer
    again = fake.oauth_access({"code": code, "client_id": fake.client_id, "client_secret": fake.client_secret}, {})
    assert again == {"ok": False, "error": "invalid_code"}
    refresh = answer["refresh_token"]
    args = {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    assert fake.oauth_access(args, {})["ok"]
    assert fake.oauth_access(args, {}) == {"ok": False, "error": "invalid_refresh_token"}


# --- channels, Slack Connect and Grid, held messages, failed refreshes --------------------------


def test_a_linked_channel_gets_announcements_with_its_own_workspace_s_token(oauth):
    admin = person_in(oauth, ADMIN)
    channel = oauth.uid("C")
    fields = oauth.command_fields("link channel accessibility", admin, channel=channel)
    fields["team_id"] = KCC.team
    answer = oauth.post_form(fields)
    assert answer.status == 200 and "now linked" in answer.json["text"], answer.body
    assert oauth.rows("SELECT workspace, enterprise FROM group_channel WHERE channel = ?", (channel,)) == [
        (KCC.team, "")
    ]
    announce(oauth, KCC.team, admin, "accessibility", "Screen reader clinic on Monday")
    deliver(oauth)
    posted = [
        c for c in oauth.fake.named("chat.postMessage") if c.args.get("channel") == channel and "clinic" in str(c.args)
    ]
    assert len(posted) == 1 and oauth.fake.workspace_of(posted[0]) is KCC


def _who_of(body: dict):
    from slack_bolt.context.async_context import AsyncBoltContext
    from slack_bolt.request.async_internals import build_async_context

    from bot.slack_adapter import _who

    return _who(build_async_context(AsyncBoltContext({}), body), body)


def _mention_in_shared_channel(host_team: str, host_enterprise: str, user_team: str) -> dict:
    return {
        "type": "event_callback",
        "team_id": host_team,
        "enterprise_id": host_enterprise,
        "is_ext_shared_channel": True,
        "event": {"type": "app_mention", "user": "U1", "user_team": user_team, "channel": "C1", "text": "hi"},
        "authorizations": [{"enterprise_id": host_enterprise, "team_id": host_team, "user_id": "UB", "is_bot": True}],
    }


def test_a_slack_connect_guest_is_never_given_the_host_s_workspace_or_org():
    # A Medway person (no Grid) in a channel hosted by a Grid org's workspace.
    who = _who_of(_mention_in_shared_channel("TKCC0001", "EKCCGRID", "TMED0001"))
    assert (who.team, who.enterprise) == ("TMED0001", "")
    assert (who.host_team, who.host_enterprise) == ("TKCC0001", "EKCCGRID")
    # A member of a Grid org in a channel hosted elsewhere: Slack names only the org, so the
    # workspace is unknown rather than the host's.
    who = _who_of(_mention_in_shared_channel("TKCC0001", "", "EPOLICE1"))
    assert who.team == "" and who.host_team == "TKCC0001"
    # Not shared: the request's own workspace and org.
    body = _mention_in_shared_channel("TKCC0001", "EKCCGRID", "TKCC0001")
    body["is_ext_shared_channel"] = False
    assert tuple(_who_of(body)) == ("TKCC0001", "EKCCGRID", "", "")


def test_a_person_s_message_waits_when_their_workspace_has_no_install_and_a_channel_s_fails(tmp_path):
    from bot.senders import Outcome, Recipient
    from bot.slack_adapter import SlackSender

    engine = db.make_engine(f"sqlite:///{tmp_path / 'held.db'}")
    db.upgrade(engine)
    try:
        installs = SlackInstalls(engine, "1111.2222", "secret", "http://127.0.0.1:9/api/")
        sender = SlackSender("", "http://127.0.0.1:9/api/", installs=installs)
        person = sender.send(Recipient("a@kent.gov.uk", None, "U0NOAPP", "TNOAPP"), Reply("hello"))
        assert person.outcome is Outcome.UNREACHABLE and "TNOAPP" in person.error
        channel = sender.send(Recipient("a@kent.gov.uk", None, "C0NOAPP", "TNOAPP"), Reply("hello"))
        assert channel.outcome is Outcome.PERMANENT
    finally:
        engine.dispose()


def test_a_refresh_slack_refuses_is_not_tried_again_at_once(tmp_path):
    from slack_sdk.oauth.installation_store import Bot

    fake = FakeSlack().start()
    engine = db.make_engine(f"sqlite:///{tmp_path / 'refused.db'}")
    db.upgrade(engine)
    try:
        ticks = [0.0]
        installs = SlackInstalls(engine, fake.client_id, fake.client_secret, fake.url, clock=lambda: ticks[0])
        soon = int(time.time()) + 600  # expires in ten minutes: due for refreshing
        installs.store.save_bot(
            Bot(
                app_id="A1",
                team_id="T9",
                bot_token="xoxe.xoxb-old",
                bot_id="B9",
                bot_user_id="U9",
                bot_refresh_token="xoxe-1-spent",
                bot_token_expires_at=soon,
                installed_at=time.time(),
            )
        )
        for _ in range(5):
            assert installs.bot("", "T9").bot_token == "xoxe.xoxb-old"  # still good for ten minutes
        assert len(fake.refreshes()) == 1  # Slack said invalid_refresh_token once; not asked again
        ticks[0] += 61
        installs.bot("", "T9")
        assert len(fake.refreshes()) == 2
    finally:
        engine.dispose()
        fake.stop()


def test_a_request_refreshes_its_workspace_s_token_before_answering(oauth):
    """The request path: a workspace whose token is due is refreshed by `serve` itself, once."""
    workspace = Workspace("TTHANET1", "Thanet District Council", bot_user="UBOTTH")
    install(oauth, workspace)
    old = bot_token(oauth, workspace.team)
    oauth.fake.expire(old)
    expired_in_our_database(oauth, workspace.team)
    before = len(oauth.fake.refreshes())
    user = person_in(oauth, "nia.oauth@thanet.gov.uk")
    assert dm_in(oauth, workspace.team, user, "whoami").status == 200
    answer = answers_to(oauth, user)[-1]
    new = bot_token(oauth, workspace.team)
    assert new != old and answer.token == new and "Thanet" in answer.args["text"]
    assert len(oauth.fake.refreshes()) - before == 1
