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
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from bot.nlu import model
from bot.router import Router
from core.messages import Request
from core.settings import Settings
from storage import db
from storage.demo import load_demo

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


def _database(kind: str, folder: str, postgres: str) -> tuple[str, object]:
    if kind == "sqlite":
        return f"sqlite:///{folder}/nlu.db", None
    schema = f"nlu_bench_{uuid.uuid4().hex[:8]}"
    admin = db.make_engine(postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres else "?"
    return f"{postgres}{sep}options={quote(f'-csearch_path={schema}')}", (admin, schema)


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

    for kind in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory() as folder:
            try:
                url, cleanup = _database(kind, folder, args.postgres)
            except Exception as exc:  # no server: say so and go on
                print(f"{kind}: skipped ({exc.__class__.__name__})")
                continue
            engine = db.make_engine(url)
            try:
                db.upgrade(engine)
                with engine.begin() as connection:
                    from sqlalchemy.orm import Session

                    with Session(bind=connection) as session:
                        load_demo(session, NOW.date(), "Europe/London")
                        session.flush()
                router = Router(db.make_session_factory(engine), Settings(database_url=url, timezone="Europe/London"))
                exact = _rate(router, EXACT, args.rounds)
                sentences = _rate(router, SENTENCES, args.rounds)
                print(
                    f"{kind:10} exact words {exact:6.0f} msg/s; sentences through the model {sentences:6.0f} msg/s; "
                    f"a sentence costs {exact / sentences:.2f}x a command"
                )
            finally:
                engine.dispose()
                if cleanup is not None:
                    admin, schema = cleanup
                    with admin.begin() as connection:
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
