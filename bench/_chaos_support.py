"""The chaos harness's parts: the fakes in this process, the bot as a child to kill.

The fake Telegram and the fake X run in the harness's process, so what they saw
survives every ``kill -9`` of the bot; the bot is ``python -m bot run`` (what
``weeklybot run`` starts), configured by environment settings, on one SQLite file
that every restart reuses. The fakes' limits and the bot's pacing are multiplied by
one factor (``scale``), so a plan publishes in seconds with the same rules.

Used by bench/chaos.py (the full runs) and tests/test_chaos.py (a bounded one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.parser import parse_issue
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX
from bot.fakes.x_model import XLimits
from bot.weekly.planning import Plan, plan_issue
from data.db import Database
from data.migrations import migrate
from data.outbox import NewPost
from data.store import Store
from publishers.telegram_probe import expected_text

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "777001:chaos-token-for-the-fake"
CHANNEL_ID = -1001000000077
LOG_CHAT_ID = -1002000000077
EDITOR_ID = 7001
X_KEYS = {
    "consumer_key": "chaos-consumer-key",
    "consumer_secret": "chaos-consumer-secret",
    "access_token": "7007-chaos-access-token",
    "access_token_secret": "chaos-access-token-secret",
}
ITEMS = 40


# --- the plan ---------------------------------------------------------------


def issue_markdown(number: int, lang: str, items: int = ITEMS) -> str:
    """An issue in the newsletter's form with `items` items (written here, not copied)."""
    half = items // 2
    if lang == "zh":
        head = [f"# Python 潮流周刊#{number}：混沌测试", "", "混沌测试用的期刊。", ""]
        sections = (("🦄文章&教程", "文章"), ("🐿️项目&资源", "项目"))
    else:
        head = [f"# Python Trending Weekly #{number}: chaos", "", "An issue for the chaos run.", ""]
        sections = (("🦄Articles & Tutorials", "article"), ("🐿️Projects & Resources", "project"))
    lines = head
    for s, (title, word) in enumerate(sections):
        lines += [f"## [{title}](https://weekly.pythoncat.top)", ""]
        count = half if s == 0 else items - half
        for n in range(1, count + 1):
            slug = f"{number}-{s}-{n}"
            lines += [
                f"{n}、[{word} {slug}](https://example.com/chaos/{slug})",
                "",
                f"{word} {slug} {lang}: a line of summary for item {n} of issue {number}.",
                "",
            ]
    return "\n".join(lines)


def plan_rows(number: int, items: int = ITEMS) -> list[NewPost]:
    """The items of issue `number`: `items` posts on the channel (zh) and on X (en)."""
    rows: list[NewPost] = []
    for lang, target in (("zh", "telegram"), ("en", "x")):
        text = issue_markdown(number, lang, items)
        issue = parse_issue(text, filename=f"{lang}/2026-01-01-weekly-{number}.md")
        rows += plan_issue(issue, [Plan(target, digest=False)])
    return rows


async def enqueue(database: Path, rows: Sequence[NewPost]) -> None:
    async with Database.open(database) as db:
        await migrate(db, now=time.time())
        await Store(db).outbox.enqueue_many(rows, now=time.time())


# --- the fakes and the bot --------------------------------------------------


@contextlib.asynccontextmanager
async def chaos_fakes(scale: float, *, seed: int = 0) -> AsyncIterator[tuple[FakeTelegram, FakeX]]:
    tg = FakeTelegram(TOKEN, limits_scale=scale, seed=seed)
    tg.add_user(EDITOR_ID, "Editor", "editor")
    tg.add_channel(CHANNEL_ID, "weeklybot_chaos", "Python Trending Weekly")
    tg.add_group(LOG_CHAT_ID, "Probe log", bot_is_admin=True)
    fx = FakeX(**X_KEYS, limits=XLimits(post_15m=int(100 * scale)))
    async with tg, fx:
        yield tg, fx


def bot_env(
    tg: FakeTelegram, fx: FakeX, database: Path, scale: float, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The bot's settings, as an operator sets them; WEEKLYBOT_* of the caller ignored."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WEEKLYBOT_")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "WEEKLYBOT_TELEGRAM__TOKEN": TOKEN,
        "WEEKLYBOT_TELEGRAM__API_BASE_URL": tg.base_url,
        "WEEKLYBOT_TELEGRAM__CHANNEL_ID": str(CHANNEL_ID),
        "WEEKLYBOT_TELEGRAM__EDITOR_IDS": str(EDITOR_ID),
        "WEEKLYBOT_TELEGRAM__LOG_CHAT_ID": str(LOG_CHAT_ID),
        "WEEKLYBOT_TELEGRAM__POSTS_PER_MINUTE": str(20 * scale),
        "WEEKLYBOT_TELEGRAM__MIN_SPACING_SECONDS": str(1.0 / scale),
        "WEEKLYBOT_TELEGRAM__GLOBAL_PER_SECOND": str(30 * scale),
        "WEEKLYBOT_X__API_BASE_URL": fx.base_url,
        "WEEKLYBOT_X__CONSUMER_KEY": X_KEYS["consumer_key"],
        "WEEKLYBOT_X__CONSUMER_SECRET": X_KEYS["consumer_secret"],
        "WEEKLYBOT_X__ACCESS_TOKEN": X_KEYS["access_token"],
        "WEEKLYBOT_X__ACCESS_TOKEN_SECRET": X_KEYS["access_token_secret"],
        "WEEKLYBOT_X__POSTS_PER_15MIN": str(int(100 * scale)),
        "WEEKLYBOT_REPO__ENABLED": "false",
        "WEEKLYBOT_FEEDS__URLS": "",
        "WEEKLYBOT_SUBMISSIONS__COOLDOWN_SECONDS": "0",
        "WEEKLYBOT_DATABASE_PATH": str(database),
        "WEEKLYBOT_LOG_LEVEL": "WARNING",
        **(extra or {}),
    }


@dataclass
class BotProcess:
    """One `python -m bot run`; its output goes to a log file kept across restarts."""

    env: dict[str, str]
    log: Path
    proc: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    starts: int = 0

    async def start(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.starts + 1} at {time.time():.3f}\n".encode())
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=self.env,
                cwd=ROOT,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        self.started_at = time.time()
        self.starts += 1

    async def kill(self) -> None:
        """kill -9: no handler runs, no send in flight is finished or recorded."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM, as an operator stops it; SIGKILL if it does not stop in `grace` s."""
        if self.proc is None or self.proc.returncode is not None:
            return None if self.proc is None else self.proc.returncode
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                return await self.proc.wait()
        except TimeoutError:
            await self.kill()
            return None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None


async def wait_until(condition: Callable[[], bool], within: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


def publish_calls(tg: FakeTelegram, fx: FakeX, since: float) -> int:
    """Publishing calls the fakes received since `since` (channel sends, X posts)."""
    channel = sum(
        1
        for c in tg.calls
        if c.at >= since and c.chat_id == CHANNEL_ID and c.method in ("sendMessage", "sendPhoto")
    )
    return channel + sum(1 for c in fx.calls("create_post") if c.at >= since)


# --- what the database says -------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: int
    key: str
    target: str
    state: str
    payload: dict[str, Any]
    noticed_at: float | None


def read_rows(database: Path) -> list[Row]:
    """The outbox, read-only (the bot is stopped or killed when this runs)."""
    with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as conn:
        cols = {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}
        noticed = "noticed_at" if "noticed_at" in cols else "NULL"
        return [
            Row(i, k, t, s, json.loads(p), n)
            for i, k, t, s, p, n in conn.execute(
                f"SELECT id, idempotency_key, target, state, payload, {noticed} FROM outbox"
            )
        ]


def read_events(database: Path) -> list[tuple[int, str | None, str, str]]:
    with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as conn:
        return list(
            conn.execute("SELECT outbox_id, from_state, to_state, actor FROM outbox_events")
        )


def settled(rows: Sequence[Row]) -> bool:
    """Nothing left for the bot to do: every row sent, dropped, or with the editors."""
    return all(
        r.state in ("sent", "cancelled")
        or (r.state in ("in_doubt", "failed") and r.noticed_at is not None)
        for r in rows
    )


def visible_text(row: Row) -> str:
    if row.target == "telegram":
        return expected_text(row.payload)[0]
    return str(row.payload["text"])


@dataclass
class Tally:
    """What the fakes saw against what the plan asked for."""

    posts: int = 0
    delivered: int = 0
    lost: int = 0  # not on the platform, and the bot thinks it is done with it
    duplicated: int = 0  # extra copies on the platform
    in_doubt: int = 0  # rows left for the editors
    in_doubt_unshown: int = 0  # of those, no card sent (noticed_at empty)
    in_doubt_absent: int = 0  # in doubt and really not posted: [Post again] is right
    doubts_raised: int = 0  # transitions into in_doubt over the whole run
    settled_by_probe: int = 0  # doubts the log-chat probe settled
    settled_by_x: int = 0  # doubts a resend to X settled (X refuses a duplicate)
    failed: int = 0
    details: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


def tally(tg: FakeTelegram, fx: FakeX, database: Path, kinds: Sequence[str] = ("item",)) -> Tally:
    rows = [r for r in read_rows(database) if r.target in ("telegram", "x")]
    rows = [r for r in rows if r.payload.get("platform") in ("telegram", "x")]
    on_channel = Counter(m.text or m.caption or "" for m in tg.sent(CHANNEL_ID) if not m.deleted)
    on_x = Counter(p.text for p in fx.posts() if not p.deleted)
    t = Tally()
    for row in rows:
        seen = (on_channel if row.target == "telegram" else on_x)[visible_text(row)]
        t.posts += 1
        t.delivered += seen > 0
        t.duplicated += max(0, seen - 1)
        if row.state == "in_doubt":
            t.in_doubt += 1
            t.in_doubt_unshown += row.noticed_at is None
            t.in_doubt_absent += seen == 0
        elif seen == 0:
            t.lost += 1
            t.failed += row.state == "failed"
            t.details.append(f"lost: {row.target} {row.key} ({row.state})")
        if seen > 1:
            t.details.append(f"duplicated ×{seen}: {row.target} {row.key}")
    for _, _, to_state, actor in read_events(database):
        if to_state == "in_doubt":
            t.doubts_raised += 1
        if actor == "telegram:probe":
            t.settled_by_probe += 1
    # X: a doubt is requeued in the same write; the resend's 403 duplicate proves "sent".
    by_row: dict[int, list[tuple[str | None, str]]] = {}
    for outbox_id, from_state, to_state, _ in read_events(database):
        by_row.setdefault(outbox_id, []).append((from_state, to_state))
    x_ids = {r.id for r in rows if r.target == "x"}
    for outbox_id, moves in by_row.items():
        if outbox_id in x_ids and any(to == "in_doubt" for _, to in moves):
            t.settled_by_x += moves[-1][1] == "sent"
    return t


def bot_log_tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""
