"""The Partnership Office's questions and answers (storage/data/faq.yaml), read once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

FAQ_FILE = Path(__file__).parent / "data" / "faq.yaml"
BUILT_ANSWERS = ("partners", "groups")


@dataclass(frozen=True)
class Entry:
    id: str
    questions: tuple[str, ...]
    answer: str = ""
    actions: tuple[tuple[str, str], ...] = ()
    answer_from: Optional[str] = None  # "partners" or "groups": built from the data


class FaqError(ValueError):
    """The file is not as the comment at its top describes; the message says where."""


def read(path: Path = FAQ_FILE) -> tuple[Entry, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    for number, raw in enumerate(data.get("entries") or [], start=1):
        where = f"{path.name}, entry {number}"
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("questions"):
            raise FaqError(f"{where}: each entry needs an id and some questions")
        source = raw.get("answer_from")
        if bool(raw.get("answer")) == bool(source) or (source and source not in BUILT_ANSWERS):
            raise FaqError(f"{where} ({raw['id']}): give an answer, or answer_from: partners | groups")
        actions = tuple((str(label), str(command)) for label, command in raw.get("actions") or [])
        entries.append(
            Entry(
                str(raw["id"]),
                tuple(str(q).strip().rstrip("?") for q in raw["questions"]),
                " ".join(str(raw.get("answer") or "").split()),
                actions,
                source,
            )
        )
    ids = [e.id for e in entries]
    if len(ids) != len(set(ids)):
        raise FaqError(f"{path.name}: an id is used twice")
    return tuple(entries)


@lru_cache(maxsize=1)
def entries() -> tuple[Entry, ...]:
    return read()


def entry(entry_id: str) -> Optional[Entry]:
    return next((e for e in entries() if e.id == entry_id), None)
