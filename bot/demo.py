"""`weeklybot demo`: the whole bot, offline, against the bundled fakes.

The real PTB Application polls the fake Telegram Bot API, the real tweepy
client posts to the fake X API, and everything goes through the real store
and outbox. At the end it prints what each chat and X received.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections.abc import Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from bot.app import Runtime, bot_running
from bot.config import Settings, settings_from_values
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX
from bot.issue import Issue
from bot.log import configure_logging
from bot.parser import parse_issue
from bot.planning import TELEGRAM, Plan, X, plan_issue

log = logging.getLogger(__name__)

DEMO_TOKEN = "424242:demo-token-not-a-secret-but-never-printed"  # noqa: S105 - fake only
X_KEYS = {
    "consumer_key": "demo-consumer-key",
    "consumer_secret": "demo-consumer-secret",
    "access_token": "4242-demo-access-token",
    "access_token_secret": "demo-access-token-secret",
}
CHANNEL_ID = -1001000000042
CHANNEL_NAME = "pythontrendingweekly_demo"
READER_ID, EDITOR_ID = 1001, 2002
SAMPLE = "2026-11-21-weekly.md"
STEP_TIMEOUT = 20.0


def sample_issue(lang: str) -> Issue:
    """The bundled sample issue (written for this project, in the newsletter's style)."""
    text = (
        resources.files("bot")
        .joinpath("samples")
        .joinpath(lang)
        .joinpath(SAMPLE)
        .read_text(encoding="utf-8")
    )
    return parse_issue(text, filename=f"{lang}/{SAMPLE}")


def demo_settings(tg: FakeTelegram, fx: FakeX, database: Path, log_level: str) -> Settings:
    return settings_from_values(
        {
            "telegram": {
                "token": DEMO_TOKEN,
                "api_base_url": tg.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": (EDITOR_ID,),
                # Pacing sped up for the demo; the fake's limits are scaled to match.
                "posts_per_minute": 600,
                "min_spacing_seconds": 0.05,
            },
            "x": {"api_base_url": fx.base_url, **X_KEYS},
            "database_path": database,
            "log_level": log_level,
        }
    )


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo step timed out: {what}")
        await asyncio.sleep(0.05)


async def outbox_settled(runtime: Runtime, expected: int) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        counts = await runtime.services.store.outbox.counts()
        settled = sum(
            n
            for states in counts.values()
            for s, n in states.items()
            if s != "queued" and s != "sending"
        )
        if settled >= expected:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo step timed out: outbox still busy {counts}")
        await asyncio.sleep(0.05)


async def run_demo(*, log_level: str = "WARNING", out: TextIO) -> int:
    started = time.monotonic()
    configure_logging(log_level, secrets=[DEMO_TOKEN, *X_KEYS.values()])
    with tempfile.TemporaryDirectory(prefix="weeklybot-demo-") as tmp:
        async with (
            FakeTelegram(DEMO_TOKEN, limits_scale=30) as tg,
            FakeX(
                consumer_key=X_KEYS["consumer_key"],
                consumer_secret=X_KEYS["consumer_secret"],
                access_token=X_KEYS["access_token"],
                access_token_secret=X_KEYS["access_token_secret"],
            ) as fx,
        ):
            tg.add_user(READER_ID, "Alice", "alice_reads")
            tg.add_user(EDITOR_ID, "Cat", "cat_edits")
            tg.add_channel(CHANNEL_ID, username=CHANNEL_NAME, title="Python Trending Weekly (demo)")
            settings = demo_settings(tg, fx, Path(tmp) / "weeklybot.db", log_level)
            async with bot_running(settings) as runtime:
                await _reader_talks(tg)
                queued = await _publish_sample(runtime)
                await outbox_settled(runtime, queued)
                counts = await runtime.services.store.outbox.counts()
            out.write(_transcript(tg, fx, counts, time.monotonic() - started))
    return 0


async def _reader_talks(tg: FakeTelegram) -> None:
    for command in ("/start", "/help"):
        wanted = len(tg.sent(READER_ID)) + 1
        tg.user_sends(READER_ID, command)
        await wait_until(partial(_has_replies, tg, wanted), f"reply to {command}")


def _has_replies(tg: FakeTelegram, wanted: int) -> bool:
    return len(tg.sent(READER_ID)) >= wanted


async def _publish_sample(runtime: Runtime) -> int:
    store = runtime.services.store
    settings = runtime.services.settings
    rows = []
    now = time.time()
    for lang, target in ((settings.telegram.lang, TELEGRAM), (settings.x.lang, X)):
        issue = sample_issue(lang)
        await store.issues.upsert(issue, now=now, source_path=f"docs/{lang}/{SAMPLE}")
        rows.extend(plan_issue(issue, [Plan(target)]))
    ids = await store.outbox.enqueue_many(rows, now=now)
    runtime.services.delivery.wake()
    return sum(1 for i in ids if i is not None)


def _transcript(tg: FakeTelegram, fx: FakeX, counts: dict[str, Any], seconds: float) -> str:
    lines = ["weeklybot demo: what each platform received", ""]
    chats = (
        (READER_ID, "Telegram private chat with the reader @alice_reads"),
        (CHANNEL_ID, f"Telegram channel @{CHANNEL_NAME}"),
    )
    for chat_id, title in chats:
        lines += [f"=== {title} ===", ""]
        for message in tg.messages(chat_id):
            who = "bot" if message.from_bot else "reader"
            body = message.text or ""
            if message.photo is not None:
                body = f"[photo] {message.caption or ''}".rstrip()
            lines += [f"[{who} #{message.message_id}] " + body.replace("\n", "\n    "), ""]
    lines += ["=== X (@demo user) ===", ""]
    for post in fx.posts():
        thread = f" (reply to {post.reply_to})" if post.reply_to else ""
        lines += [f"[post {post.id}{thread}] " + post.text.replace("\n", "\n    "), ""]
    summary = ", ".join(
        f"{target}: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()) if n)
        for target, states in sorted(counts.items())
    )
    lines += [
        f"outbox: {summary}",
        f"flood-limit violations seen by the fake Telegram: {len(tg.violations)}",
        f"demo finished in {seconds:.1f}s",
        "",
    ]
    return "\n".join(lines)
