"""People's accounts on a platform as a whole: marked gone when the app leaves a workspace, back
when it is installed there again. The people themselves, and their other accounts, stay."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Engine, update

from storage.models import PlatformIdentity


def _where(platform: str, workspace: Optional[str], enterprise: Optional[str]) -> list:
    if not workspace and not enterprise:
        raise ValueError("a workspace or an enterprise is needed")
    where = [PlatformIdentity.platform == platform]
    if workspace:
        where.append(PlatformIdentity.workspace == workspace)
    if enterprise:
        where.append(PlatformIdentity.enterprise == enterprise)
    return where


def gone(
    engine: Engine, platform: str, now: datetime, workspace: Optional[str] = None, enterprise: Optional[str] = None
) -> int:
    """Mark the accounts in a workspace (or a whole Enterprise Grid org) gone; how many were."""
    return _mark(engine, _where(platform, workspace, enterprise), now)


def back(engine: Engine, platform: str, workspace: Optional[str] = None, enterprise: Optional[str] = None) -> int:
    """The app is installed there again: the accounts there are reached again."""
    if not workspace and not enterprise:
        return 0
    return _mark(engine, _where(platform, workspace, enterprise), None)


def _mark(engine: Engine, where: list, gone_at: Optional[datetime]) -> int:
    """Set gone_at on the accounts where it differs (rows already so are not written)."""
    differs = PlatformIdentity.gone_at.is_(None) if gone_at is not None else PlatformIdentity.gone_at.is_not(None)
    with engine.begin() as connection:
        result = connection.execute(update(PlatformIdentity).where(*where, differs).values(gone_at=gone_at))
        return result.rowcount or 0
