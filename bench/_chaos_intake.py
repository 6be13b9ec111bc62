"""The chaos runs of the intake: kill -9 during `/submit` bursts, during approvals, and
while the extra edition's queue drains.

Each reuses the harness of bench/_chaos_support.py: the fakes in this process (what
they saw survives every kill), the real `python -m bot run` as a child killed with
SIGKILL and restarted on the same database, a last run without kills that settles
what is left, and what the fakes saw counted against what the database says.

Used by bench/chaos.py (`--only submits|approvals|queue`) and tests/test_chaos.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import random
import re
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from bot.config import Settings, settings_from_values
from bot.domain.urls import parse_submission
from bot.extra.queue import ExtraQueue
from bot.fakes.telegram import FakeTelegram
from bot.fakes.telegram_model import ControlError
from data.db import Database
from data.extras import ExtraItem, QueueStore
from data.migrations import migrate
from data.store import Store
from handlers.context import submission_service

try:  # imported as bench._chaos_intake (the tests, bench/run_all.py)
    from bench import _chaos_support as support
except ModuleNotFoundError:  # run as `python bench/chaos.py`: bench/ is on the path
    import _chaos_support as support  # type: ignore[no-redef]

# The readers' answers, as the catalogue words them in English (bot/texts.py).
ACK = re.compile(r"^Received, #(\d+):")
ALREADY = re.compile(r"^Already submitted \(#(\d+)\)")
REPEAT_SHARE = 0.2  # of a burst's messages: a link sent before (by them or another reader)
SETTLE_WITHIN = 120.0
QUIET = 0.5  # the last run: no new answer for this long, nothing pending → settled


# A host of its own per link: a post without a page title shows the link's host, and
# the fakes' count (and the log-chat probe) tell posts apart by what they show.
def reader_link(n: int) -> str:
    return f"https://link{n}.chaos.example.com/post"


def extra_link(n: int) -> str:
    return f"https://extra{n}.chaos.example.com/post"


def canonical(url: str) -> str:
    return parse_submission(url).url


def _ro(database: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True))


@dataclass(frozen=True)
class Link:
    id: int
    user_id: int
    canonical_url: str
    state: str
    carded: bool


def read_links(database: Path) -> list[Link]:
    """The submissions, read-only (the bot may be running: WAL readers do not block it)."""
    if not database.exists():
        return []
    with _ro(database) as conn:
        try:
            found = conn.execute("SELECT id, user_id, canonical_url, state, cards FROM submissions")
        except sqlite3.OperationalError:  # the bot is still creating the schema
            return []
        return [Link(i, u, c, s, cards != "[]") for i, u, c, s, cards in found]


def bot_answers(tg: FakeTelegram, chats: Iterable[int]) -> list[tuple[int, str]]:
    """(chat, text) of every message the bot sent to these chats."""
    return [(m.chat_id, m.text or "") for chat in chats for m in tg.sent(chat)]


class Quiet:
    """True once `probe()` gave the same value for `seconds` (and `ready()` holds)."""

    def __init__(self, probe: Callable[[], object], ready: Callable[[], bool], seconds: float):
        self._probe, self._ready, self._seconds = probe, ready, seconds
        self._last: object = None
        self._since = time.monotonic()

    def __call__(self) -> bool:
        value = self._probe()
        if value != self._last:
            self._last, self._since = value, time.monotonic()
            return False
        return self._ready() and time.monotonic() - self._since >= self._seconds


# --- kill -9 during /submit bursts ------------------------------------------------------


@dataclass(frozen=True)
class SubmitRun:
    kills: int
    seconds: float
    messages: int  # `/submit` messages the readers sent
    links: int  # distinct links among them
    acknowledged: int  # links answered "Received, #id"
    ack_lost: int  # acknowledged, and not in the database as that reader's link
    doubled: int  # extra submissions of one link (a redelivered update, a missed duplicate)
    doubled_acks: int  # extra "Received, #id" answers for one submission
    stored_unacked: int  # stored, never acknowledged (a kill between commit and reply)
    absent: int  # never stored, never acknowledged (a kill after Telegram forgot it)
    already: int  # "Already submitted (#id)" answers: repeats known as such
    uncarded: int  # pending links no editor was shown a card of
    details: tuple[str, ...]


def tally_submits(
    tg: FakeTelegram, database: Path, sent: list[tuple[int, str]], kills: int, seconds: float
) -> SubmitRun:
    rows = read_links(database)
    by_id = {r.id: r for r in rows}
    per_link = Counter(r.canonical_url for r in rows)
    answers = bot_answers(tg, support.READER_IDS)
    acks = Counter(
        (chat, int(m.group(1))) for chat, body in answers if (m := ACK.match(body)) is not None
    )
    details = [f"link stored {n}×: {url}" for url, n in per_link.items() if n > 1]
    lost = [(c, sid) for c, sid in acks if sid not in by_id or by_id[sid].user_id != c]
    details += [f"acknowledged #{sid} to {c}, not stored as theirs" for c, sid in lost]
    acked_ids = {sid for _, sid in acks}
    links = {canonical(url) for _, url in sent}
    stored_ids = {r.canonical_url: r.id for r in rows}
    return SubmitRun(
        kills=kills,
        seconds=seconds,
        messages=len(sent),
        links=len(links),
        acknowledged=sum(1 for u in links if stored_ids.get(u) in acked_ids),
        ack_lost=len(lost),
        doubled=sum(n - 1 for n in per_link.values()),
        doubled_acks=sum(n - 1 for n in acks.values()),
        stored_unacked=sum(1 for u in links if u in stored_ids and stored_ids[u] not in acked_ids),
        absent=sum(1 for u in links if u not in stored_ids),
        already=sum(1 for _, body in answers if ALREADY.match(body)),
        uncarded=sum(1 for r in rows if r.state == "pending" and not r.carded),
        details=tuple(details),
    )


async def run_submits(
    work: Path, *, kills: int, seed: int, scale: float, burst: int, say: Callable[[str], None]
) -> SubmitRun:
    """Readers send bursts of `/submit <url>` (a fifth of them a link sent before) while
    the bot starts, works and is killed; a last run takes what is left."""
    rng = random.Random(seed)
    database = work / "submits.db"
    started = time.monotonic()
    sent: list[tuple[int, str]] = []
    fresh = itertools.count(1)

    def send(tg: FakeTelegram, count: int) -> None:
        for _ in range(count):
            reader = rng.choice(support.READER_IDS)
            repeat = sent and rng.random() < REPEAT_SHARE
            url = rng.choice(sent)[1] if repeat else reader_link(next(fresh))
            tg.user_sends(reader, f"/submit {url}")
            sent.append((reader, url))

    async with support.chaos_fakes(scale, seed=seed) as (tg, fx):
        env = support.bot_env(tg, fx, database, scale)
        bot = support.BotProcess(env, work / "submits.log")

        def answered() -> int:
            return len(bot_answers(tg, support.READER_IDS))

        for n in range(kills):
            await bot.start()
            before = answered()
            send(tg, burst)  # while it starts: its first poll takes the burst
            want = rng.randint(0, burst)
            await support.wait_until(
                lambda before=before, want=want: (  # type: ignore[misc]
                    answered() - before >= want or not bot.alive
                ),
                within=10,
            )
            send(tg, rng.randint(0, burst // 2))  # more arrive while it answers
            await asyncio.sleep(rng.uniform(0, 0.1))
            if not bot.alive:
                raise RuntimeError(f"the bot exited by itself:\n{support.bot_log_tail(bot.log)}")
            await bot.kill()
            say(f"kill {n + 1}/{kills}: {answered() - before} answers in this run")

        def nothing_left() -> bool:
            links = read_links(database)
            return not tg.pending_updates and all(r.carded for r in links if r.state == "pending")

        done = Quiet(answered, nothing_left, QUIET)
        await support.settle_run(bot, done, within=SETTLE_WITHIN, what="submits", say=print)
        return tally_submits(tg, database, sent, kills, time.monotonic() - started)


# --- kill -9 during approvals -----------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRun:
    kills: int
    seconds: float
    links: int  # pending links with review cards before the kills
    presses: int  # Approve presses, the double ones included
    double_presses: int  # a second press of one decision (the same or the other editor)
    decided: int  # submissions approved
    decided_twice: int  # extra approval rows in the decision log
    undecided: int  # pressed, still pending after the last run (goal 0)
    rows_missing: int  # an approved link without its outbox row for a target
    rows_doubled: int  # extra outbox rows of one (key, target)
    tally: support.Tally


def card_of(tg: FakeTelegram, editor: int, sid: int) -> int | None:
    """The message id of the editor's latest card of `sid` that still has [Approve]."""
    data = f"sub:1:ap:{sid}"
    found = [m.message_id for m in tg.sent(editor) if data in m.callback_data()]
    return found[-1] if found else None


def approve(tg: FakeTelegram, editor: int, sid: int) -> bool:
    card = card_of(tg, editor, sid)
    if card is None:
        return False
    try:
        tg.press(editor, editor, card, f"sub:1:ap:{sid}")
    except ControlError:  # the buttons went between the look and the press
        return False
    return True


def decisions(database: Path) -> Counter[str]:
    with _ro(database) as conn:
        return Counter(
            subject
            for (subject,) in conn.execute(
                "SELECT subject FROM audit_log WHERE action = 'submission.approve'"
            )
        )


async def run_approvals(
    work: Path, *, kills: int, seed: int, scale: float, links: int, say: Callable[[str], None]
) -> ApprovalRun:
    """Pending links with review cards (in both editors' chats); editors press Approve
    (some twice, some both) while the bot is killed; a last run settles the posts.
    The first run stores the links and sends their cards before any press."""
    rng = random.Random(seed)
    database = work / "approvals.db"
    started = time.monotonic()
    async with support.chaos_fakes(scale, seed=seed) as (tg, fx):
        latency = support.slow_platforms(tg, fx, scale, seed=seed)
        bot = support.BotProcess(support.bot_env(tg, fx, database, scale), work / "approvals.log")
        # The links: the first run stores them and sends their cards before any press.
        for n in range(links):
            reader = support.READER_IDS[n % len(support.READER_IDS)]
            tg.user_sends(reader, f"/submit {reader_link(n)}")

        def carded() -> bool:
            found = read_links(database)
            return len(found) == links and all(r.carded for r in found)

        pressed: set[int] = set()
        presses = doubles = 0
        for n in range(kills):
            await bot.start()
            if not await support.wait_until(carded, within=SETTLE_WITHIN, step=0.1):
                raise RuntimeError(f"no cards for the links:\n{support.bot_log_tail(bot.log)}")
            pending = [r.id for r in read_links(database) if r.state == "pending"]
            answers = len(tg.answers)
            made = 0
            for sid in rng.sample(pending, min(len(pending), rng.randint(1, 3))):
                if not approve(tg, support.EDITOR_ID, sid):
                    continue
                pressed.add(sid)
                made += 1
                other = rng.random()
                if other < 0.5:  # the other editor on their card, or the same one again
                    editor = support.EDITOR2_ID if other < 0.3 else support.EDITOR_ID
                    if approve(tg, editor, sid):
                        made += 1
                        doubles += 1
            presses += made
            want = rng.randint(0, made)
            await support.wait_until(
                lambda answers=answers, want=want: (  # type: ignore[misc]
                    len(tg.answers) - answers >= want or not bot.alive
                ),
                within=10,
            )
            await asyncio.sleep(rng.uniform(0, 3 / scale + latency))
            if not bot.alive:
                raise RuntimeError(f"the bot exited by itself:\n{support.bot_log_tail(bot.log)}")
            await bot.kill()
            say(f"kill {n + 1}/{kills}: {made} presses, {len(tg.answers) - answers} answered")

        # The last run: a press the bot never answered is pressed again (the card still
        # has its buttons), until every pressed link is decided and its posts settled.
        repressed: set[int] = set()

        def retry_unanswered() -> bool:
            links = read_links(database)
            still = [r.id for r in links if r.id in pressed and r.state == "pending"]
            for sid in set(still) - repressed:
                repressed.add(sid)
                approve(tg, support.EDITOR_ID, sid)
            return not still and support.settled(support.read_rows(database))

        retry = Quiet(lambda: len(tg.answers), retry_unanswered, QUIET)
        await support.settle_run(bot, retry, within=SETTLE_WITHIN, what="approvals", say=print)
        sids = [r.id for r in read_links(database)]
        decided = decisions(database)
        rows = support.read_rows(database)
        per_row = Counter((r.key, r.target) for r in rows)
        final = {r.id: r for r in read_links(database)}
        approved = [sid for sid in sids if final[sid].state in ("approved", "published")]
        return ApprovalRun(
            kills=kills,
            seconds=time.monotonic() - started,
            links=links,
            presses=presses,
            double_presses=doubles,
            decided=len(decided),
            decided_twice=sum(n - 1 for n in decided.values()),
            undecided=sum(1 for sid in pressed if final[sid].state == "pending"),
            rows_missing=sum(
                1
                for sid in approved
                for target in ("telegram", "x")
                if (f"submission:{sid}", target) not in per_row
            ),
            rows_doubled=sum(n - 1 for n in per_row.values()),
            tally=support.tally(tg, fx, database),
        )


# --- kill -9 while the extra edition's queue drains -----------------------------------


@dataclass(frozen=True)
class QueueRun:
    kills: int
    batches: int
    items: int  # queued extra-edition links
    seconds: float
    tally: support.Tally


def harness_settings(tg: FakeTelegram, x_base_url: str, database: Path) -> Settings:
    """The bot's settings as far as the queue's core needs them (its targets, its pace)."""
    return settings_from_values(
        {
            "telegram": {
                "token": support.TOKEN,
                "api_base_url": tg.base_url,
                "channel_id": support.CHANNEL_ID,
                "editor_ids": (support.EDITOR_ID,),
            },
            "x": {"api_base_url": x_base_url, **support.X_KEYS},
            "repo": {"enabled": False},
            "feeds": {"urls": ()},
            "database_path": database,
        }
    )


def no_names(host: object, *args: object, **kwargs: object) -> NoReturn:
    raise socket.gaierror(socket.EAI_NONAME, f"{host}: not resolved by the chaos harness")


async def queue_links(
    settings: Settings, numbers: Iterable[int], *, spacing: float, editor: str = "user:7001"
) -> int:
    """Queue extra-edition links through the core, as /extra and [Queue] do, each pinned
    `spacing` s after the one before (the queue's own pace is minutes: the pinned times
    are the scaled pace). The bot is down meanwhile. How many were queued."""
    queued = 0
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=time.time())
        store = Store(db)
        # No page is fetched for the card here: the editor's own link needs no title.
        links = submission_service(settings, store, resolver=no_names)
        queue = ExtraQueue(QueueStore(db), settings, links)
        first = time.time()
        for i, n in enumerate(numbers):
            item = await queue.add_link(extra_link(n), "", editor=editor)
            if not isinstance(item, ExtraItem):
                raise RuntimeError(f"extra link {n} refused: {item}")
            await queue.enqueue(item.id, editor=editor)
            when = dt.datetime.fromtimestamp(first + i * spacing, dt.UTC)
            await queue.pin(item.id, when, editor=editor)
            queued += 1
    return queued


async def run_queue(
    work: Path, *, kills: int, seed: int, scale: float, items: int, say: Callable[[str], None]
) -> QueueRun:
    """Extra-edition links queued and drained at the scaled pace while the bot is
    killed; when a batch is out, another is queued, so every kill lands mid-drain."""
    rng = random.Random(seed)
    database = work / "queue.db"
    started = time.monotonic()
    numbers = itertools.count(1)
    batches: list[int] = []
    async with support.chaos_fakes(scale, seed=seed) as (tg, fx):
        latency = support.slow_platforms(tg, fx, scale, seed=seed)
        settings = harness_settings(tg, fx.base_url, database)
        bot = support.BotProcess(support.bot_env(tg, fx, database, scale), work / "queue.log")

        async def more() -> None:
            if not database.exists() or support.settled(support.read_rows(database)):
                batch = [next(numbers) for _ in range(items)]
                batches.append(await queue_links(settings, batch, spacing=3 / scale))

        await support.kill_while_publishing(
            bot, tg, fx, kills=kills, rng=rng, pause=3 / scale + latency, before_start=more, say=say
        )
        await support.settle_run(
            bot, support.outbox_settled(database), within=SETTLE_WITHIN, what="queue", say=print
        )
        return QueueRun(
            kills,
            len(batches),
            sum(batches),
            time.monotonic() - started,
            support.tally(tg, fx, database),
        )
