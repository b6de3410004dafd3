"""The console adapter: chat in a terminal, or one message per line from a pipe.

The console is also where people who use neither Slack nor Teams get the messages the bot
starts itself: whatever waits for them (held by the worker, or due with no platform to reach
them) is shown before the answer to their next message, and marked delivered in the console.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional, TextIO

from bot.router import Router
from bot.worker import PLAN_EVERY_SECONDS
from core.messages import Reply, Request
from jobs.planning import plan_round

logger = logging.getLogger(__name__)

QUIT_WORDS = {"quit", "exit", "bye", "/quit", "/exit"}
# Starts each message shown from the bot's own initiative (a reminder, an announcement...).
NOTICE_MARK = "--- A message for you"
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Inbox:
    """What waits for the person, fetched before each of their messages. Reminders are planned
    here too (at most every few minutes, as the worker does), so they come without a worker."""

    def __init__(self, router: Router, email: str, clock: Clock = _utcnow):
        self.router, self.email, self.clock = router, email, clock
        self.planned_at: Optional[datetime] = None

    def take(self) -> list[str]:
        now = self.clock()
        if self.planned_at is None or now - self.planned_at >= timedelta(seconds=PLAN_EVERY_SECONDS):
            self.planned_at = now
            try:
                plan_round(self.router.session_factory, self.router.settings, now)
            except Exception:  # planning again next time; the chat goes on
                logger.exception("planning reminders from the console failed")
        return [
            f"{NOTICE_MARK} ---\n{show(reply)}" for reply in self.router.waiting(console_request("", self.email, now))
        ]


def console_request(text: str, email: str, now: datetime | None = None) -> Request:
    return Request(
        text=text,
        platform="console",
        user_id=email,
        email=email,
        now=now or datetime.now(timezone.utc),
    )


def show(reply: Reply, folder: Optional[Path] = None) -> str:
    """The reply as the terminal shows it; a file that comes with it is saved in `folder`."""
    text = reply.plain_text()
    if reply.attachment is not None:
        target = (folder or Path.cwd()) / Path(reply.attachment.filename).name
        try:
            target.write_bytes(reply.attachment.content)
            text += f"\nSaved the file as {target}"
        except OSError as exc:
            text += f"\nI couldn't save {target.name} here: {exc.strerror}."
    return text


def _answer(router: Router, request: Request) -> Reply:
    reply = router.handle(request)
    assert reply is not None  # only a repeated platform delivery goes unanswered; the console has none
    return reply


def run_lines(router: Router, email: str, lines: TextIO, out: TextIO, clock: Clock = _utcnow) -> None:
    """Scripted chat: each input line is one message; replies are separated by a blank line, and
    a message waiting for the person comes before the reply, as a block of its own."""
    first = True
    inbox = Inbox(router, email, clock)
    for line in lines:
        text = line.rstrip("\r\n")
        if text.strip().lower() in QUIT_WORDS:
            break
        for block in inbox.take() + [show(_answer(router, console_request(text, email, clock())))]:
            if not first:
                out.write("\n")
            out.write(block + "\n")
            first = False
        out.flush()


def run_interactive(router: Router, email: str) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - line editing and history for input()
    print(f"Kent Connects Bot. You are chatting as {email}.")
    print("Type `help` to see what I can do, `quit` (or Ctrl-D) to leave.\n")
    inbox = Inbox(router, email)
    for block in inbox.take():
        print(block + "\n")
    while True:
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.strip().lower() in QUIT_WORDS:
            return
        for block in inbox.take():
            print("\n" + block)
        print("\n" + show(_answer(router, console_request(text, email))) + "\n")
