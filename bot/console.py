"""The console adapter: chat in a terminal, or one message per line from a pipe."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional, TextIO

from bot.messages import Reply, Request
from bot.router import Router

QUIT_WORDS = {"quit", "exit", "bye", "/quit", "/exit"}


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


def run_lines(router: Router, email: str, lines: TextIO, out: TextIO,
              clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
    """Scripted chat: each input line is one message; replies are separated by a blank line."""
    first = True
    for line in lines:
        text = line.rstrip("\r\n")
        if text.strip().lower() in QUIT_WORDS:
            break
        reply = router.handle(console_request(text, email, clock()))
        if not first:
            out.write("\n")
        out.write(show(reply) + "\n")
        out.flush()
        first = False


def run_interactive(router: Router, email: str) -> None:
    try:
        import readline  # noqa: F401 - line editing and history for input()
    except ImportError:
        pass
    print(f"Kent Connects Bot. You are chatting as {email}.")
    print("Type `help` to see what I can do, `quit` (or Ctrl-D) to leave.\n")
    while True:
        try:
            text = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.strip().lower() in QUIT_WORDS:
            return
        reply = router.handle(console_request(text, email))
        print("\n" + show(reply) + "\n")
