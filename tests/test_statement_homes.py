"""Every statement against the shared tables has one home: a module of `adgen_video`, the package
that owns the schema (issue 19). Outside it, product code calls those modules and writes no SQL
naming a table the migrations create, but for the files listed in NOT_YET_MOVED.

The check reads each module's string literals (docstrings aside) with `ast`, so adjacent literals
count as the one string Python makes of them, and looks for INSERT INTO / UPDATE / DELETE FROM /
FROM / JOIN followed by a shared table's name, or by an f-string's placeholder (a table named at run
time may be a shared one). Test code (tests/, each package's tests/, bench/)
is not product code: it seeds through tests/seeding.py and reads back what the code under test
wrote.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOME = Path("video/src/adgen_video")
MIGRATIONS = ROOT / HOME / "migrations"

# The assets service's own tables: their statements live in that service, outside this rule.
ASSETS_TABLES = {"assets", "asset_search_indexes"}

# Files that still hold statements against shared tables, each with why; a file leaves this list
# when its statements have moved into adgen_video (test_not_yet_moved_lists_only_files_with_sql
# fails for a file that has none left).
NOT_YET_MOVED = {
    # The assets service records a library's search index only while its owner exists, in the one
    # statement that writes its own table (a separate look-up could race the owner's deletion).
    "services/assets/src/adgen_assets/search_indexes.py",
}

# Folders that hold no product code: generated stubs, test code, environments and caches.
SKIPPED_ROOTS = {"gen", "tests", "bench", "node_modules"}
SKIPPED_ANYWHERE = {"tests", "__pycache__", "node_modules", "build"}

PLACEHOLDER = "{}"
STATEMENT = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|FROM|JOIN)\s+(?:ONLY\s+)?(?:public\.)?(\w+|\{\})")


def shared_tables() -> set[str]:
    """Every table the migrations create, but the assets service's."""
    created = set()
    for migration in MIGRATIONS.glob("*.sql"):
        created |= set(re.findall(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", migration.read_text(), re.I))
    return {table.lower() for table in created} - ASSETS_TABLES


def product_modules() -> Iterator[Path]:
    """Every hand-written Python module outside adgen_video, relative to the repository."""
    for folder, subfolders, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if not name.startswith(".")
            and name not in SKIPPED_ANYWHERE
            and not (here == Path(".") and name in SKIPPED_ROOTS)
            and here / name != HOME
        )
        yield from (here / name for name in sorted(files) if name.endswith(".py"))


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _strings(tree: ast.AST) -> Iterator[str]:
    """The module's string literals; an f-string with PLACEHOLDER where its values go."""
    skipped = _docstrings(tree)
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else PLACEHOLDER)
            yield "".join(str(part) for part in parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped | inside_fstrings:
            yield node.value


def statements_against(source: str, tables: set[str]) -> list[str]:
    """The SQL fragments in the source's strings that name one of `tables` (or a table at run time)."""
    return sorted(
        match.group(0)
        for text in _strings(ast.parse(source))
        for match in STATEMENT.finditer(text)
        if match.group(1).lower() in tables or match.group(1) == PLACEHOLDER
    )


def test_the_migrations_create_the_shared_tables() -> None:
    assert {"users", "videos", "frames", "chunks", "cost_ledger", "renditions", "budget_reservations"} <= (
        shared_tables()
    )
    assert not ASSETS_TABLES & shared_tables()


def test_statements_are_found_in_code_but_not_in_prose() -> None:
    tables = shared_tables()
    code = '''
"""Reads FROM videos, in a docstring: prose."""
async def f(db, table):
    """UPDATE videos in a docstring is prose too."""
    await db.execute("UPDATE videos SET status = 'failed'" " WHERE video_id = $1", 1)
    await db.fetch(f"SELECT * FROM frames WHERE video_id = {table}")
    await db.execute(f"UPDATE {table} SET prediction_id = NULL")
    await db.fetch("SELECT count(*)" " FROM chunks c JOIN users u USING (user_id)")
    await db.fetch("SELECT * FROM assets")
    log.info("copied from videos in memory")
'''
    assert statements_against(code, tables) == [
        "FROM chunks",
        "FROM frames",
        "JOIN users",
        "UPDATE videos",
        "UPDATE {}",
    ]


def test_no_statement_against_a_shared_table_outside_adgen_video() -> None:
    tables = shared_tables()
    found = {
        str(path): hits
        for path in product_modules()
        if str(path) not in NOT_YET_MOVED and (hits := statements_against((ROOT / path).read_text(), tables))
    }
    assert not found, (
        "statements against shared tables belong in a module of adgen_video (video/src/adgen_video) named"
        f" after what it reads or decides; call it from here instead: {found}"
    )


def test_the_walk_reaches_the_callers_of_the_statement_homes() -> None:
    walked = {str(path) for path in product_modules()}
    assert {
        "gateway/src/adgen_gateway/videos.py",
        "services/export/src/adgen_export/worker.py",
        "providers/src/adgen_providers/prediction_record.py",
        "cli/src/adgen_cli/stack.py",
    } <= walked
    assert not {path for path in walked if path.startswith((str(HOME), "tests/", "gen/"))}


def test_not_yet_moved_lists_only_files_with_sql() -> None:
    tables = shared_tables()
    moved = sorted(path for path in NOT_YET_MOVED if not statements_against((ROOT / path).read_text(), tables))
    assert not moved, f"no statement against a shared table is left in {moved}: take them off NOT_YET_MOVED"
