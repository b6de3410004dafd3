"""The platform-neutral message types: a Request comes in, a Reply goes out.

Every string in a Reply is plain text, never markup: each renderer escapes it for its own
platform (Slack mrkdwn, Adaptive Cards, the terminal), so user text can never become a
mention or a link by accident. The one convention is `backticks` around words a person can
type as a command; renderers may show them as code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Optional, Union


@dataclass(frozen=True)
class ChannelAccess:
    """Whether the bot can post in the channel a request came from, and if not, what to do."""

    can_post: bool
    advice: str = ""  # e.g. "type `/invite @Kent Connects` in this channel"
    note: str = ""  # something done to make it possible, e.g. "I've joined this channel."


@dataclass(frozen=True)
class KeptReference:
    """Where the platform says the bot can write to this person or conversation later (a Teams
    conversation reference): kept by the router in the request's own transaction, written only
    when it differs from what is stored."""

    key: str  # "user:<id>" for a 1:1 chat, "conversation:<id>" otherwise
    reference: dict[str, Any] = field(compare=False)
    service_url: str
    tenant: str


@dataclass(frozen=True)
class Request:
    """One message from a person, whichever platform it came from."""

    text: str
    platform: str  # "console", "slack", "teams"
    user_id: str  # the person's id on that platform (the e-mail in the console)
    email: Optional[str]  # known e-mail, if the platform told us
    now: datetime  # aware; the instant the message arrived
    workspace: str = ""  # Slack team id / Teams tenant id: the person's own, not a shared channel's host
    enterprise: str = ""  # the Slack Enterprise Grid organisation of the workspace, if any
    # Where the conversation lives, when that is not the person's own workspace: a Slack Connect
    # channel's host (whose install posts there). "" for the same as workspace / enterprise.
    host_workspace: str = ""
    host_enterprise: str = ""
    # A guest in the tenant (Teams): the tenant says nothing of whom they work for.
    guest: bool = False

    @property
    def conversation_place(self) -> tuple[str, str]:
        """The (workspace, Enterprise Grid org) the conversation belongs to: its host's, else the person's."""
        if self.host_workspace:
            return self.host_workspace, self.host_enterprise
        return self.workspace, self.enterprise

    conversation: str = ""  # where to answer: a channel, a chat, a DM
    display_name: Optional[str] = None
    # What the platform can show: "forms" where a whole form fits in a modal or a card.
    capabilities: frozenset[str] = frozenset()
    # The answer will be seen by others (a Teams channel or group chat): nothing closed or personal.
    shared: bool = False
    # Asks the platform whether the bot may post in this channel (a Slack channel it may not
    # have joined); None where the question doesn't arise. A handler calls it only when it must.
    channel_access: Optional[Callable[[], ChannelAccess]] = field(default=None, compare=False, repr=False)
    # The conversation reference to keep (Teams), in the same transaction as the answer.
    keep_reference: Optional[KeptReference] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Action:
    """A button: pressing it sends `command` as if the person had typed it."""

    label: str
    command: str
    style: Optional[str] = None  # "primary" or "danger"


@dataclass(frozen=True)
class Item:
    """One entry of a list: a meeting, a group."""

    title: str
    text: str = ""
    fields: tuple[Field, ...] = ()
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file that comes with a reply: a calendar, a CSV export."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class FormRequest:
    """Show this form whole (a Slack modal, a Teams card) instead of asking step by step."""

    name: str
    prefilled: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What the bot says back: a lead sentence plus optional structure."""

    text: str
    title: Optional[str] = None
    fields: tuple[Field, ...] = ()
    items: tuple[Item, ...] = ()
    actions: tuple[Action, ...] = ()
    footer: Optional[str] = None
    attachment: Optional[Attachment] = None
    form: Optional[FormRequest] = None

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data, e.g. for a Delivery's payload (attachments are not carried)."""
        data = asdict(self)
        data.pop("attachment")
        data.pop("form")
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Reply:
        def fields(rows) -> tuple[Field, ...]:
            return tuple(Field(**row) for row in rows or ())

        def actions(rows) -> tuple[Action, ...]:
            return tuple(Action(**row) for row in rows or ())

        return cls(
            text=data["text"],
            title=data.get("title"),
            fields=fields(data.get("fields")),
            items=tuple(
                Item(
                    title=i["title"],
                    text=i.get("text", ""),
                    fields=fields(i.get("fields")),
                    actions=actions(i.get("actions")),
                )
                for i in data.get("items") or ()
            ),
            actions=actions(data.get("actions")),
            footer=data.get("footer"),
        )

    def plain_text(self) -> str:
        """The whole reply as plain text: the console's output and every platform's fallback."""
        parts: list[str] = []
        if self.title:
            parts.append(self.title)
        parts.append(self.text)
        for f in self.fields:
            parts.append(f"{f.label}: {f.value}")
        for item in self.items:
            parts.append(_item_text(item))
        if self.actions:
            parts.append("You can say: " + ", ".join(f"`{a.command}`" for a in self.actions))
        if self.footer:
            parts.append(self.footer)
        return "\n".join(p for p in parts if p)


def _item_text(item: Item) -> str:
    lines = [f"• {item.title}"]
    if item.text:
        lines.extend(f"  {line}" for line in item.text.splitlines())
    lines.extend(f"  {f.label}: {f.value}" for f in item.fields)
    return "\n".join(lines)


class Refusal(Exception):
    """Raised below the router instead of returning a refusal; the router answers with `reply`.

    It is caught inside the request's transaction, which then commits as it would for a refusal
    returned: what was written before it stays written, so refuse before writing anything.
    """

    def __init__(self, reply: Union[Reply, str]):
        self.reply = reply if isinstance(reply, Reply) else Reply(reply)
        super().__init__(self.reply.text)


def field_list(*pairs: tuple[str, Optional[str]]) -> tuple[Field, ...]:
    """Fields from (label, value) pairs, leaving out the empty ones."""
    return tuple(Field(label, value) for label, value in pairs if value)
