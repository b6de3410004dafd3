"""Teams end-to-end fixtures: `python -m bot serve` in a subprocess, spoken to over real HTTP with Bot
Framework activities whose serviceUrl is a FakeConnector (tests/teams/fake_connector.py).

`template` is a SQLite file seeded once with `python -m bot seed --demo`; every server works on a copy.
`teams` (session-scoped) is one server in Emulator mode (no app id) with TEAMS_SERVICE_URL_ALLOWLIST=
127.0.0.1; tests share it, so each uses Teams users and conversations of its own (`teams.person()`,
new conversation ids per activity) and finds its replies by conversation.

After every test, each activity any FakeConnector received is checked (`harness.check_activity`): a
message with non-empty text and one Adaptive Card that validates against the official 1.5 schema and
stays under 28 KB. The logs of the servers registered in `harness.SERVERS` must not show a failed turn or a
failed request, unless the test is marked `allow_server_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.teams import harness
from tests.teams.harness import TeamsServe

FAILURES = re.compile(r"Teams turn failed|Teams request failed|request failed: platform=teams|Error handling request")


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_server_errors: the test provokes errors in a server's log on purpose")


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("teams")


@pytest.fixture(scope="session")
def template(workdir):
    return harness.seed_template(workdir)


@pytest.fixture(scope="session")
def fake():
    fake = harness.start_connector()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def teams(fake, template, workdir) -> Iterator[TeamsServe]:
    path = harness.copy_database(template, workdir, "main.db")
    server = TeamsServe(fake, f"sqlite:///{path}", workdir, sqlite_path=path, name="main")
    server.start()
    harness.SERVERS.append(server)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def audit_cards_and_logs(request):
    """Every card any connector received during the test is valid; no server logged a failed turn."""
    marks = {id(f): len(f.snapshot()) for f in harness.CONNECTORS}
    logs = {id(s): len(s.log()) for s in harness.SERVERS}
    yield
    for fake in list(harness.CONNECTORS):
        harness.audit(fake, marks.get(id(fake), 0))
    if request.node.get_closest_marker("allow_server_errors"):
        return
    for server in list(harness.SERVERS):
        new = server.log()[logs.get(id(server), 0) :]
        found = FAILURES.search(new)
        assert found is None, f"{server.log_path.name} logged a failure:\n{new[max(0, found.start() - 200) :][:3000]}"
