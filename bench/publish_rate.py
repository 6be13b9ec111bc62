"""Publish rate against the strict fake Telegram: how close to the limit, with no 429.

Every flood limit of the fake is multiplied by one factor (``--scale``), and the
bot is configured to the same limits: the worker's TelegramPacer at
``20 × scale`` posts per minute (one every ``3 / scale`` s, no closer than
``1 / scale`` s), PTB's AIORateLimiter as bot/app.py builds it. The posts go
through the real path: outbox rows in SQLite on disk, the DeliveryWorker, the
TelegramPublisher, PTB and httpx, HTTP to the fake.

The rate is measured on the fake's call log, between the first and the last
accepted sendMessage: ``(n - 1) / (last - first)``.

Run: ``.venv/bin/python bench/publish_rate.py [--posts 200] [--scale 30] [--quick]``
(``--quick``: 40 posts at ×60).
Goal: rate ÷ limit ≥ 0.95, zero 429s, zero flood violations.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from telegram.ext import ExtBot

from bot.delivery.workers import DeliveryWorker, stop_workers
from bot.editors.outbox_cards import EditorNotices
from bot.fakes.telegram import FakeTelegram
from data.db import Database
from data.migrations import migrate
from data.outbox import NewPost
from data.store import Store
from publishers.pacing import TelegramPacer, telegram_rate_limiter
from publishers.posts import TelegramPost, TelegramText
from publishers.telegram import TelegramPublisher

try:
    from bench.report import emit
except ModuleNotFoundError:  # run as `python bench/<script>.py`: bench/ is on the path
    from report import emit  # type: ignore[no-redef]

CHANNEL_ID = -1001000000001
EDITOR_ID = 1001
GOAL = 0.95
# Telegram's guidance (PLATFORMS.md D.1), the defaults of bot.config.TelegramSettings.
POSTS_PER_MINUTE = 20
GLOBAL_PER_SECOND = 30
MIN_SPACING_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Result:
    posts: int
    limit_per_minute: float
    rate_per_minute: float
    elapsed: float
    too_many: int
    violations: int
    errors: int

    @property
    def ratio(self) -> float:
        return self.rate_per_minute / self.limit_per_minute

    @property
    def met(self) -> bool:
        return self.ratio >= GOAL and self.too_many == 0 and self.violations == 0


async def measure(posts: int, scale: float, db_dir: Path) -> Result:
    limit = POSTS_PER_MINUTE * scale
    async with FakeTelegram(limits_scale=scale) as tg:
        tg.add_user(EDITOR_ID, "Editor", "editor")
        tg.add_channel(CHANNEL_ID, "weeklybot_bench", "Python Trending Weekly")
        bot = ExtBot(
            tg.token,
            base_url=tg.base_url,
            rate_limiter=telegram_rate_limiter(  # as bot.app.build_application does
                global_per_second=GLOBAL_PER_SECOND * scale, posts_per_minute=limit
            ),
        )
        async with Database.open(db_dir / "bench.db") as db, bot:
            await migrate(db, now=time.time())
            store = Store(db)
            rows = [
                NewPost(
                    f"bench:{n}",
                    "telegram",
                    "item",
                    TelegramPost(
                        parts=(TelegramText(f"<b>Post {n}</b> of the bench"),)
                    ).to_payload(),
                )
                for n in range(posts)
            ]
            await store.outbox.enqueue_many(rows, now=time.time())
            worker = DeliveryWorker(
                outbox=store.outbox,
                publisher=TelegramPublisher(bot, CHANNEL_ID),
                pacer=TelegramPacer(
                    posts_per_minute=limit, min_spacing=MIN_SPACING_SECONDS / scale
                ),
                notices=EditorNotices(bot, [EDITOR_ID], store.outbox),
                idle_poll=0.05,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop))
            started = time.monotonic()
            try:
                async with asyncio.timeout(posts * 60 / limit * 3 + 30):
                    while len(tg.sent(CHANNEL_ID)) < posts and not task.done():  # noqa: ASYNC110 - the count lives in the fake
                        await asyncio.sleep(0.05)
            finally:
                await stop_workers([task], stop, grace=5)
            elapsed = time.monotonic() - started
            counts = await store.outbox.counts()
        sends = [c for c in tg.calls_of("sendMessage") if c.chat_id == CHANNEL_ID]
        accepted = [c.at for c in sends if c.status == 200]
        span = accepted[-1] - accepted[0] if len(accepted) > 1 else float("inf")
        not_sent = sum(n for state, n in counts.get("telegram", {}).items() if state != "sent")
        return Result(
            posts=len(accepted),
            limit_per_minute=limit,
            rate_per_minute=(len(accepted) - 1) / span * 60,
            elapsed=elapsed,
            too_many=sum(1 for c in sends if c.status == 429),
            violations=len(tg.violations),
            errors=not_sent + sum(1 for c in sends if c.status not in (200, 429)),
        )


def report(result: Result, scale: float) -> str:
    return "\n".join(
        [
            f"publish rate bench: {result.posts} posts, fake limits ×{scale:g}",
            f"  configured limit   {result.limit_per_minute:8.1f} posts/min",
            f"  achieved rate      {result.rate_per_minute:8.1f} posts/min"
            f"  ({result.elapsed:.1f} s in all)",
            f"  rate ÷ limit       {result.ratio:8.3f}   (goal ≥ {GOAL})",
            f"  429 answers        {result.too_many:8d}   (goal 0)",
            f"  flood violations   {result.violations:8d}   (goal 0)",
            f"  other errors       {result.errors:8d}",
            f"  => {'GOAL MET' if result.met else 'GOAL MISSED'}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="40 posts at ×60")
    args = parser.parse_args(argv)
    if args.quick:
        args.posts, args.scale = 40, 60.0
    with tempfile.TemporaryDirectory(prefix="weeklybot-bench-") as tmp:
        result = asyncio.run(measure(args.posts, args.scale, Path(tmp)))
    print(report(result, args.scale))
    script = "publish_rate"
    emit(
        script,
        "publish rate vs limit",
        result.rate_per_minute,
        baseline=result.limit_per_minute,
        goal=GOAL,
        direction=">=",
        unit="/min",
    )
    emit(script, "429 answers", result.too_many, goal=0, direction="<=")
    emit(script, "flood violations", result.violations, goal=0, direction="<=")
    return 0 if result.met else 1


if __name__ == "__main__":
    sys.exit(main())
