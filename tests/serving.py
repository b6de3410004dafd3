"""Running `python -m bot serve` as a real process for the Slack and Teams end-to-end tests."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]


def start_serve(port: int, env: dict[str, str], log: IO[str], log_path: Path, worker: bool = False) -> subprocess.Popen:
    """Start serve on `port` and return once /healthz answers 200 (or raise with its log)."""
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port)] + ([] if worker else ["--no-worker"])
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
