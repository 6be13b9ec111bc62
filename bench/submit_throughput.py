"""`/submit` throughput through the real bot, against a bare PTB echo bot on the same fake.

N simulated readers send `/submit <url>` at once to the fake Telegram; the real bot
(`bot.app.bot_running`: PTB polling, each link handled in a task of the Application so
the links of the burst share one group commit (`Database.write_batched`, one fsync,
`synchronous = FULL` kept), the receipt once committed, one at a time, then the
preview and the review card) answers each. In the same run a bare
PTB Application with the same builder settings (the same rate limiter, sequential
updates, the same polling) answers the same N messages with an echo: the floor. The
figure is handled updates per second, from the moment all N are pushed to the last
reply seen on the fake; the ratio real ÷ echo has the goal ≥ 0.8.

Then M approvals, one at a time: from an editor's [✅ Approve] press to the channel's
first `sendMessage` call for that link (the fake's call log), p50 and p99; goal p99
≤ 100 ms. The pacer is configured wide open (the platform's own limits are not what
is measured here), the preview resolver refuses at once (no network), flood limits
of the fake are off for both bots.

Run: ``.venv/bin/python bench/submit_throughput.py [--readers 200] [--approvals 50]
[--quick]`` (``--quick``: 40 readers, 10 approvals).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import bot_running
from bot.config import settings_from_values
from bot.fakes.telegram import FakeTelegram
from publishers.pacing import telegram_rate_limiter

try:
    from bench._support import refuse, until
    from bench.report import emit
except ModuleNotFoundError:  # run as `python bench/<script>.py`: bench/ is on the path
    from _support import refuse, until  # type: ignore[no-redef]
    from report import emit  # type: ignore[no-redef]

WITHIN, STEP = 120.0, 0.01  # seconds: a step's limit, and how often it looks

CHANNEL_ID = -1001000000001
EDITOR_ID = 1001
FIRST_READER = 10_000
RATIO_GOAL = 0.8
P99_GOAL_MS = 100.0
POSTS_PER_MINUTE = 60_000  # wide open: the pacing is not what is measured
GLOBAL_PER_SECOND = 1_000


class Replies:
    """How many of `readers` got a message from the bot, reading only the fake's new
    messages at each look: the same small cost per look for both bots, however many
    messages the run has already made."""

    def __init__(self, tg: FakeTelegram, readers: range) -> None:
        self._tg = tg
        self._readers = readers
        self._seen = len(tg.messages())
        self._answered: set[int] = set()

    def __call__(self) -> int:
        new = self._tg.messages_since(self._seen)
        self._seen += len(new)
        self._answered.update(m.chat_id for m in new if m.from_bot and m.chat_id in self._readers)
        return len(self._answered)


async def echo_rate(tg: FakeTelegram, readers: range) -> float:
    """The floor: a bare PTB echo bot, built as bot.app builds the real one."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await update.effective_message.reply_text(update.effective_message.text or "")

    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .rate_limiter(
            telegram_rate_limiter(
                global_per_second=GLOBAL_PER_SECOND, posts_per_minute=POSTS_PER_MINUTE
            )
        )
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        try:
            replies = Replies(tg, readers)
            started = time.perf_counter()
            for reader in readers:
                tg.user_sends(reader, f"/submit https://site{reader}.example.com/post")
            await until(lambda: replies() == len(readers), within=WITHIN, step=STEP)
            elapsed = time.perf_counter() - started
        finally:
            await app.updater.stop()
            await app.stop()
    return len(readers) / elapsed


async def measure(readers_n: int, approvals: int, state: Path) -> int:
    async with FakeTelegram() as tg:
        tg.api.flood = None
        tg.add_user(EDITOR_ID, "Editor", "editor")
        tg.add_channel(CHANNEL_ID, "weeklybot_bench", "Python Trending Weekly")
        echo_readers = range(FIRST_READER, FIRST_READER + readers_n)
        bot_readers = range(FIRST_READER + readers_n, FIRST_READER + 2 * readers_n)
        for reader in (*echo_readers, *bot_readers):
            tg.add_user(reader, f"Reader {reader}", f"reader{reader}")
        floor = await echo_rate(tg, echo_readers)
        settings = settings_from_values(
            {
                "telegram": {
                    "token": tg.token,
                    "api_base_url": tg.base_url,
                    "channel_id": CHANNEL_ID,
                    "editor_ids": (EDITOR_ID,),
                    "posts_per_minute": POSTS_PER_MINUTE,
                    "global_per_second": GLOBAL_PER_SECOND,
                    "min_spacing_seconds": 0.0,
                },
                "repo": {"enabled": False},
                "feeds": {"urls": ()},
                "submissions": {
                    "cooldown_seconds": 0,
                    "max_pending_total": 100_000,
                },
                "database_path": state / "bench.db",
            }
        )
        async with bot_running(settings, resolver=refuse) as runtime:
            replies = Replies(tg, bot_readers)
            started = time.perf_counter()
            for reader in bot_readers:
                tg.user_sends(reader, f"/submit https://site{reader}.example.com/post")
            await until(lambda: replies() == len(bot_readers), within=WITHIN, step=STEP)
            elapsed = time.perf_counter() - started
            real = len(bot_readers) / elapsed
            received = sum(
                1 for r in bot_readers if (tg.sent(r)[0].text or "").startswith("Received, #")
            )
            await until(
                lambda: len(cards(tg)) >= min(approvals, readers_n), within=WITHIN, step=STEP
            )
            latencies = await approve_latencies(tg, approvals)
            del runtime
    ratio = real / floor
    p50 = statistics.median(latencies) * 1000
    p99 = percentile(latencies, 0.99) * 1000
    print(f"{readers_n} readers send /submit at once ({received} accepted)")
    print(f"bare PTB echo bot : {floor:8.1f} updates/s")
    print(f"weeklybot /submit : {real:8.1f} updates/s")
    print(f"ratio             : {ratio:8.2f}  (goal >= {RATIO_GOAL})")
    print(
        f"Approve press -> first channel send, {len(latencies)} presses:"
        f" p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal <= {P99_GOAL_MS:.0f} ms)"
    )
    met = ratio >= RATIO_GOAL and p99 <= P99_GOAL_MS
    print(f"  => {'GOAL MET' if met else 'GOAL MISSED'}")
    script = "submit_throughput"
    emit(
        script,
        "/submit vs bare PTB echo",
        real,
        baseline=floor,
        goal=RATIO_GOAL,
        direction=">=",
        unit=" upd/s",
    )
    emit(script, "approve -> first send p99", p99, goal=P99_GOAL_MS, direction="<=", unit=" ms")
    return 0 if met else 1


def cards(tg: FakeTelegram) -> list[Any]:
    return [
        m for m in tg.sent(EDITOR_ID) if any(d.startswith("sub:1:ap:") for d in m.callback_data())
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def approve_latencies(tg: FakeTelegram, approvals: int) -> list[float]:
    """Press Approve on one card at a time; the time to the channel's next sendMessage."""
    latencies = []
    for card in cards(tg)[:approvals]:
        data = next(d for d in card.callback_data() if d.startswith("sub:1:ap:"))
        before = len([c for c in tg.calls_of("sendMessage") if c.chat_id == CHANNEL_ID])
        pressed = time.time()
        tg.press(EDITOR_ID, EDITOR_ID, card.message_id, data)

        def sent(before: int = before) -> bool:
            calls = [c for c in tg.calls_of("sendMessage") if c.chat_id == CHANNEL_ID]
            return len(calls) > before

        await until(sent, within=10, step=STEP)
        first = [c for c in tg.calls_of("sendMessage") if c.chat_id == CHANNEL_ID][before]
        latencies.append(first.at - pressed)
    return latencies


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--approvals", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="40 readers, 10 approvals")
    args = parser.parse_args(argv[1:])
    if args.quick:
        args.readers, args.approvals = 40, 10
    with tempfile.TemporaryDirectory(prefix="weeklybot-bench-") as tmp:
        return asyncio.run(measure(args.readers, args.approvals, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
