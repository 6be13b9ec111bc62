"""The archive search: import rate, query latency over ≥ 10,000 items, idle memory.

1. Import: every issue file of the shared corpus (`../shared/corpus`; the project's own
   `bot/samples` when it is absent) through `weeklybot import`'s core
   (`bot.archive.importer`: the weekly ingest, the store, the search index), timed:
   items per second. Then renumbered copies of the parsed issues (numbers + k·1000,
   dates k·10 years on) through the same store write until the archive holds at
   least 10,000 items (`--quick`: the corpus once).
2. Latency: 200 queries (`--quick`: 50) drawn from the archive's own titles (zh
   bigram words and longer, English words, some with filters), each through the
   parser and the store (`ArchiveSearch.find`, one page of 10): p50 and p95, goal
   p95 ≤ 10 ms.
3. Memory: the real bot (`python -m bot run`, a subprocess) holding that archive,
   against a bare PTB echo bot (a subprocess), both polling the same fake Telegram
   of this process; each answers one message (the bot a /search), then idles, and its
   VmRSS is read from /proc/PID/status. Goal: bot ÷ echo ≤ 1.5.

Run: ``.venv/bin/python bench/search.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _support import until  # bench/: run as `python bench/search.py`
from report import emit

from bot.archive.importer import folder_files, import_candidates
from bot.archive.query import parse_query
from bot.archive.search import ArchiveSearch
from bot.fakes.telegram import FAKE_TOKEN, FakeTelegram
from data.db import Database
from data.migrations import migrate
from data.store import Store

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SAMPLES = ROOT / "bot" / "samples"
TARGET_ITEMS = 10_000
P95_GOAL_MS = 10.0
RSS_GOAL = 1.5
CHANNEL_ID = -1001000000001
USER_ID = 4242
SCRIPT = "search"

ECHO_BOT = """
import sys
from telegram.ext import ApplicationBuilder, MessageHandler, filters

async def echo(update, context):
    await update.effective_message.reply_text(update.effective_message.text)

app = ApplicationBuilder().token(sys.argv[1]).base_url(sys.argv[2]).build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0.0, timeout=10)
"""


async def build_archive(database: Path, source: Path, *, copies: bool) -> tuple[int, float]:
    """Import `source`, then copies up to TARGET_ITEMS; (items, import items/s)."""
    async with Database.open(database) as db:
        await migrate(db, now=time.time())
        store = Store(db)
        candidates, refused = folder_files(source)
        started = time.perf_counter()
        summary = await import_candidates(store, candidates, refused=refused)
        rate = summary.items / (time.perf_counter() - started)
        issues = []
        for lang in ("zh", "en", "ja"):
            for number in range(1, 1000):
                issue = await store.issues.load(number, lang)  # type: ignore[arg-type]
                if issue is not None:
                    issues.append(issue)
        items = summary.items
        k = 0
        while copies and items < TARGET_ITEMS:
            k += 1
            for issue in issues:
                assert issue.number is not None
                date = issue.date + dt.timedelta(days=3652 * k) if issue.date else None
                copy = dataclasses.replace(issue, number=issue.number + 1000 * k, date=date)
                await store.issues.upsert(copy, now=time.time())
                items += sum(len(s.items) for s in issue.sections)
        return await store.search.indexed_count(), rate


async def latencies(database: Path, count: int) -> list[float]:
    """Times of `count` queries (ms), each parsed and run for a page of 10."""
    async with Database.open(database) as db:
        store = Store(db)
        rows = await db.fetchall("SELECT title FROM items ORDER BY id LIMIT 3000")
        words: list[str] = []
        for row in rows:
            words += re.findall(r"[\u4e00-\u9fff]{2,4}", row["title"])
            words += [w for w in re.findall(r"[A-Za-z]{4,}", row["title"])]
        rng = random.Random(15)
        filters = ["", "", "", " lang:en", " lang:zh", " section:projects", " year:2024"]
        queries = [
            " ".join(rng.sample(words, rng.choice((1, 1, 2)))) + rng.choice(filters)
            for _ in range(count)
        ]
        search = ArchiveSearch(store.search)
        found = 0
        times: list[float] = []
        for query in queries:
            started = time.perf_counter()
            result = await search.find(parse_query(query), limit=10)
            times.append((time.perf_counter() - started) * 1000)
            found += bool(result.results)
        print(f"{found} of {count} queries found something; the slowest:")
        for ms, query in sorted(zip(times, queries, strict=True), reverse=True)[:5]:
            print(f"  {ms:.1f} ms  {query}")
        return times


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def idle_rss(tg: FakeTelegram, argv: list[str], env: dict[str, str], send: str) -> int:
    """Start a bot, have it answer `send`, let it idle, read its resident memory."""
    before = len(tg.sent(USER_ID))
    polls = len(tg.calls_of("getUpdates"))
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        await until(
            lambda: len(tg.calls_of("getUpdates")) > polls or proc.returncode is not None,
            within=60.0,
            step=0.02,
        )
        if proc.returncode is not None:
            assert proc.stderr is not None
            raise RuntimeError(f"bot exited: {(await proc.stderr.read()).decode()[-2000:]}")
        tg.user_sends(USER_ID, send)
        await until(
            lambda: len(tg.sent(USER_ID)) > before or proc.returncode is not None,
            within=60.0,
            step=0.02,
        )
        await asyncio.sleep(2.0)  # idle: a long poll waiting
        return rss_kib(proc.pid)
    finally:
        if proc.returncode is None:  # measured: no clean shutdown to wait for (a long poll)
            proc.kill()
            await proc.wait()


async def memory(database: Path, folder: Path) -> tuple[int, int]:
    async with FakeTelegram() as tg:
        tg.api.flood = None
        tg.add_user(USER_ID, "Bench", "bench")
        tg.add_channel(CHANNEL_ID, "weeklybot_bench", "Bench")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEEKLYBOT_")}
        env |= {
            "WEEKLYBOT_TELEGRAM__TOKEN": FAKE_TOKEN,
            "WEEKLYBOT_TELEGRAM__API_BASE_URL": tg.base_url,
            "WEEKLYBOT_TELEGRAM__CHANNEL_ID": str(CHANNEL_ID),
            "WEEKLYBOT_REPO__ENABLED": "false",
            "WEEKLYBOT_ROUNDUP__ENABLED": "false",
            "WEEKLYBOT_FEEDS__URLS": "",
            "WEEKLYBOT_DATABASE_PATH": str(database),
            "PYTHONPATH": str(ROOT),
        }
        bot = await idle_rss(
            tg, [sys.executable, "-m", "bot", "--log-level", "WARNING", "run"], env, "/search 异步"
        )
        script = folder / "echo_bot.py"
        script.write_text(ECHO_BOT, encoding="utf-8")
        echo = await idle_rss(
            tg, [sys.executable, str(script), FAKE_TOKEN, tg.base_url], env, "hello"
        )
        return bot, echo


async def main(quick: bool, source: Path) -> int:
    print(f"corpus: {source}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = folder / "archive.sqlite"
        items, rate = await build_archive(database, source, copies=not quick)
        if os.environ.get("BENCH_KEEP_DB"):  # to look into a slow query afterwards
            import shutil

            shutil.copyfile(database, os.environ["BENCH_KEEP_DB"])
        print(f"archive: {items} items indexed")
        emit(SCRIPT, "import rate", rate, goal=200.0, direction=">=", unit=" items/s")
        times = await latencies(database, 50 if quick else 200)
        q = statistics.quantiles(times, n=100)
        emit(SCRIPT, "query p50", q[49], goal=P95_GOAL_MS, direction="<=", unit=" ms")
        emit(SCRIPT, "query p95", q[94], goal=P95_GOAL_MS, direction="<=", unit=" ms")
        t0 = time.perf_counter()
        bot, echo = await memory(database, folder)
        print(f"idle RSS: bot {bot} KiB, echo {echo} KiB ({time.perf_counter() - t0:.1f} s)")
        emit(
            SCRIPT,
            "idle RSS bot / echo",
            bot / 1024,
            goal=RSS_GOAL,
            direction="<=",
            baseline=echo / 1024,
            unit=" MiB",
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the corpus once, 50 queries")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("BENCH_CORPUS", CORPUS)),
        help="the corpus folder (default: ../shared/corpus, or $BENCH_CORPUS; bot/samples"
        " when absent)",
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.quick, args.corpus if args.corpus.is_dir() else SAMPLES)))
