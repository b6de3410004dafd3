"""Queries about groups and their memberships."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import TextClause, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, make_transient_to_detached, selectinload

from storage.models import CatalogueVersion, Group, GroupAccess, GroupAlias, MemberRole, Membership, Person

# --- the catalogue: every group and alias, held per process ------------------------------------
#
# Groups and their aliases change a few times a year and are read by almost every request (the
# language layer and find_group recognise group names). Each process keeps them in memory with
# the stamp they were read at (catalogue_version, which the database itself changes with every
# change to kc_group or group_alias, migration 0014), and reads them again only when the stamp
# it is given differs. The router reads the stamp in the caller's own statement (storage.people
# .load_caller), so a current catalogue costs no statement at all; elsewhere (the worker, the
# calendar feeds) all_groups reads the stamp first, one small statement.
#
# What is held is plain immutable records (`catalogue`: what reading names needs) and detached ORM
# rows that no session ever owns: `attached` and `all_groups` hand a session its own copies of
# those it needs (Session.merge(load=False): no SQL), so that a handler can write with them (a
# membership) and lazy-load what the catalogue leaves out.

STAMP = "catalogue_stamp"  # session.info: the stamp this transaction read, if it is still good
_MEMO = "catalogue_held"  # session.info: what was held when this transaction last looked (at its stamp)


@dataclass(frozen=True)
class GroupRecord:
    """A group as the catalogue holds it: plain and immutable, for reading names (core.caller's
    GroupRecord: `id`, `is_restricted`). `attached` gives the ORM row where one is needed."""

    id: int
    slug: str
    name: str
    description: str
    access: GroupAccess
    alias_names: tuple[str, ...]

    @property
    def is_restricted(self) -> bool:
        return self.access is GroupAccess.RESTRICTED

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the group goes by: its name, slug and aliases."""
        return (self.name, self.slug, *self.alias_names)


@dataclass(frozen=True)
class _Held:
    stamp: int
    records: tuple[GroupRecord, ...]  # sorted: open groups first, then by name
    templates: dict[int, Group]  # detached ORM rows with their aliases, by id: merged into sessions


# By database (its URL): a process normally has one, but the tests and benchmarks open many, and
# a stamp is only unique within its own database (PostgreSQL's sequence starts at 1 in each).
_held: dict[str, _Held] = {}
_HELD_DATABASES = 8
_NAMES_TABLES = re.compile(r"\b(kc_group|group_alias)\b", re.IGNORECASE)
_lock = threading.Lock()
loads = 0  # how many times this process has read the catalogue from the database (for tests)


def stamp_column() -> Any:
    """The current stamp as a scalar subquery, to be read beside other columns."""
    return select(CatalogueVersion.version).where(CatalogueVersion.id == 1).scalar_subquery()


def remember_stamp(session: Session, stamp: Optional[int]) -> None:
    """The stamp this transaction has just read (with the caller); None: there is no stamp row."""
    session.info[STAMP] = stamp


def _stamp(session: Session) -> Optional[int]:
    if STAMP not in session.info:
        session.info[STAMP] = session.execute(select(stamp_column())).scalar()
    return session.info[STAMP]


def _database(session: Session) -> str:
    bind = session.get_bind()
    return bind.engine.url.render_as_string(hide_password=True)


def _catalogue_touched(session: Session) -> bool:
    """Whether the session holds changes to groups or aliases not yet flushed (a membership
    added to a group changes no row of kc_group, nor the stamp)."""
    kinds = (Group, GroupAlias)
    return any(isinstance(o, kinds) for o in (*session.new, *session.deleted)) or any(
        isinstance(o, kinds) and session.is_modified(o, include_collections=False) for o in session.dirty
    )


def _read(session: Session, stamp: Optional[int]) -> _Held:
    """Every group and alias in one statement: as records, and as detached rows no session owns."""
    global loads
    rows = session.execute(
        select(
            Group.id,
            Group.slug,
            Group.name,
            Group.description,
            Group.access,
            GroupAlias.id,
            GroupAlias.alias,
        )
        .outerjoin(GroupAlias, GroupAlias.group_id == Group.id)
        .order_by(Group.name, Group.id, GroupAlias.alias)
    ).all()
    groups: dict[int, Group] = {}
    aliases: dict[int, list[GroupAlias]] = {}
    for group_id, slug, name, description, access, alias_id, alias in rows:
        if group_id not in groups:
            groups[group_id] = Group(id=group_id, slug=slug, name=name, description=description, access=access)
            aliases[group_id] = []
        if alias_id is not None:
            aliases[group_id].append(GroupAlias(id=alias_id, group_id=group_id, alias=alias))
    for group_id, group in groups.items():
        group.aliases = aliases[group_id]
        for alias_row in group.aliases:
            make_transient_to_detached(alias_row)
        make_transient_to_detached(group)
    loads += 1
    records = tuple(
        sorted(
            (
                GroupRecord(g.id, g.slug, g.name, g.description or "", g.access, tuple(a.alias for a in g.aliases))
                for g in groups.values()
            ),
            key=lambda r: (r.is_restricted, r.name),
        )
    )
    return _Held(stamp if stamp is not None else 0, records, groups)


def _current(session: Session) -> _Held:
    """What the process holds for the session's database, read again if the stamp has moved."""
    if _catalogue_touched(session):
        session.flush()  # as a query would (autoflush); the flush forgets the stamp
    stamp = _stamp(session)
    memo = session.info.get(_MEMO)
    if memo is not None and stamp is not None and memo.stamp == stamp:
        return memo
    database = _database(session)
    held = _held.get(database)
    if stamp is None or held is None or held.stamp != stamp:
        held = _read(session, stamp)
        if stamp is not None:
            with _lock:
                _held.pop(database, None)
                _held[database] = held
                while len(_held) > _HELD_DATABASES:
                    del _held[next(iter(_held))]
    if stamp is not None:
        session.info[_MEMO] = held
    return held


def catalogue(session: Session) -> tuple[GroupRecord, ...]:
    """Every group, open groups first, then by name: from what this process holds (no statement
    when the request has read the stamp and it stands)."""
    return _current(session).records


def attached(session: Session, group_ids: Iterable[int]) -> dict[int, Group]:
    """These groups as ORM rows in this session, with their aliases (the ones it has already,
    else copies of what the process holds, merged in without a statement): to write with, and
    for `meeting.group` to find. An id the catalogue doesn't know is left out."""
    held = _current(session)
    found: dict[int, Group] = {}
    for group_id in group_ids:
        existing = session.identity_map.get(session.identity_key(Group, group_id))
        if existing is not None:
            found[group_id] = existing
        elif group_id in held.templates:
            found[group_id] = session.merge(held.templates[group_id], load=False)
    return found


def attach(session: Session, record: GroupRecord) -> Group:
    """The ORM row of a group from the catalogue, in this session."""
    return attached(session, [record.id])[record.id]


def all_groups(session: Session) -> list[Group]:
    """Every group as ORM rows with their aliases, open groups first, then by name (from what
    the process holds; `catalogue` is cheaper where names are all that is read)."""
    records = catalogue(session)
    rows = attached(session, [r.id for r in records])
    return [rows[r.id] for r in records]


def held_groups(session: Session) -> tuple[Group, ...]:
    """What this process holds for the session's database (detached rows; tests look at them)."""
    held = _held.get(_database(session))
    return tuple(held.templates.values()) if held is not None else ()


def forget_catalogue() -> None:
    """Drop what this process holds (tests; nothing needs it otherwise)."""
    with _lock:
        _held.clear()


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    # The triggers have moved the stamp in this transaction: read it again before trusting the catalogue.
    if _catalogue_touched(session):
        _forget_stamp(session)


def _forget_stamp(session: Session) -> None:
    session.info.pop(STAMP, None)
    session.info.pop(_MEMO, None)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    _forget_stamp(session)  # a savepoint too: what it changed, and its stamp, are undone


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the next transaction of a session kept open reads its own
        _forget_stamp(session)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    # An UPDATE or DELETE statement on groups or aliases (not through the unit of work) moves it too.
    writes = state.is_update or state.is_delete or state.is_insert
    if writes and state.bind_mapper is not None and state.bind_mapper.class_ in (Group, GroupAlias):
        _forget_stamp(state.session)
    elif isinstance(state.statement, TextClause) and _NAMES_TABLES.search(state.statement.text):
        _forget_stamp(state.session)  # SQL as text that names the tables: read the stamp again, to be sure


def group_by_slug(session: Session, slug: str) -> Optional[Group]:
    return session.execute(select(Group).where(Group.slug == slug)).scalar_one_or_none()


def membership(session: Session, person: Person, group: Group) -> Optional[Membership]:
    if person.id is None:
        return None
    return session.execute(
        select(Membership).where(Membership.person_id == person.id, Membership.group_id == group.id)
    ).scalar_one_or_none()


def memberships_of(session: Session, person: Person) -> list[Membership]:
    if person.id is None:
        return []
    found = list(session.execute(select(Membership).where(Membership.person_id == person.id)).scalars())
    attached(session, {m.group_id for m in found})  # their groups, from the catalogue: `m.group` needs no statement
    return found


def add_member(session: Session, person: Person, group: Group, role: MemberRole = MemberRole.MEMBER) -> bool:
    """Add the person to the group; False if they were already in it. Safe under races."""
    if membership(session, person, group) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Membership(person=person, group=group, role=role))
    except IntegrityError:
        return False  # a concurrent request added the same membership
    return True


def set_role(session: Session, person: Person, group: Group, role: MemberRole) -> None:
    existing = membership(session, person, group)
    if existing is None:
        add_member(session, person, group, role)
    else:
        existing.role = role


def remove_member(session: Session, person: Person, group: Group) -> Optional[Membership]:
    """Remove the membership and return what it was, or None if there was none."""
    existing = membership(session, person, group)
    if existing is not None:
        session.delete(existing)
        session.flush()
    return existing


def member_ids(session: Session, group_ids: Iterable[int]) -> dict[int, list[int]]:
    """The people in each of these groups (chairs too), by group id."""
    ids = list(group_ids)
    found: dict[int, list[int]] = {group_id: [] for group_id in ids}
    if ids:
        for group_id, person_id in session.execute(
            select(Membership.group_id, Membership.person_id).where(Membership.group_id.in_(ids))
        ):
            found[group_id].append(person_id)
    return found


def members(session: Session, group: Group) -> list[Membership]:
    return list(
        session.execute(
            select(Membership).where(Membership.group_id == group.id).options(selectinload(Membership.person))
        ).scalars()
    )
