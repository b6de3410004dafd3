"""What the language model costs: training, memory, and a message it reads against one that
exact words route, through the router on SQLite and PostgreSQL.

    python bench/nlu_bench.py [--rounds N] [--postgres URL]

The baseline, measured in the same run, is the router answering messages whose exact words
match a command (no model asked); the model's messages are everyday sentences that match none.
The ratio is what a sentence costs against a command. Memory: the resident size of a fresh
Python process that has imported the router, before and after the model is trained.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.common import demo_router, reachable
from bot.nlu import model
from bot.router import Router
from core.messages import Request

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
USER = "demo@kent.gov.uk"
EXACT = ["next gis meeting", "events", "my meetings", "groups", "fund", "meetings in march", "my events", "whoami"]
SENTENCES = [
    "what time does infosec meet",
    "is the next infosec meeting online?",
    "how many places are left on future workplaces?",
    "who chairs GIS?",
    "how much is left in the development fund?",
    "what do you know about me?",
    "whereabouts is the next gis meeting",
    "what's this govroam thing",
]
MEMORY = """
import sys
sys.path.insert(0, {root!r})


def status(field):  # VmRSS: resident now; VmHWM: this program's peak (ru_maxrss would count the parent's)
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field))


import bot.router
from bot.nlu import model
before = status("VmRSS")
model.model()
print(before, status("VmRSS"), status("VmHWM"))
"""


def _rate(router: Router, messages: list[str], rounds: int) -> float:
    requests = [Request(text=m, platform="console", user_id=USER, email=USER, now=NOW) for m in messages] * rounds
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for request in requests:
            router.handle(request)
        best = max(best, len(requests) / (time.perf_counter() - started))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    times = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as cache:  # nothing cached: scikit-learn fits it in a child
            os.environ["KC_CACHE_DIR"] = cache
            started = time.perf_counter()
            trained = model.train()
            times.append(time.perf_counter() - started)
    os.environ.pop("KC_CACHE_DIR")
    print(
        f"fitting on {trained.training_size} utterances, {len(trained.labels)} intents, in a child process: "
        f"best {min(times):.2f} s"
    )
    model.train()  # into the cache, if it was not there
    times = []
    for _ in range(3):
        started = time.perf_counter()
        model.train()
        times.append(time.perf_counter() - started)
    print(f"loading it from the cache (masking the utterances included): best {min(times):.2f} s")
    started = time.perf_counter()
    for _ in range(200):
        trained.rank("how many places are left on xeventx")
    print(f"ranking one message: {1000 * (time.perf_counter() - started) / 200:.2f} ms")
    done = subprocess.run([sys.executable, "-c", MEMORY.format(root=str(ROOT))], capture_output=True, text=True)
    before, after, peak = (int(v) / 1024 for v in done.stdout.split())
    print(
        f"resident memory of a process with the router: {before:.0f} MB; with the model loaded: {after:.0f} MB "
        f"(peak {peak:.0f} MB)"
    )
    print()

    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as cleanup:
        targets = [("sqlite", f"sqlite:///{folder}/nlu.db")]
        schemas = reachable(args.postgres, "nlu_bench")
        if schemas is not None:
            cleanup.callback(schemas.close)
            targets.append(("postgresql", schemas.url()))
        for kind, url in targets:
            router, engine = demo_router(url, NOW.date())
            exact = _rate(router, EXACT, args.rounds)
            sentences = _rate(router, SENTENCES, args.rounds)
            print(
                f"{kind:10} exact words {exact:6.0f} msg/s; sentences through the model {sentences:6.0f} msg/s; "
                f"a sentence costs {exact / sentences:.2f}x a command"
            )
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
