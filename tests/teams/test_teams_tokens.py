"""Teams with an app id: tokens signed as the Bot Framework signs them, checked against local signing keys.

`serve` runs through tests/teams/launcher.py with MICROSOFT_APP_ID, BOT_OPENID_METADATA_URL pointed at
FakeOpenId (tests/teams/fake_openid.py: the metadata document and a JWKS of RSA keys made for the test)
and KC_TEST_ACCESS_TOKEN standing in for Microsoft's login service, on its own database and
FakeConnector (BOT_EMULATOR=1 only because that connector is plain http on this machine). A good token
is accepted and the answer reaches the connector with the bot's own token; a token refused for any
reason is 401, and then nothing runs (no member look-up, no reply) and nothing is stored. A bug in the
turn is a 500 with its traceback in the log, never a 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.teams import harness
from tests.teams.fake_openid import ISSUER, METADATA_PATH, FakeOpenId, SigningKey
from tests.teams.harness import AUTH_APP_ID, Response, TeamsServe, wait_until

BOT_TOKEN = "bot-token-from-the-stand-in-login-service"
LAUNCHER = "tests.teams.launcher"


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {"teams": SigningKey("kc-teams-key"), "webchat": SigningKey("kc-webchat-key", ["webchat", "directline"])}


@pytest.fixture(scope="module")
def openid(keys) -> Iterator[FakeOpenId]:
    fake = FakeOpenId(keys=[keys["teams"], keys["webchat"]]).start()
    yield fake
    fake.stop()


def _serve(template: Path, workdir: Path, name: str, metadata_url: str, **env: str) -> TeamsServe:
    connector = harness.start_connector()
    path = harness.copy_database(template, workdir, f"{name}.db")
    server = TeamsServe(
        connector,
        f"sqlite:///{path}",
        workdir,
        sqlite_path=path,
        name=name,
        module=LAUNCHER,
        MICROSOFT_APP_ID=AUTH_APP_ID,
        MICROSOFT_APP_PASSWORD="x",
        BOT_OPENID_METADATA_URL=metadata_url,
        KC_TEST_ACCESS_TOKEN=BOT_TOKEN,
        **env,
    )
    server.start()
    harness.SERVERS.append(server)
    return server


def _stop(server: TeamsServe) -> None:
    server.stop()
    harness.SERVERS.remove(server)
    server.fake.stop()


@pytest.fixture(scope="module")
def signed(template, workdir, openid) -> Iterator[TeamsServe]:
    # KEYS_UNKNOWN_KID_INTERVAL=0: a token naming a key not in hand fetches the keys again every time
    # (300 s in production), so that the test can see it happen.
    server = _serve(
        template, workdir, "tokens", openid.metadata_url, KC_TEST_RAISE="1", KC_TEST_KEYS_UNKNOWN_KID_INTERVAL="0"
    )
    yield server
    _stop(server)


def claims(activity: dict, **changes) -> dict:
    """The claims of a Bot Framework channel token for this bot and this activity; `...` removes one."""
    now = int(time.time())
    made = {
        "iss": ISSUER,
        "aud": AUTH_APP_ID,
        "exp": now + 3600,
        "nbf": now - 60,
        "iat": now - 60,
        "serviceurl": activity["serviceUrl"],
    }
    made.update(changes)
    return {k: v for k, v in made.items() if v is not ...}


def post(server: TeamsServe, activity: dict, token: str) -> Response:
    return server.post(activity, headers={"Authorization": "Bearer " + token})


def header(sent, name: str):
    return next((v for k, v in sent.headers.items() if k.lower() == name.lower()), None)


def _hs256_with_the_public_key(key: SigningKey, payload: dict) -> str:
    """The algorithm-confusion forgery: HS256 with the public key's PEM as the HMAC secret."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = (
        f"{part(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': key.kid}).encode())}."
        f"{part(json.dumps(payload).encode())}"
    )
    signature = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


# --- accepted --------------------------------------------------------------------------------------


def test_a_token_signed_as_the_bot_framework_signs_them_is_accepted(signed, keys):
    user = signed.person()
    activity = signed.activity(user, "next gis meeting")
    response = post(signed, activity, keys["teams"].sign(claims(activity)))
    assert response.status == 201, (response.status, response.body)
    [reply] = signed.replies(activity)
    assert "GIS meets next on" in reply.body["text"]
    # the bot's own token (from the login service) goes with the answer and with the member look-up
    assert header(reply, "Authorization") == f"Bearer {BOT_TOKEN}"
    lookups = [s for s in signed.fake.about_conversation(activity["conversation"]["id"]) if s.method == "GET"]
    assert lookups and all(header(s, "Authorization") == f"Bearer {BOT_TOKEN}" for s in lookups)
    assert signed.scalar("SELECT COUNT(*) FROM conversation_ref WHERE key = ?", (f"user:{user}",)) == 1


@pytest.mark.parametrize("change", [{"exp": -60}, {"nbf": 60}], ids=["expired a minute ago", "valid in a minute"])
def test_a_token_within_the_five_minute_clock_skew_is_accepted(signed, keys, change):
    user = signed.person()
    activity = signed.activity(user, "help")
    now = int(time.time())
    response = post(signed, activity, keys["teams"].sign(claims(activity, **{k: now + v for k, v in change.items()})))
    assert response.status == 201, (response.status, response.body)
    assert len(signed.replies(activity)) == 1


def test_the_keys_are_fetched_once_for_many_requests(signed, keys, openid):
    first = signed.activity(signed.person(), "help")
    assert post(signed, first, keys["teams"].sign(claims(first))).status == 201
    before = (openid.fetches(METADATA_PATH), openid.fetches())
    assert before[0] >= 1 and before[1] >= 1
    for _ in range(3):
        activity = signed.activity(signed.person(), "help")
        assert post(signed, activity, keys["teams"].sign(claims(activity))).status == 201
    assert (openid.fetches(METADATA_PATH), openid.fetches()) == before


def test_a_key_published_after_the_keys_were_fetched_is_fetched_and_accepted(signed, keys, openid):
    """Microsoft rotates its keys: a token naming a key not in hand fetches the keys again (4.17.1 never did)."""
    first = signed.activity(signed.person(), "help")
    assert post(signed, first, keys["teams"].sign(claims(first))).status == 201
    rotated = SigningKey("kc-rotated-key")
    openid.keys.append(rotated)
    try:
        before = openid.fetches()
        activity = signed.activity(signed.person(), "help")
        response = post(signed, activity, rotated.sign(claims(activity)))
        assert response.status == 201, (response.status, response.body)
        assert openid.fetches() == before + 1
        assert len(signed.replies(activity)) == 1
    finally:
        openid.keys.remove(rotated)


# --- refused -------------------------------------------------------------------------------------------


def _refused_token(case: str, keys: dict[str, SigningKey], activity: dict) -> str:
    now = int(time.time())
    teams = keys["teams"]
    if case == "another audience":
        return teams.sign(claims(activity, aud="00000000-0000-0000-0000-000000000000"))
    if case == "another issuer":
        return teams.sign(claims(activity, iss="https://login.example.com/botframework"))
    if case == "expired beyond the clock skew":
        return teams.sign(claims(activity, exp=now - 6 * 60, nbf=now - 3600, iat=now - 3600))
    if case == "not valid for another hour":
        return teams.sign(claims(activity, nbf=now + 3600))
    if case == "another RSA key with the same kid":
        return SigningKey(teams.kid).sign(claims(activity))
    if case == "a kid nobody published":
        return SigningKey("kc-unknown-key").sign(claims(activity))
    if case == "a key not endorsed for msteams":
        return keys["webchat"].sign(claims(activity))
    if case == "serviceurl of another service":
        return teams.sign(claims(activity, serviceurl="https://smba.trafficmanager.net/uk/"))
    if case == "no serviceurl claim":
        return teams.sign(claims(activity, serviceurl=...))
    if case == "HS256 with the public key as the secret":
        return _hs256_with_the_public_key(teams, claims(activity))
    if case == "the signature of another token":
        other = teams.sign(claims(activity, aud="00000000-0000-0000-0000-000000000000"))
        mine = teams.sign(claims(activity)).split(".")
        return ".".join(mine[:2] + [other.split(".")[2]])
    raise AssertionError(case)


REFUSED = [
    "another audience",
    "another issuer",
    "expired beyond the clock skew",
    "not valid for another hour",
    "another RSA key with the same kid",
    "a kid nobody published",
    "a key not endorsed for msteams",
    "serviceurl of another service",
    "no serviceurl claim",
    "HS256 with the public key as the secret",
    "the signature of another token",
]


@pytest.mark.parametrize("case", REFUSED)
def test_a_bad_token_is_401_and_nothing_runs_or_is_stored(signed, keys, case):
    user = signed.person()
    activity = signed.activity(user, "next gis meeting")
    contacted = len(signed.fake.snapshot())
    refs = signed.scalar("SELECT COUNT(*) FROM conversation_ref")
    log_mark = len(signed.log())
    response = post(signed, activity, _refused_token(case, keys, activity))
    assert response.status == 401, (response.status, response.body)
    assert response.json == {"error": "unauthorized"}
    assert signed.fake.snapshot()[contacted:] == [], "the connector was contacted for a refused request"
    assert signed.scalar("SELECT COUNT(*) FROM conversation_ref") == refs
    assert "Traceback" not in signed.log()[log_mark:], "a refused token is a refusal, not a failure"


def test_an_unknown_key_fetches_the_keys_again_and_is_refused(signed, keys, openid):
    activity = signed.activity(signed.person(), "help")
    before = openid.fetches()
    assert post(signed, activity, SigningKey("kc-never-published").sign(claims(activity))).status == 401
    assert openid.fetches() == before + 1


# --- failures that are not the token's -------------------------------------------------------------------


@pytest.mark.allow_server_errors
@pytest.mark.parametrize("error", ["RuntimeError", "PermissionError"])
def test_a_bug_in_an_authenticated_turn_is_a_500_with_its_traceback_never_a_401(signed, keys, error):
    # A PermissionError too: 4.17.1's CloudAdapter.process answered 401 for one raised anywhere in the
    # turn (MSAL raises one when the bot can't get its own token).
    user = signed.person()
    activity = signed.activity(user, f"raise {error}")
    log_mark = len(signed.log())
    response = post(signed, activity, keys["teams"].sign(claims(activity)))
    assert response.status == 500, (response.status, response.body)
    assert response.json == {"error": "the activity could not be processed"}
    log = wait_until(
        lambda: (lambda text: text if "a bug ordered by the test" in text else "")(signed.log()[log_mark:]), timeout=5
    )
    assert "Teams turn failed" in log and "Traceback (most recent call last)" in log, log[-2000:]
    assert f"{error}: a bug ordered by the test" in log
    assert "refused a request" not in log


def test_while_the_keys_cannot_be_fetched_a_request_is_503_and_the_server_keeps_answering(template, workdir, keys):
    """Microsoft's metadata endpoint that never answers: 4.17.1 waited for it on the event loop, for ever."""
    hanging = FakeOpenId(keys=[keys["teams"]], mode="hang").start()
    server = _serve(template, workdir, "keys-hang", hanging.metadata_url, KC_TEST_KEYS_TIMEOUT="2")
    try:
        activity = server.activity(server.person(), "help")
        answers: dict[str, Response] = {}
        started = time.monotonic()
        waiting = threading.Thread(
            target=lambda: answers.update(response=post(server, activity, keys["teams"].sign(claims(activity))))
        )
        waiting.start()
        assert wait_until(lambda: hanging.requests, timeout=5), "the keys were never asked for"
        asked = time.monotonic()
        with urllib.request.urlopen(server.base + "/healthz", timeout=5) as health:
            assert health.status == 200
        assert time.monotonic() - asked < 1.5, "the server stopped answering while it waited for the keys"
        waiting.join(20)
        response = answers["response"]
        assert response.status == 503, (response.status, response.body)
        assert response.json == {"error": "authentication is unavailable, try again later"}
        assert time.monotonic() - started < 10
        log = server.log()
        assert "Microsoft's signing keys could not be fetched" in log and "Traceback" not in log
        assert server.fake.snapshot() == []
        assert server.scalar("SELECT COUNT(*) FROM conversation_ref WHERE key LIKE 'user:%'") == 0
    finally:
        _stop(server)
        hanging.stop()


def test_keys_fetched_before_are_used_while_fetching_them_again_fails(template, workdir, keys):
    openid = FakeOpenId(keys=[keys["teams"]]).start()
    # KEYS_MAX_AGE=1: the keys are due again after a second (a day in production).
    server = _serve(template, workdir, "keys-stale", openid.metadata_url, KC_TEST_KEYS_MAX_AGE="1")
    try:
        first = server.activity(server.person(), "help")
        assert post(server, first, keys["teams"].sign(claims(first))).status == 201
        openid.mode = "fail"
        time.sleep(1.2)
        tried = len(openid.requests)
        second = server.activity(server.person(), "help")
        response = post(server, second, keys["teams"].sign(claims(second)))
        assert response.status == 201, (response.status, response.body)
        assert len(server.replies(second)) == 1
        assert len(openid.requests) > tried, "the due fetch was not tried"
        assert "could not be fetched again" in server.log()
    finally:
        _stop(server)
        openid.stop()


@pytest.mark.allow_server_errors
def test_a_bug_while_answering_an_action_execute_is_an_error_body_never_an_http_error(signed, keys):
    """Teams expects HTTP 200 for every adaptiveCard/action: the failure is in the body, the traceback in the log."""
    user = signed.person()
    activity = signed.activity(
        user,
        None,
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": "kc", "data": {"kc_command": "raise RuntimeError"}},
            "trigger": "manual",
        },
    )
    log_mark = len(signed.log())
    response = post(signed, activity, keys["teams"].sign(claims(activity)))
    assert response.status == 200, (response.status, response.body)
    body = response.json
    assert body["statusCode"] == 500 and body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["code"] == "InternalServerError"
    log = signed.log()[log_mark:]
    assert "Teams turn failed: Action.Execute" in log and "RuntimeError: a bug ordered by the test" in log, log[-2000:]
    assert signed.replies(activity) == []
