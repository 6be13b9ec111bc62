"""The SQL in data/ stays portable where that costs nothing (ARCHITECTURE.md, "Scale").

What is SQLite's own on purpose (STRICT tables, json_each, BEGIN IMMEDIATE, PRAGMAs)
is listed there; this guards the constructs with a portable spelling at no cost, and
checks the two statements that were rewritten still do what they did.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.delivery_support import enqueue, opened_store, telegram_payload

DATA = Path(__file__).parents[1] / "data"
# SQLite-only spellings with a standard twin: scalar max(a, b)/min(a, b) (GREATEST/
# LEAST or CASE elsewhere), INSERT OR IGNORE/REPLACE (ON CONFLICT), IFNULL (coalesce),
# IIF (CASE), GLOB, AUTOINCREMENT (rowid reuse is not relied on), datetime functions
# (timestamps are epoch seconds, REAL).
NEEDLESS = re.compile(
    r"\b(?:max|min)\((?:[^(),]|\([^()]*\))+,"
    r"|\bINSERT OR (?:IGNORE|REPLACE)\b|\bREPLACE INTO\b|\bIFNULL\(|\bIIF\(|\bGLOB\b"
    r"|\bAUTOINCREMENT\b|\b(?:julianday|unixepoch|strftime|datetime)\(",
    re.IGNORECASE,
)


def sql_strings(path: Path) -> list[str]:
    """The string literals of a module that look like SQL."""
    text = path.read_text(encoding="utf-8")
    literals = re.findall(r'"((?:[^"\\\n]|\\.)*)"', text) + re.findall(
        r'"""(.*?)"""', text, re.DOTALL
    )
    return [s for s in literals if re.search(r"\b(?:SELECT|UPDATE|INSERT|SET|WHERE)\b", s)]


def test_no_needless_sqlite_only_construct_in_data() -> None:
    found = {
        f"{path.name}: {match.group(0)}"
        for path in sorted(DATA.glob("*.py"))
        for sql in sql_strings(path)
        for match in NEEDLESS.finditer(sql)
    }
    assert found == set()


def test_the_guard_sees_what_it_forbids() -> None:
    for sql in (
        "UPDATE t SET a = max(0, a - 1)",
        "SET until = MAX(until, excluded.until)",
        "INSERT OR IGNORE INTO t VALUES (1)",
        "SELECT ifnull(a, 0) FROM t",
    ):
        assert NEEDLESS.search(sql), sql
    assert not NEEDLESS.search("SELECT coalesce(max(version), 0) FROM schema_version")


async def test_a_hold_only_grows(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "weeklybot.db") as store:
        await store.outbox.set_hold("telegram", 200.0, now=1)
        await store.outbox.set_hold("telegram", 100.0, now=2)
        assert await store.outbox.hold_of("telegram") == 200.0
        await store.outbox.set_hold("telegram", 300.0, now=3)
        assert await store.outbox.hold_of("telegram") == 300.0


async def test_a_send_that_never_began_gives_its_attempt_back(tmp_path: Path) -> None:
    async with opened_store(tmp_path / "weeklybot.db") as store:
        (row_id,) = await enqueue(store.outbox, "telegram", [telegram_payload("p")])
        now = time.time()
        claimed = await store.outbox.claim_next("telegram", owner="a", lease_seconds=1, now=now)
        assert claimed is not None
        assert claimed.attempts == 1
        await store.outbox.reap_expired_leases(now=now + 5)
        row = await store.outbox.get(row_id)
        assert row is not None
        assert (row.state, row.attempts) == ("queued", 0)
