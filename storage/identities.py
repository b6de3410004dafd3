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
    with engine.begin() as connection:
        result = connection.execute(
            update(PlatformIdentity)
            .where(*_where(platform, workspace, enterprise), PlatformIdentity.gone_at.is_(None))
            .values(gone_at=now)
        )
        return result.rowcount or 0


def back(engine: Engine, platform: str, workspace: Optional[str] = None, enterprise: Optional[str] = None) -> int:
    """The app is installed there again: the accounts there are reached again."""
    if not workspace and not enterprise:
        return 0
    with engine.begin() as connection:
        result = connection.execute(
            update(PlatformIdentity)
            .where(*_where(platform, workspace, enterprise), PlatformIdentity.gone_at.is_not(None))
            .values(gone_at=None)
        )
        return result.rowcount or 0
