"""Who may do what: the roles a person holds in the partnership and in its groups."""

from __future__ import annotations

import enum


class GroupAccess(enum.Enum):
    OPEN = "open"
    RESTRICTED = "restricted"  # the Leadership Group: its meetings and news for its members only


class MemberRole(enum.Enum):
    MEMBER = "member"
    CHAIR = "chair"


class PersonRoleKind(enum.Enum):
    ADMIN = "admin"  # Partnership Office
    BOARD = "board"  # Leadership Board: assesses business cases
