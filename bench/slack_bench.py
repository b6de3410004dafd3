"""How fast the Slack route answers a slash command, end to end over HTTP, against a bare Bolt app.

    python bench/slack_bench.py [-n 300] [--workers 8] [--single 200] [--warmup 20] [--postgres URL]

Starts `python -m bot serve --no-worker` (a temporary SQLite database with the demo seeded, a
fake Slack Web API) and sends N signed `/kc next gis meeting` slash commands from a small thread
pool, each with its own trigger id (so each is a new request, recorded once). Then does the same,
in the same run, against a bare Bolt AsyncApp whose /kc command only acknowledges, served by
aiohttp the same way (a subprocess this script starts, same signing secret). Each server is
measured under load (8 client threads) and one request at a time (--single requests from one
client). Prints throughput and latency percentiles for both, and the ratios: the cost of the bot's
own work (e-mail lookup cache, routing, one database transaction, Block Kit rendering) over Bolt's
and aiohttp's, against issue 16's targets (throughput >= 0.5x the bare app's, p99 <= 3x under load,
p99 <= 1.3x one at a time), and the peak RSS of the `serve` process (VmHWM; target < 150 MB).

With --postgres URL, `serve` is also measured on a fresh schema of that PostgreSQL database.
With --distributed, also `serve` as the app installed in many workspaces (SLACK_CLIENT_ID, tokens
in the database, installed into the workspace through /slack/install and /slack/oauth_redirect
first): what authorising each request with its workspace's stored token costs. It runs last,
since the fake then refuses tokens it did not issue.

Figures vary with the machine; compare the ratio between runs, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
TEXT = "next gis meeting"


# --- the bare Bolt app (run as a subprocess: this file with --serve-bare) ----------------------------


def serve_bare(port: int, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET, process_before_response=False
    )

    @app.command("/kc")
    async def command(ack):
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    server = web.Application(client_max_size=1024 * 1024)
    server.router.add_post("/slack/events", handle)
    server.router.add_get("/healthz", lambda request: web.json_response({"status": "ok"}))
    web.run_app(server, port=port, access_log=None, print=lambda *_: None)


# --- driving a server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not answer /healthz:\n{log.read_text()[-3000:]}")


def command_body(n: int, base: str, run: str) -> str:
    return urllib.parse.urlencode(
        {
            "token": "legacy",
            "team_id": "T1",
            "team_domain": "kc",
            "channel_id": "C0BENCH",
            "channel_name": "bench",
            "user_id": "U0BENCH",
            "user_name": "bench",
            "command": "/kc",
            "text": TEXT,
            "api_app_id": "A1",
            "trigger_id": f"{run}.{n}",
            "response_url": f"{base}/response/{run}.{n}",
        }
    )


def post(port: int, body: str) -> tuple[int, float, str]:
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events",
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    return status, time.perf_counter() - start, text


@dataclass
class Result:
    name: str
    n: int
    seconds: float
    latencies: list[float]
    errors: int
    deferred: int = 0  # acknowledged with "Working on it…" after 2 s, answered via the response URL
    lookups: int = 0  # users.info calls during the run

    @property
    def throughput(self) -> float:
        return self.n / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<40} {self.n:>5} requests  {self.throughput:8.1f} req/s   "
            f"p50 {self.percentile(50):7.1f} ms   p95 {self.percentile(95):7.1f} ms   "
            f"p99 {self.percentile(99):7.1f} ms   mean {statistics.mean(self.latencies) * 1000:7.1f} ms   "
            f"deferred {self.deferred}  errors {self.errors}  users.info {self.lookups}"
        )


def run(name: str, port: int, base: str, n: int, workers: int, warmup: int, check, fake) -> Result:
    tag = f"{name.split()[0]}-{os.getpid()}-{time.time_ns()}"
    lookups = len(fake.named("users.info"))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda i: post(port, command_body(i, base, tag + "-warm")), range(warmup)))
        start = time.perf_counter()
        answers = list(pool.map(lambda i: post(port, command_body(i, base, tag)), range(n)))
        seconds = time.perf_counter() - start
    deferred = sum(1 for status, _, text in answers if status == 200 and text == DEFERRED)
    failed = [(status, text) for status, _, text in answers if status != 200 or (text != DEFERRED and not check(text))]
    for status, text in failed[:3]:
        print(f"  {name}: unexpected answer {status} {text[:300]!r}", file=sys.stderr)
    return Result(
        name,
        n,
        seconds,
        [latency for _, latency, _ in answers],
        len(failed),
        deferred,
        len(fake.named("users.info")) - lookups,
    )


DEFERRED = "Working on it…"  # the bot's ack when its answer takes over 2 s (then sent to the response URL)


def install(port: int, fake) -> None:
    """Install the app into the bench's workspace T1 as its admin would: the "Add to Slack" page,
    then Slack's redirect back with a code."""
    import http.cookies
    import re

    from tests.slack.fake_slack import Workspace

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/slack/install", timeout=10) as answer:
        page, cookie = answer.read().decode(), http.cookies.SimpleCookie(answer.headers["Set-Cookie"])
    state = re.search(r"state=([^&\"]+)", page)[1]
    name, morsel = next(iter(cookie.items()))
    code = fake.installable(Workspace("T1", "Bench"))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/oauth_redirect?code={code}&state={state}",
        headers={"Cookie": f"{name}={morsel.value}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def is_bot_answer(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return "GIS meets next on" in body.get("text", "") and bool(body.get("blocks"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="slash commands per server (default 300)")
    parser.add_argument("--workers", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--single", type=int, default=200, help="requests one at a time, per server (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (default 20)")
    parser.add_argument("--postgres", metavar="URL", help="also measure serve on this PostgreSQL (a fresh schema)")
    parser.add_argument(
        "--distributed", action="store_true", help="also measure serve as the app installed through OAuth"
    )
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.api_url)
        return 0

    from bench.common import PostgresSchemas, against_targets, peak_rss_mb, wait_quiet
    from tests.slack.fake_slack import FakeSlack

    fake = FakeSlack(emails={"U0BENCH": "demo@kent.gov.uk"}).start()
    workdir = Path(tempfile.mkdtemp(prefix="slack-bench-"))
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.url,
    )
    for name in ("SLACK_APP_TOKEN", "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TYPE"):
        env.pop(name, None)
    procs: list[subprocess.Popen] = []
    schemas = None

    pids: dict[int, int] = {}  # port -> pid of the server on it

    def start(command: list[str], server_env: dict, log: Path) -> int:
        port = free_port()
        with open(log, "w") as out:
            procs.append(
                subprocess.Popen(command + [str(port)], env=server_env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
            )
        wait_healthy(port, procs[-1], log)
        wait_quiet(procs[-1].pid)  # warmed up (the language model is fitted in the background)
        pids[port] = procs[-1].pid
        return port

    def serve(server_env: dict, log: Path) -> int:
        """`serve --no-worker` on its own database, the demo seeded first."""
        seeded = subprocess.run(
            [sys.executable, "-m", "bot", "seed", "--demo"], env=server_env, cwd=ROOT, capture_output=True, text=True
        )
        if seeded.returncode:
            raise SystemExit(seeded.stderr)
        return start([sys.executable, "-m", "bot", "serve", "--no-worker", "--port"], server_env, log)

    try:
        bot_port = serve(env, workdir / "serve.log")
        bare_port = start([sys.executable, __file__, "--api-url", fake.url, "--serve-bare"], env, workdir / "bare.log")
        pg_port = None
        if args.postgres:
            schemas = PostgresSchemas(args.postgres, "kc_slack_bench").__enter__()
            pg_port = serve(dict(env, DATABASE_URL=schemas.url()), workdir / "serve-pg.log")

        print(
            f"Slack slash command `/kc {TEXT}`, signed, over HTTP; {args.n} requests per server from "
            f"{args.workers} client threads, then {args.single} one at a time; {args.warmup} warm-up requests "
            f"each (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, FakeSlack)"
        )

        def measured(name: str, port: int, check) -> tuple[Result, Result]:
            loaded = run(
                f"{name}, {args.workers} clients", port, fake.base, args.n, args.workers, args.warmup, check, fake
            )
            single = run(f"{name}, one at a time", port, fake.base, args.single, 1, args.warmup, check, fake)
            return loaded, single

        servers: list[tuple[str, int]] = [("bot serve (SQLite)", bot_port)]
        if pg_port:
            servers.append(("bot serve (PostgreSQL)", pg_port))
        bots = {name: measured(name, port, is_bot_answer) for name, port in servers}
        bare = measured("bare Bolt app (ack only)", bare_port, lambda text: text == "")
        if args.distributed:
            oauth_env = dict(env, DATABASE_URL=f"sqlite:///{workdir / 'bench-oauth.db'}")
            oauth_env.pop("SLACK_BOT_TOKEN")
            oauth_env.update(SLACK_CLIENT_ID=fake.client_id, SLACK_CLIENT_SECRET=fake.client_secret)
            oauth_port = serve(oauth_env, workdir / "serve-oauth.log")
            install(oauth_port, fake)
            servers.append(("bot serve (OAuth, SQLite)", oauth_port))
            bots["bot serve (OAuth, SQLite)"] = measured("bot serve (OAuth, SQLite)", oauth_port, is_bot_answer)
        results = [r for pair in bots.values() for r in pair] + list(bare)
        for result in results:
            print(result.line())
        all_met = True
        for name, port in servers:
            loaded, single = bots[name]
            print(
                f"ratio {name} / bare: throughput {loaded.throughput / bare[0].throughput:.2f}x; under load "
                f"p50 {loaded.percentile(50) / bare[0].percentile(50):.2f}x, "
                f"p95 {loaded.percentile(95) / bare[0].percentile(95):.2f}x, "
                f"p99 {loaded.percentile(99) / bare[0].percentile(99):.2f}x; one at a time "
                f"p50 {single.percentile(50) / bare[1].percentile(50):.2f}x, "
                f"p99 {single.percentile(99) / bare[1].percentile(99):.2f}x"
            )
            lines, met = against_targets(
                loaded,
                bare[0],
                single,
                bare[1],
                min_throughput=0.5,
                max_p99_load=3,
                max_p99_single=1.3,
                rss_mb=peak_rss_mb(pids[port]),
            )
            all_met &= met
            print("\n".join(lines))
        print(
            "(latency is to the HTTP ack; a deferred command's answer follows through its response URL. "
            "users.info: one person, asked in the warm-up)"
        )
        print("issue 16's targets: " + ("all met" if all_met else "NOT all met"))
        return 1 if any(r.errors for r in results) else 0
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        fake.stop()
        if schemas is not None:
            schemas.close()


if __name__ == "__main__":
    sys.exit(main())
