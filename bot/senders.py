"""Outbound senders: how a Delivery reaches a person on one platform. The dispatcher knows only this.

bot.platforms builds them from the settings."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional, Protocol

from core.messages import Reply


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # a passing failure: try again with back-off
    RATE_LIMITED = "rate_limited"  # the platform said 429: wait `retry_after`, attempt not used up
    PERMANENT = "permanent"  # will never work (the person blocked the bot): give up
    UNREACHABLE = "unreachable"  # no configured platform reaches the person: held for the console


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str = ""
    retry_after: Optional[float] = None

    @classmethod
    def sent(cls) -> SendResult:
        return cls(Outcome.SENT)


@dataclass(frozen=True)
class Recipient:
    """Where a delivery goes: a person's address on the sender's platform, or a channel."""

    email: str
    name: Optional[str]
    address: str  # Slack user or channel id, a Teams conversation reference key, the e-mail in the console
    workspace: str = ""  # Slack team id / Teams tenant id
    enterprise: str = ""  # the Slack Enterprise Grid organisation, for an org-wide install


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `rate` messages a second on average, bursts of `burst`."""

    key: str
    rate: float
    burst: float


class Sender(Protocol):
    platform: str
    # True for a sender that reaches anyone by e-mail address, with no platform account needed
    # (none in production: the console shows held messages itself, see bot.console).
    by_email: bool

    def rate_limit(self, recipient: Recipient) -> Optional[RateLimit]:
        """The bucket this message counts against, shared by every replica (None: unlimited)."""

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        """Send once; never raise for a platform's answer, return it as a SendResult."""
