"""Teams with an app id configured: every request must carry a Bot Framework token for this bot.

A second `serve` with MICROSOFT_APP_ID (a GUID) and MICROSOFT_APP_PASSWORD=x, on its own copy of the
database and its own FakeConnector. Tokens are made with PyJWT (HS256, or none): the adapter refuses a
missing token, another audience, an expired one or one not signed RS256 before any signature check, so
without fetching Microsoft's signing keys (which this server can't reach: a fetch would be a 503). A
refused request is answered 401, never 500, and the connector is never contacted (no member look-up, no
reply); nothing is stored. Tokens signed RS256 against local signing keys: test_teams_tokens.py.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.teams import harness
from tests.teams.harness import AUTH_APP_ID, TeamsServe, token


@pytest.fixture(scope="module")
def secured(template, workdir):
    fake = harness.start_connector()
    path = harness.copy_database(template, workdir, "auth.db")
    server = TeamsServe(
        fake,
        f"sqlite:///{path}",
        workdir,
        sqlite_path=path,
        name="auth",
        MICROSOFT_APP_ID=AUTH_APP_ID,
        MICROSOFT_APP_PASSWORD="x",
    )
    server.start()
    harness.SERVERS.append(server)
    yield server
    server.stop()
    harness.SERVERS.remove(server)
    fake.stop()


def _unsigned(claims: dict) -> str:
    """A token with alg "none": no signature at all."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _claims(**changes) -> dict:
    now = time.time()
    claims = {
        "aud": AUTH_APP_ID,
        "iss": "https://api.botframework.com",
        "exp": now + 3600,
        "nbf": now - 60,
        "serviceurl": "http://127.0.0.1/",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


REFUSED_EARLY = {
    "no Authorization header": None,
    "empty bearer": "Bearer ",
    "another scheme": "Basic " + base64.b64encode(b"user:password").decode(),
    "another audience": "Bearer " + token(_claims(aud="00000000-0000-0000-0000-000000000000")),
    "audience list without this bot": "Bearer " + token(_claims(aud=["https://api.botframework.com", "someone"])),
    "no audience": "Bearer " + token(_claims(aud=...)),
    "expired an hour ago": "Bearer " + token(_claims(exp=time.time() - 3600)),
    "no expiry": "Bearer " + token(_claims(exp=...)),
    "garbage": "Bearer this-is-not-a-jwt",
    "three garbage parts": "Bearer aaa.bbb.ccc",
    "payload not an object": "Bearer "
    + base64.urlsafe_b64encode(b'{"alg":"HS256"}').decode().rstrip("=")
    + "."
    + base64.urlsafe_b64encode(b"[1,2]").decode().rstrip("=")
    + ".sig",
}

# Right for this bot in every claim, but not signed RS256: refused without fetching any key.
NOT_RS256 = {
    "forged HS256 for this bot": "Bearer " + token(_claims()),
    "unsigned (alg none) for this bot": "Bearer " + _unsigned(_claims()),
    "expired within the clock skew": "Bearer " + token(_claims(exp=time.time() - 60)),
}


def _assert_refused(server: TeamsServe, header, text: str = "next gis meeting") -> None:
    user = server.person()
    activity = server.activity(user, text)
    before_refs = server.scalar("SELECT COUNT(*) FROM conversation_ref")
    response = server.post(activity, headers={"Authorization": header} if header is not None else None)
    assert response.status == 401, (response.status, response.body)
    assert response.json == {"error": "unauthorized"}
    assert server.fake.snapshot() == [], "the connector was contacted for a refused request"
    assert server.scalar("SELECT COUNT(*) FROM conversation_ref") == before_refs


@pytest.mark.parametrize("header", list(REFUSED_EARLY.values()), ids=list(REFUSED_EARLY))
def test_request_without_a_plausible_token_is_refused(secured, header):
    _assert_refused(secured, header)


@pytest.mark.parametrize("header", list(NOT_RS256.values()), ids=list(NOT_RS256))
def test_token_that_only_looks_right_is_refused_before_any_key_is_fetched(secured, header):
    _assert_refused(secured, header)


def test_refused_install_and_card_submission_store_nothing(secured):
    """Not only messages: an install and a form submission without a token are refused the same way."""
    user = secured.person()
    before = secured.scalar("SELECT COUNT(*) FROM business_case")
    for activity in (
        secured.activity(user, None, type="conversationUpdate", membersAdded=[{"id": harness.BOT_ID}]),
        secured.activity(user, None, type="installationUpdate", action="add"),
        secured.activity(user, "", value={"kc_form": "business_case", "kc_prefilled": {}, "title": "x"}),
        secured.activity(
            user,
            None,
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "data": {"kc_command": "help"}}},
        ),
    ):
        response = secured.post(activity, headers={"Authorization": "Bearer " + token(_claims(aud="someone-else"))})
        assert response.status == 401, (activity["type"], response.status, response.body)
    assert secured.fake.snapshot() == []
    assert secured.scalar("SELECT COUNT(*) FROM business_case") == before


def test_app_id_mode_is_not_the_emulator_mode(secured):
    assert "WITHOUT authentication" not in secured.log()


@pytest.mark.parametrize("exp", [None, "tomorrow", [1]], ids=["exp null", "exp text", "exp list"])
def test_token_with_a_malformed_expiry_is_refused_not_a_server_error(secured, exp):
    _assert_refused(secured, "Bearer " + token(_claims(exp=exp)))
