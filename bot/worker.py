"""The worker: APScheduler wakes the dispatcher and runs the periodic planning; nothing more.

APScheduler keeps its jobs in memory (never a shared job store: its FAQ warns that duplicates and
lost runs follow), so every worker process has its own timer. What must happen once lives in
our tables: deliveries with unique keys, claimed under leases.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timezone
from typing import Optional

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.dispatcher import Dispatcher, Policy
from bot.senders import Sender
from core.settings import Settings
from jobs.planning import plan_round

logger = logging.getLogger(__name__)

DISPATCH_EVERY_SECONDS = 2
PLAN_EVERY_SECONDS = 300


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        senders: list[Sender],
        policy: Optional[Policy] = None,
    ):
        self.sessions = sessions
        self.settings = settings
        self.dispatcher = Dispatcher(sessions, senders, policy)
        self.scheduler = BackgroundScheduler(timezone=settings.timezone)
        self.stopped = threading.Event()

    def plan(self) -> int:
        made = plan_round(self.sessions, self.settings, datetime.now(timezone.utc))
        if made:
            logger.info("planned %s new reminders", made)
        return made

    def dispatch(self) -> int:
        sent = self.dispatcher.run_until_idle()
        if sent:
            logger.info("dispatched %s deliveries", sent)
        return sent

    def start(self) -> None:
        # One run of a job at a time, and a late run is merged rather than repeated.
        options = dict(max_instances=1, coalesce=True, misfire_grace_time=60)
        self.scheduler.add_job(
            self._safely(self.dispatch),
            IntervalTrigger(seconds=DISPATCH_EVERY_SECONDS),
            id="dispatch",
            name="dispatch",
            **options,
        )
        self.scheduler.add_job(
            self._safely(self.plan),
            IntervalTrigger(seconds=PLAN_EVERY_SECONDS),
            id="plan",
            name="plan reminders",
            next_run_time=datetime.now(timezone.utc),
            **options,
        )
        self.scheduler.start()
        logger.info("worker %s started", self.dispatcher.owner)

    def stop(self) -> None:
        """Finish the sends in hand, hand back the rest of the batch, and stop."""
        self.dispatcher.stop()
        self.scheduler.shutdown(wait=True)  # the batch in hand is marked before this returns
        self.dispatcher.close()
        self.stopped.set()
        logger.info("worker %s stopped", self.dispatcher.owner)

    def run_forever(self) -> None:
        """Run until SIGTERM or Ctrl-C."""
        self.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: threading.Thread(target=self.stop, daemon=True).start())
        self.stopped.wait()

    @staticmethod
    def _safely(job):
        def run():
            try:
                job()
            except Exception:  # a failing round is logged; the next tick tries again
                logger.exception("worker job %s failed", job.__name__)

        run.__name__ = job.__name__
        return run
