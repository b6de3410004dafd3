"""What can be named, read from the database for one request (a handful of small queries, only
for words that are not exact commands: bench/nlu_bench.py measures them), or from the partner
file and the corpus's sample names for training, so that the model never depends on the data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from bot.nlu.entities import Catalogue, Named, soon
from handlers.partners import NOT_PARTNERS, names_of
from handlers.when import format_day
from storage import (
    cases as case_queries,
    events as event_queries,
    groups as group_queries,
    meetings as meeting_queries,
    people as people_queries,
)
from storage.models import CaseStatus, EventStatus
from storage.seed import PARTNERS_FILE

# Everything that can be named, by kind (each kind one or two queries).
KINDS = ("group", "event", "case", "partner", "meeting")


def from_database(
    session: Session,
    now: datetime,
    common: Iterable[str] = (),
    said: Iterable[str] = (),
    kinds: Iterable[str] = KINDS,
) -> Catalogue:
    """What the database holds that people name; only the `kinds` asked for (all by default)."""
    kinds = set(kinds)
    named: list[Named] = []
    if "group" in kinds:
        for group in group_queries.catalogue(session):
            named.append(Named("group", group.slug, group.name, group.names))
    if "event" in kinds:
        for event in event_queries.all_events(session):
            if event.status is EventStatus.PUBLISHED:
                # A short theme is another name ("Cyber security"); a long one is a description,
                # whose words ("shared workspaces") would take other questions for the event.
                theme = event.theme if event.theme and len(event.theme.split()) <= 4 else None
                names = (event.title, theme) if theme else (event.title,)
                named.append(Named("event", str(event.id), event.title, names, soon(now, event.starts_at_utc)))
    if "case" in kinds:
        for case in case_queries.find(session):
            if case.status is not CaseStatus.DRAFT:
                named.append(Named("case", str(case.id), case.title, (case.title,)))
    if "partner" in kinds:
        for partner in people_queries.list_partners(session):
            named.append(Named("partner", partner.slug, partner.name, tuple(names_of(partner))))
    meetings: tuple[tuple[str, int, date, str], ...] = ()
    if "meeting" in kinds:
        meetings = tuple(
            (
                m.group.slug,
                m.id,
                m.start_local.date(),
                f"the {m.group.name} meeting on {format_day(m.start_local)} (meeting {m.id})",
            )
            for m in meeting_queries.upcoming(session, now, until=now + timedelta(days=400))
        )
    return Catalogue(tuple(named), frozenset(common), tuple(NOT_PARTNERS.items()), frozenset(said), meetings)


def from_file(samples: dict[str, Any], common: Iterable[str] = (), path: Path = PARTNERS_FILE) -> Catalogue:
    """The partners and groups of the partner file, and the corpus's sample events and cases."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    named: list[Named] = []
    for group in data.get("groups") or []:
        names = (group["name"], group["slug"], *(group.get("aliases") or []))
        named.append(Named("group", group["slug"], group["name"], tuple(names)))
    for partner in data.get("partners") or []:
        names = (partner["name"], partner.get("short_name") or partner["name"], partner["slug"])
        names += tuple(partner.get("aliases") or []) + tuple(partner.get("domains") or [])
        named.append(Named("partner", partner["slug"], partner["name"], names))
    for kind in ("event", "case"):
        for number, title in enumerate(samples.get(kind + "s") or [], start=1):
            named.append(Named(kind, str(number), title, (title,)))
    return Catalogue(tuple(named), frozenset(common), tuple(NOT_PARTNERS.items()))
