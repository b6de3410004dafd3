"""A dispatcher process for the multi-process tests in test_dispatcher.py (not a test module).

    python tests/bot/dispatch_child.py --url URL --out FILE [--batch N] [--lease SECONDS]
        [--delay SECONDS] [--ready FILE --go FILE] [--deadline SECONDS]

Runs a Dispatcher with a RecordingSender (platform "console") that writes the text of every
message it sends as one line of FILE, flushed at once, so that the test can count what went out
even if this process is killed. Keeps dispatching until no delivery is pending or sending (it
waits out other dispatchers' leases), or until the deadline. With --ready/--go it writes the
ready file once connected and waits for the go file, so that racing processes start together.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select

from bot.dispatcher import Dispatcher, Policy
from bot.senders import Recipient, SendResult
from core.messages import Reply
from storage import db
from storage.models import Delivery, DeliveryStatus


class RecordingSender:
    """Sends by appending the message's text (which names the delivery) to a file."""

    platform = "console"
    by_email = True  # reaches anyone by e-mail address

    def __init__(self, path: Path, delay: float = 0.0):
        self.out = open(path, "a", encoding="utf-8", buffering=1)
        self.delay = delay
        self.lock = threading.Lock()  # the dispatcher sends from several threads

    def rate_limit(self, recipient: Recipient):
        return None

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.out.write(message.text + "\n")
            self.out.flush()
        return SendResult.sent()


def unfinished(sessions) -> int:
    with sessions() as session:
        return session.execute(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)))
        ).scalar_one()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--batch", type=int, default=Policy().batch)
    parser.add_argument("--lease", type=float, default=120.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--go", type=Path)
    parser.add_argument("--deadline", type=float, default=90.0)
    args = parser.parse_args()

    engine = db.make_engine(args.url)
    sessions = db.make_session_factory(engine)
    sender = RecordingSender(args.out, args.delay)
    dispatcher = Dispatcher(
        sessions, [sender], Policy(batch=args.batch, lease=timedelta(seconds=args.lease)), owner=f"child-{os.getpid()}"
    )
    unfinished(sessions)  # connect before saying ready
    started = time.monotonic()
    if args.ready is not None:
        args.ready.write_text(str(os.getpid()))
        while args.go is not None and not args.go.exists():
            if time.monotonic() - started > args.deadline:
                return 3
            time.sleep(0.005)
    while time.monotonic() - started < args.deadline:
        dispatcher.run_until_idle(max_batches=100_000)
        if unfinished(sessions) == 0:
            engine.dispose()
            return 0
        time.sleep(0.05)  # others' batches in hand, or leases still to run out
    return 2


if __name__ == "__main__":
    sys.exit(main())
