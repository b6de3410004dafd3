"""Queries about the Slack and Teams channels linked to groups (storage.models.GroupChannel)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import GroupChannel


def linked_to(session: Session, platform: str, channel: str) -> list[GroupChannel]:
    """The groups a channel is linked to (one link each)."""
    return list(
        session.execute(
            select(GroupChannel)
            .where(GroupChannel.platform == platform, GroupChannel.channel == channel)
            .order_by(GroupChannel.id)
        ).scalars()
    )


def where_is(session: Session, platform: str, channel: str) -> Optional[tuple[str, str]]:
    """The (workspace, Enterprise Grid org) a linked channel belongs to, or None if none is linked."""
    found = session.execute(
        select(GroupChannel.workspace, GroupChannel.enterprise)
        .where(GroupChannel.platform == platform, GroupChannel.channel == channel)
        .order_by(GroupChannel.id)
        .limit(1)
    ).first()
    return (found[0], found[1]) if found else None


def where_are(session: Session, places: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """where_is for many (platform, channel) pairs at once (one statement; none for no pairs)."""
    wanted = set(places)
    if not wanted:
        return {}
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for platform, channel, workspace, enterprise in session.execute(
        select(GroupChannel.platform, GroupChannel.channel, GroupChannel.workspace, GroupChannel.enterprise)
        .where(GroupChannel.channel.in_(sorted({channel for _, channel in wanted})))
        .order_by(GroupChannel.id)
    ):
        if (platform, channel) in wanted:
            found.setdefault((platform, channel), (workspace, enterprise))  # the first linked, as where_is
    return found


def of_group(session: Session, group_id: int) -> list[GroupChannel]:
    return list(
        session.execute(
            select(GroupChannel).where(GroupChannel.group_id == group_id).order_by(GroupChannel.id)
        ).scalars()
    )


def with_digest(session: Session) -> list[GroupChannel]:
    """The channels that asked for the weekly "what's on"."""
    return list(
        session.execute(select(GroupChannel).where(GroupChannel.digest.is_(True)).order_by(GroupChannel.id)).scalars()
    )


def link(
    session: Session,
    group_id: int,
    platform: str,
    workspace: str,
    channel: str,
    linked_by_id: Optional[int],
    enterprise: str = "",
) -> GroupChannel:
    linked = GroupChannel(
        group_id=group_id,
        platform=platform,
        workspace=workspace,
        enterprise=enterprise,
        channel=channel,
        linked_by_id=linked_by_id,
    )
    session.add(linked)
    session.flush()
    return linked


def unlink(session: Session, linked: GroupChannel) -> None:
    session.delete(linked)
    session.flush()
