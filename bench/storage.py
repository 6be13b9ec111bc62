"""Chaos, storage: the disk fills or the database turns read-only while the bot publishes.

The real bot (`bot.app.bot_running`) against the fake Telegram, in this process. Each of
``--outages`` rounds (seeded): a batch of posts is queued (by a second connection, as
another process would), and after a random part of the first posts' sending the bot's
own connection loses its storage through SQLite itself (`Database.set_limits`:
``max_page_count`` at the current size, a full disk; or ``query_only``, a read-only
file), and a reader's `/submit` meets it. While it is down, readers keep sending
`/submit`: each must get the refusal and leave no row; the channel must get nothing.
Then the storage returns, the guard's probe sees it, and the posts that waited go out.

Reported: posts lost and posts duplicated on the fake channel (goal 0 each), work taken
while down (a `/submit` stored or a post sent during an outage, goal 0), editor notices
per outage (goal exactly one "down" and one "recovered" each: reported as the outages
whose notices were not exactly that, goal 0), rows left `in_doubt` (goal 0: a send
whose record failed is recorded at the recovery, not doubted) and the database's
``integrity_check`` (goal ok).

Run: ``.venv/bin/python bench/storage.py [--outages 20] [--seed 1] [--quick]``
(``--quick``: 4 outages).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

from bot.app import Runtime, bot_running
from bot.config import settings_from_values
from bot.fakes.telegram import FakeTelegram
from data.db import Database
from data.outbox import NewPost, OutboxStore
from publishers.posts import TelegramPost, TelegramText

try:
    from bench._support import refuse, until
    from bench.report import emit
except ModuleNotFoundError:  # run as `python bench/<script>.py`: bench/ is on the path
    from _support import refuse, until  # type: ignore[no-redef]
    from report import emit  # type: ignore[no-redef]

WITHIN, STEP = 60.0, 0.005  # seconds: a step's limit, and how often it looks

CHANNEL_ID = -1001000000001
EDITOR_ID = 1001
FIRST_READER = 20_000
POSTS_PER_OUTAGE = 6
SUBMITS_WHILE_DOWN = 3
DOWN = "cannot write its database"
RECOVERED = "takes writes again"
REFUSAL = "cannot record this right now"


def channel(tg: FakeTelegram) -> list[str]:
    return [m.text or "" for m in tg.sent(CHANNEL_ID)]


def editor_notices(tg: FakeTelegram, marker: str) -> int:
    return sum(1 for m in tg.sent(EDITOR_ID) if marker in (m.text or ""))


async def queue(path: Path, round_no: int) -> list[str]:
    """POSTS_PER_OUTAGE posts due now, written by another connection; their texts."""
    texts = [f"round {round_no} post {n}" for n in range(POSTS_PER_OUTAGE)]
    async with Database.open(path) as db:
        await OutboxStore(db).enqueue_many(
            [
                NewPost(
                    f"bench-storage:{round_no}:{n}",
                    "telegram",
                    "item",
                    TelegramPost(parts=(TelegramText(body),)).to_payload(),
                )
                for n, body in enumerate(texts)
            ],
            now=0,
        )
    return texts


async def say(tg: FakeTelegram, reader: int, body: str) -> str:
    before = len(tg.sent(reader))
    tg.user_sends(reader, body)
    await until(lambda: len(tg.sent(reader)) > before, within=WITHIN, step=STEP)
    return tg.sent(reader)[before].text or ""


async def outage_round(
    runtime: Runtime, tg: FakeTelegram, path: Path, round_no: int, rng: random.Random
) -> dict[str, int]:
    svc = runtime.services
    db, guard = svc.store.db, svc.storage
    mode = rng.choice(("full", "read-only"))
    down_before, up_before = editor_notices(tg, DOWN), editor_notices(tg, RECOVERED)
    texts = await queue(path, round_no)
    svc.delivery.wake()
    # a random moment of the sending: after 0..POSTS_PER_OUTAGE/2 posts, plus a jitter
    sent_first = rng.randint(0, POSTS_PER_OUTAGE // 2)
    await until(
        lambda: sum(t in texts for t in channel(tg)) >= sent_first, within=WITHIN, step=STEP
    )
    await asyncio.sleep(rng.random() * 0.02)
    if mode == "full":
        await db.set_limits(max_page_count=await db.set_limits())
    else:
        await db.set_limits(query_only=True)
    reader = FIRST_READER + round_no
    tg.add_user(reader, f"Reader {reader}", f"reader{reader}")
    n = 0
    while guard.writable:  # the bot meets the failure at a write that needs it
        pad = "x" * 1800 if mode == "full" else ""
        await say(tg, reader, f"/submit https://site{round_no}-{n}.example.com/p?pad={pad}")
        n += 1
        if n > 50:
            raise RuntimeError("the storage never failed")
    rows_down = len(await db.fetchall("SELECT id FROM submissions"))
    on_channel = len(channel(tg))
    await asyncio.sleep(0.02)  # a send begun before the trip may still land: allowed
    on_channel = len(channel(tg))
    refused = 0
    for k in range(SUBMITS_WHILE_DOWN):
        if REFUSAL in await say(tg, reader, f"/submit https://down{round_no}-{k}.example.com/"):
            refused += 1
    await asyncio.sleep(0.1)
    taken_while_down = (
        len(await db.fetchall("SELECT id FROM submissions"))
        - rows_down
        + len(channel(tg))
        - on_channel
    )
    if mode == "full":
        await db.set_limits(max_page_count=1 << 30)
    else:
        await db.set_limits(query_only=False)
    if not await guard.check():  # what the periodic probe would find
        raise RuntimeError(f"the probe did not see the recovery: {guard.problem()}")
    await until(lambda: all(t in channel(tg) for t in texts), within=30, step=STEP)
    await until(lambda: editor_notices(tg, RECOVERED) > up_before, within=WITHIN, step=STEP)
    await asyncio.sleep(0.05)
    posted = channel(tg)
    notices_ok = (
        editor_notices(tg, DOWN) - down_before == 1
        and editor_notices(tg, RECOVERED) - up_before == 1
    )
    return {
        "lost": sum(1 for t in texts if t not in posted),
        "doubled": sum(max(0, posted.count(t) - 1) for t in texts),
        "refused": refused,
        "asked": SUBMITS_WHILE_DOWN,
        "taken_while_down": taken_while_down,
        "bad_notices": 0 if notices_ok else 1,
    }


async def measure(outages: int, seed: int, state: Path) -> int:
    rng = random.Random(seed)
    path = state / "bench.db"
    async with FakeTelegram() as tg:
        tg.api.flood = None
        tg.add_user(EDITOR_ID, "Editor", "editor")
        tg.add_channel(CHANNEL_ID, "weeklybot_bench", "Python Trending Weekly")
        settings = settings_from_values(
            {
                "telegram": {
                    "token": tg.token,
                    "api_base_url": tg.base_url,
                    "channel_id": CHANNEL_ID,
                    "editor_ids": (EDITOR_ID,),
                    "posts_per_minute": 6000,
                    "min_spacing_seconds": 0.0,
                },
                "repo": {"enabled": False},
                "feeds": {"urls": ()},
                "submissions": {
                    "cooldown_seconds": 0,
                    "max_pending_per_user": 1000,
                    "daily_cap": 1000,
                },
                "database_path": path,
            }
        )
        totals: dict[str, int] = {}
        async with bot_running(settings, resolver=refuse) as runtime:
            started = time.perf_counter()
            for round_no in range(outages):
                for key, value in (await outage_round(runtime, tg, path, round_no, rng)).items():
                    totals[key] = totals.get(key, 0) + value
            elapsed = time.perf_counter() - started
            db = runtime.services.store.db
            in_doubt = len(await db.fetchall("SELECT id FROM outbox WHERE state = 'in_doubt'"))
            check = [str(r[0]) for r in await db.fetchall("SELECT * FROM pragma_integrity_check")]
    posts = outages * POSTS_PER_OUTAGE
    print(f"{outages} outages (seed {seed}), {posts} posts, {elapsed:.1f} s")
    print(f"refused while down: {totals['refused']} of {totals['asked']} /submit")
    script = "storage"
    results = [
        emit(script, "posts lost over storage outages", totals["lost"], goal=0, direction="<="),
        emit(
            script, "posts doubled over storage outages", totals["doubled"], goal=0, direction="<="
        ),
        emit(
            script,
            "work taken while storage down",
            totals["taken_while_down"],
            goal=0,
            direction="<=",
        ),
        emit(
            script,
            "share of /submit refused while down",
            totals["refused"] / totals["asked"],
            goal=1.0,
            direction=">=",
        ),
        emit(
            script, "outages not told exactly once", totals["bad_notices"], goal=0, direction="<="
        ),
        emit(script, "rows in doubt after outages", in_doubt, goal=0, direction="<="),
        emit(script, "integrity_check not ok", int(check != ["ok"]), goal=0, direction="<="),
    ]
    return 0 if all(m.met for m in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--outages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="4 outages")
    args = parser.parse_args(argv)
    outages = 4 if args.quick else args.outages
    with tempfile.TemporaryDirectory(prefix="weeklybot-storage-") as tmp:
        return asyncio.run(measure(outages, args.seed, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
