"""Several `serve` processes on one host and one port (bot/server.py supervise, `--reuse-port`):
real `python -m bot serve` subprocesses on a SQLite file in a temporary folder, each asked for
/healthz over new connections; the `X-Process-Id` header says which process answered.
"""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.bot.test_operations import STARTUP, Running, answering, free_port, json_lines

ASKED = 200


def served_by(port: int, times: int = ASKED) -> dict[int, int]:
    """How many of `times` /healthz requests (each on a new connection) each process answered."""
    counts: dict[int, int] = {}
    for _ in range(times):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as answer:
            assert answer.status == 200
            pid = int(answer.headers["X-Process-Id"])
        counts[pid] = counts.get(pid, 0) + 1
    return counts


def parent_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise AssertionError(f"no PPid for {pid}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (ended, not yet reaped by its parent) is not serving
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def wait_until(check, seconds: float = STARTUP) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def both_answering(port: int, processes: int) -> bool:
    return answering(port) and len(served_by(port, 40)) >= processes


def test_processes_2_serves_from_two_processes_restarts_one_that_dies_and_stops_on_sigterm(tmp_path):
    port = free_port()
    supervisor = Running("serve", "--port", str(port), "--processes", "2", "--no-worker", cwd=tmp_path)
    try:
        assert supervisor.wait_for(lambda: both_answering(port, 2)), supervisor.stderr
        counts = served_by(port)
        assert len(counts) == 2 and sum(counts.values()) == ASKED, counts
        assert all(parent_of(pid) == supervisor.process.pid for pid in counts)
        assert supervisor.process.pid not in counts  # the supervisor only watches

        # one dies: the other goes on answering, and a new one takes its place
        dead, survivor = sorted(counts)
        os.kill(dead, signal.SIGKILL)
        assert supervisor.wait_for(lambda: supervisor.logged("starting it again")), supervisor.stderr
        assert wait_until(lambda: len(set(served_by(port, 40)) - {dead}) == 2), supervisor.stderr
        after = served_by(port)
        assert dead not in after and survivor in after and len(after) == 2, after
        children = set(after)
    finally:
        code = supervisor.stop()
    assert code == 0, supervisor.stderr
    assert not any(alive(pid) for pid in children)
    assert not answering(port)
    messages = [entry["message"] for entry in json_lines(supervisor.stderr)]
    assert sum(m == f"listening on port {port}" for m in messages) == 3, messages  # two, then the new one
    assert "all 2 serve processes stopped" in messages
    assert "Traceback" not in supervisor.stderr


def test_two_serve_processes_share_a_port_with_reuse_port_and_each_stops_on_sigterm(tmp_path):
    port = free_port()
    first = Running("serve", "--port", str(port), "--reuse-port", "--no-worker", cwd=tmp_path)
    second = None
    try:
        assert first.wait_for(lambda: answering(port)), first.stderr
        second = Running("serve", "--port", str(port), "--reuse-port", "--no-worker", cwd=tmp_path)
        assert second.wait_for(lambda: second.logged(f"listening on port {port}")), second.stderr
        counts = served_by(port)
        assert set(counts) == {first.process.pid, second.process.pid}, counts
        assert first.stop() == 0, first.stderr
        # the other goes on alone
        assert set(served_by(port, 20)) == {second.process.pid}
        assert second.stop() == 0, second.stderr
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert "Traceback" not in first.stderr + second.stderr


def test_without_reuse_port_a_second_serve_cannot_take_the_port(tmp_path):
    port = free_port()
    first = Running("serve", "--port", str(port), "--no-worker", cwd=tmp_path)
    second = None
    try:
        assert first.wait_for(lambda: answering(port)), first.stderr
        second = Running("serve", "--port", str(port), "--no-worker", cwd=tmp_path)
        assert second.process.wait(timeout=STARTUP) != 0
        second.stop()
        assert "address already in use" in second.stderr.lower()
        assert set(served_by(port, 10)) == {first.process.pid}
    finally:
        first.stop()
        if second is not None:
            second.kill()


@pytest.mark.parametrize("value", ["0", "65"])
def test_processes_out_of_range_is_refused(tmp_path, value):
    refused = Running("serve", "--port", str(free_port()), "--processes", value, cwd=tmp_path)
    try:
        assert refused.process.wait(timeout=STARTUP) == 2
    finally:
        refused.kill()
    refused.stop()
    assert f"--processes {value}" in refused.stderr and "Traceback" not in refused.stderr
