"""The person asking, with what they may do: the caller every handler is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol

from core.commands import Audience
from core.roles import MemberRole


class PersonRecord(Protocol):
    """What a caller's stored person offers (storage.models.Person)."""

    @property
    def id(self) -> Optional[int]: ...

    @property
    def email(self) -> str: ...

    @property
    def display_name(self) -> Optional[str]: ...


class PartnerRecord(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


class GroupRecord(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def is_restricted(self) -> bool: ...


@dataclass
class Caller:
    """The person asking, with what they may do. `person.id` is None for someone not stored.

    Typed by what it needs of the stored person and partner; handlers.base.Caller narrows them
    to storage's models, which core cannot import."""

    person: PersonRecord
    partner: Optional[PartnerRecord]
    is_admin: bool = False
    is_board: bool = False
    roles_by_group: dict[int, MemberRole] = field(default_factory=dict)
    # Asking where others see the answer: a closed group's meetings are not shown there.
    in_shared_conversation: bool = False

    @property
    def email(self) -> str:
        return self.person.email

    @property
    def is_partner_staff(self) -> bool:
        return self.partner is not None or self.is_admin

    def is_member(self, group: GroupRecord) -> bool:
        return group.id in self.roles_by_group

    def is_chair(self, group: GroupRecord) -> bool:
        return self.roles_by_group.get(group.id) is MemberRole.CHAIR

    @property
    def chairs_any(self) -> bool:
        return MemberRole.CHAIR in self.roles_by_group.values()

    def may_see(self, group: GroupRecord) -> bool:
        """Restricted groups' meetings are for their members and the Partnership Office only,
        and never in a conversation others can read."""
        if not group.is_restricted:
            return True
        return not self.in_shared_conversation and (self.is_admin or self.is_member(group))

    def audiences(self) -> set[Audience]:
        """The commands this person may use, by audience."""
        found = {Audience.ANYONE}
        if self.is_partner_staff:
            found.add(Audience.PARTNER_STAFF)
        if self.is_admin or self.chairs_any:
            found.add(Audience.CHAIRS)
        if self.is_board:
            found.add(Audience.BOARD)
        if self.is_admin:
            found.add(Audience.ADMINS)
        return found
