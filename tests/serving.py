"""Running `python -m bot serve` as a real process for the Slack and Teams end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def start_serve(
    port: int, env: dict[str, str], log: IO[str], log_path: Path, worker: bool = False, module: str = "bot"
) -> subprocess.Popen:
    """Start `python -m <module> serve` on `port` and return once /healthz answers 200 (or raise with its log)."""
    # `module` is another entry point with bot's command line (tests/teams/launcher.py).
    command = [sys.executable, "-m", module, "serve", "--port", str(port)] + ([] if worker else ["--no-worker"])
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def logged() -> str:
        return log_path.read_text(errors="replace")[-3000:] if log_path.exists() else ""

    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{logged()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve did not answer /healthz within 30 s:\n{logged()}")
        time.sleep(0.05)


def stop_process(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def query_rows(sqlite_path, engine_of, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows from the server's database, with `?` placeholders: sqlite3 on the SQLite file, else
    SQLAlchemy on the engine `engine_of()` gives (made once by the caller)."""
    if sqlite_path is not None:
        import sqlite3

        connection = sqlite3.connect(sqlite_path, timeout=30)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()
    from sqlalchemy import text

    named = sql
    for i in range(len(params)):
        named = named.replace("?", f":p{i}", 1)
    with engine_of().connect() as connection:
        return [tuple(r) for r in connection.execute(text(named), {f"p{i}": p for i, p in enumerate(params)})]
