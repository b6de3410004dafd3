"""`python -m tests.teams.launcher serve ...`: `python -m bot serve` with the stand-ins a Teams test switches on."""

from __future__ import annotations

import builtins
import os
import sys
import time
from pathlib import Path

# Each switch is off unless its variable is set (tests/teams/harness.py clears them all otherwise):
# KC_TEST_ACCESS_TOKEN  Microsoft's login service, which the tests can't reach: the bot's own token for
#                       its requests to the connector is this text instead of one from MSAL.
# KC_TEST_LOGIN_LOG     Microsoft's login service, deeper down (with KC_TEST_ACCESS_TOKEN): MSAL's
#                       ConfidentialClientApplication is a stand-in that gives KC_TEST_ACCESS_TOKEN, cached
#                       per application as MSAL does, and writes a JSON line {client_id, authority, scopes}
#                       to this file each time it is asked for a new one; the SDK's own
#                       MicrosoftAppCredentials.get_access_token runs, with the authority it chose.
# KC_TEST_RAISE=1       a bug to order: a Teams text (or Action.Execute command) "raise NAME" raises the
#                       built-in exception NAME inside the turn, where the adapter reads the request.
# KC_TEST_KEYS_<NAME>   bot.teams_adapter.KEYS_<NAME> in seconds (KC_TEST_KEYS_TIMEOUT=1, say).
# KC_TEST_CLOCK_FILE    the Teams e-mail cache's clock runs ahead of time.monotonic() by the seconds
#                       written in this file (none, or an empty file: not at all).


def _login_stand_in(token: str, log: str):
    import json
    import threading

    lock = threading.Lock()

    class ConfidentialClientApplication:
        def __init__(self, client_id, client_credential=None, authority=None, **kwargs):
            self.client_id, self.authority = client_id, authority
            self.cached = None  # MSAL keeps the tokens it got in a cache of its own, per application

        def acquire_token_silent(self, scopes, account=None, **kwargs):
            return self.cached

        def acquire_token_for_client(self, scopes, **kwargs):
            with lock, open(log, "a", encoding="utf-8") as out:
                out.write(
                    json.dumps({"client_id": self.client_id, "authority": self.authority, "scopes": scopes}) + "\n"
                )
            self.cached = {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
            return self.cached

    return ConfidentialClientApplication


def main() -> int:
    from bot import teams_adapter
    from bot.__main__ import main as bot_main

    token = os.environ.get("KC_TEST_ACCESS_TOKEN")
    login_log = os.environ.get("KC_TEST_LOGIN_LOG")
    if token and login_log:
        from botframework.connector.auth import microsoft_app_credentials

        microsoft_app_credentials.ConfidentialClientApplication = _login_stand_in(token, login_log)
    elif token:
        from botframework.connector.auth import MicrosoftAppCredentials

        MicrosoftAppCredentials.get_access_token = lambda self, force_refresh=False: token

    if os.environ.get("KC_TEST_RAISE") == "1":
        read_request = teams_adapter.KentConnectsTeamsBot._request

        async def _request(self, turn_context, text):
            if text.startswith("raise "):
                raise getattr(builtins, text[len("raise ") :].strip())("a bug ordered by the test")
            return await read_request(self, turn_context, text)

        teams_adapter.KentConnectsTeamsBot._request = _request

    clock_file = os.environ.get("KC_TEST_CLOCK_FILE")
    if clock_file:
        make_bot = teams_adapter.KentConnectsTeamsBot.__init__

        def clock() -> float:
            try:
                ahead = float(Path(clock_file).read_text().strip() or 0)
            except FileNotFoundError:
                ahead = 0.0
            return time.monotonic() + ahead

        def __init__(self, *args, **kwargs):
            make_bot(self, *args, timer=clock, **kwargs)

        teams_adapter.KentConnectsTeamsBot.__init__ = __init__

    for name, value in os.environ.items():
        if name.startswith("KC_TEST_KEYS_"):
            constant = name[len("KC_TEST_") :]
            assert hasattr(teams_adapter, constant), f"bot.teams_adapter has no {constant}"
            setattr(teams_adapter, constant, float(value))

    return bot_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
