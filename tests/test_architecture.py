"""The code's layers keep their direction (import-linter's contracts in pyproject.toml):
bot -> jobs -> handlers -> calendars -> storage -> core, and each platform SDK in its one adapter;
and handlers query the database through storage/ only (read from their code with ast)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold():
    # In a process of its own: import-linter configures logging, which would stop later tests
    # from seeing the bot's log records.
    script = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


# import-linter sees an external package only whole (`sqlalchemy`, not `sqlalchemy.orm`), so it
# can't tell the Session type from a query: this reads the handlers' code instead.
ALLOWED_FROM_SQLALCHEMY = {("sqlalchemy.orm", "Session")}
# Reading, and writing: new rows and deletions go through storage/ too.
QUERIES = {"execute", "get", "scalar", "scalars", "query", "add", "add_all", "delete", "merge", "flush"}


def _problems(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [
                f"{where}: from {node.module} import {a.name}"
                for a in node.names
                if (node.module, a.name) not in ALLOWED_FROM_SQLALCHEMY
            ]
        elif isinstance(node, ast.ImportFrom) and (
            node.module == "storage.db" or (node.module == "storage" and any(a.name == "db" for a in node.names))
        ):
            found.append(f"{where}: storage.db (statements such as insert_for belong in storage/)")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERIES
            and ast.unparse(node.func.value) in ("session", "ctx.session")
        ):
            found.append(f"{where}: {ast.unparse(node.func)}(...)")
    return found


def test_handlers_query_the_database_through_storage_only():
    problems = [p for path in sorted((ROOT / "handlers").glob("*.py")) for p in _problems(path)]
    assert problems == [], (
        "handlers/ imports SQLAlchemy only for the Session type, and asks storage/ "
        "for what it needs and to store what it makes:\n" + "\n".join(problems)
    )


def test_the_handlers_check_sees_a_query(tmp_path):
    # The check above is only worth something if it can see what it forbids.
    module = tmp_path / "handlers" / "sneaky.py"
    module.parent.mkdir()
    module.write_text(
        "from sqlalchemy import select\nfrom sqlalchemy.orm import Session\nimport sqlalchemy.sql\n"
        "from storage.db import insert_for\n"
        "def f(ctx):\n    ctx.session.add(object())\n    return ctx.session.execute(select(1)), ctx.session.get(int, 1)\n"
    )
    assert sorted(p.split(": ", 1)[1] for p in _problems(module, tmp_path)) == [
        "ctx.session.add(...)",
        "ctx.session.execute(...)",
        "ctx.session.get(...)",
        "from sqlalchemy import select",
        "import sqlalchemy.sql",
        "storage.db (statements such as insert_for belong in storage/)",
    ]
