"""How fast `serve` answers Teams messages end to end, against a bare botbuilder echo bot.

    python bench/teams_bench.py [--n 300] [--threads 8] [--single 200] [--users 5]

Starts `python -m bot serve --no-worker` in a subprocess (a temporary SQLite file with the demo seeded,
TEAMS_SERVICE_URL_ALLOWLIST=127.0.0.1, no app id) and posts N personal-message activities ("next gis
meeting") to POST /api/messages from a small thread pool; the bot replies through a FakeConnector
(tests/teams/fake_connector.py) in this process. Then the same load, run the same way, against a bare
botbuilder 4.17.1 echo bot (CloudAdapter + ActivityHandler that echoes the text, served by aiohttp, in a
subprocess started here) replying to the same FakeConnector.

Each bot is measured under load (8 client threads) and one message at a time (--single messages from
one client). Prints throughput and latency percentiles (p50, p95, p99) for both, the ratios against
issue 16's targets (throughput >= 0.7x the echo bot's, p99 <= 3x under load, p99 <= 1.3x one at a time)
and the peak RSS of the `serve` process (VmHWM; target < 150 MB). A request's latency is from sending
the activity to the HTTP answer; both bots post their reply to the connector before answering. Figures
vary with the machine; compare the ratios between runs, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import against_targets  # noqa: E402
from tests.teams.fake_connector import FakeConnector  # noqa: E402

TENANT = "tenant-bench"
BOT_ID = "28:kc-bench-bot"
TEXT = "next gis meeting"

ECHO_BOT = r'''
"""A bare botbuilder echo bot: CloudAdapter + ActivityHandler, served by aiohttp like `serve` does."""
import sys

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication


class Config:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext):
        await turn_context.send_activity(MessageFactory.text(turn_context.activity.text or ""))


adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
bot = EchoBot()


async def messages(request: web.Request) -> web.Response:
    return await adapter.process(request, bot) or web.Response(status=201)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


app = web.Application()
app.router.add_post("/api/messages", messages)
app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(proc: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not answer /healthz within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Result:
    name: str
    n: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    replies: int

    @property
    def throughput(self) -> float:
        return self.n / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))  # nearest rank
        return ordered[rank - 1] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<36} {self.n:>5} msgs  {self.throughput:8.1f} msg/s   p50 {self.percentile(50):7.1f} ms"
            f"   p95 {self.percentile(95):7.1f} ms   p99 {self.percentile(99):7.1f} ms   "
            f"statuses {dict(sorted(self.statuses.items()))}   replies {self.replies}"
        )


class Load:
    """Posts activities from a thread pool, one kept-alive HTTP connection per thread."""

    def __init__(self, port: int, fake: FakeConnector, users: int, prefix: str):
        self.port = port
        self.fake = fake
        self.users = [f"29:{prefix}-user-{i}" for i in range(users)]
        for user in self.users:
            fake.emails[user] = "demo@kent.gov.uk"
        self.prefix = prefix
        self.local = threading.local()
        self.counter = 0
        self.lock = threading.Lock()

    def _activity(self) -> bytes:
        with self.lock:
            self.counter += 1
            number = self.counter
        user = self.users[number % len(self.users)]
        return json.dumps(
            {
                "type": "message",
                "id": f"{self.prefix}-{number}",
                "channelId": "msteams",
                "serviceUrl": self.fake.url,
                "from": {"id": user, "name": "Bench Person"},
                "recipient": {"id": BOT_ID, "name": "Kent Connects"},
                "conversation": {"id": f"a:{user}", "conversationType": "personal", "tenantId": TENANT},
                "channelData": {"tenant": {"id": TENANT}},
                "text": TEXT,
                "locale": "en-GB",
            }
        ).encode()

    def _post(self, _: int) -> tuple[float, int]:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        body = self._activity()
        start = time.perf_counter()
        try:
            connection.request("POST", "/api/messages", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.local.connection = None
            status = 0
        return time.perf_counter() - start, status

    def run(self, name: str, n: int, threads: int) -> Result:
        before = len(self.fake.activities())
        with ThreadPoolExecutor(threads) as pool:
            start = time.perf_counter()
            results = list(pool.map(self._post, range(n)))
            seconds = time.perf_counter() - start
        statuses: dict[int, int] = {}
        for _, status in results:
            statuses[status] = statuses.get(status, 0) + 1
        return Result(
            name, n, seconds, [latency for latency, _ in results], statuses, len(self.fake.activities()) - before
        )


def bench(
    name: str,
    command: list[str],
    env: dict,
    port: int,
    fake: FakeConnector,
    workdir: Path,
    n: int,
    threads: int,
    single: int,
    users: int,
    warmup: int,
) -> tuple[Result, Result, float | None]:
    """The bot under load, then one message at a time, and its peak RSS (MB) after both."""
    from bench.common import peak_rss_mb, wait_quiet

    log = workdir / f"{name}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(proc, port, log)
        wait_quiet(proc.pid)  # warmed up (the language model is fitted in the background)
        load = Load(port, fake, users, name)
        load.run(name, warmup, threads)  # member look-ups, caches, connections
        loaded = load.run(f"{name}, {threads} clients", n, threads)
        one = load.run(f"{name}, one at a time", single, 1)
        return loaded, one, peak_rss_mb(proc.pid)
    finally:
        stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="activities per bot (default 300)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--single", type=int, default=200, help="messages one at a time, per bot (default 200)")
    parser.add_argument("--users", type=int, default=5, help="distinct Teams users (default 5)")
    parser.add_argument("--warmup", type=int, default=20, help="activities before measuring (default 20)")
    parser.add_argument("--keep", type=Path, default=None, help="a folder to copy the servers' logs to")
    args = parser.parse_args()

    fake = FakeConnector().start()
    with tempfile.TemporaryDirectory(prefix="teams-bench-") as tmp:
        workdir = Path(tmp)
        database = workdir / "bench.db"
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            DATABASE_URL=f"sqlite:///{database}",
            TEAMS_SERVICE_URL_ALLOWLIST="127.0.0.1",
            BOT_EMULATOR="1",
            BOT_TIMEZONE="Europe/London",
        )
        for name in (
            "SLACK_BOT_TOKEN",
            "SLACK_SIGNING_SECRET",
            "SLACK_APP_TOKEN",
            "MICROSOFT_APP_ID",
            "MICROSOFT_APP_PASSWORD",
            "MICROSOFT_APP_TYPE",
            "MICROSOFT_APP_TENANT_ID",
            "PORT",
        ):
            env.pop(name, None)
        seeded = subprocess.run(
            [sys.executable, "-m", "bot", "seed", "--demo"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if seeded.returncode != 0:
            raise SystemExit(f"seeding failed:\n{seeded.stderr[-3000:]}")
        echo_file = workdir / "echo_bot.py"
        echo_file.write_text(ECHO_BOT)

        print(
            f"Teams end to end: {args.n} personal messages ({TEXT!r}) per bot from {args.threads} client threads, "
            f"then {args.single} one at a time; {args.users} users, after {args.warmup} warm-up messages; Python {sys.version.split()[0]}, "
            f"{os.cpu_count()} CPUs"
        )
        port = free_port()
        ours_run = bench(
            "kent-connects serve",
            [sys.executable, "-m", "bot", "serve", "--port", str(port), "--no-worker"],
            env,
            port,
            fake,
            workdir,
            args.n,
            args.threads,
            args.single,
            args.users,
            args.warmup,
        )
        port = free_port()
        echo_run = bench(
            "botbuilder echo bot",
            [sys.executable, str(echo_file), str(port)],
            env,
            port,
            fake,
            workdir,
            args.n,
            args.threads,
            args.single,
            args.users,
            args.warmup,
        )
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for log in workdir.glob("*.log"):
                log.replace(args.keep / log.name)
    fake.stop()

    (ours, ours_one, rss), (echo, echo_one, _) = ours_run, echo_run
    for result in (ours, ours_one, echo, echo_one):
        print(result.line())
    print(
        f"ratio (serve / echo): throughput {ours.throughput / echo.throughput:.2f}x; under load "
        f"p50 {ours.percentile(50) / echo.percentile(50):.2f}x, "
        f"p95 {ours.percentile(95) / echo.percentile(95):.2f}x, "
        f"p99 {ours.percentile(99) / echo.percentile(99):.2f}x; one at a time "
        f"p50 {ours_one.percentile(50) / echo_one.percentile(50):.2f}x, "
        f"p99 {ours_one.percentile(99) / echo_one.percentile(99):.2f}x"
    )
    lines, met = against_targets(
        ours, echo, ours_one, echo_one, min_throughput=0.7, max_p99_load=3, max_p99_single=1.3, rss_mb=rss
    )
    print("\n".join(lines))
    print("issue 16's targets: " + ("all met" if met else "NOT all met"))
    ok = all(set(r.statuses) == {201} and r.replies == r.n for r in (ours, ours_one, echo, echo_one))
    if not ok:
        print("WARNING: not every request was answered 201 with one reply at the connector")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
