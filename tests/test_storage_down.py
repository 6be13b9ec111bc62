"""A full disk and a read-only database at run time (issue 16, the chaos suite's last bullet).

The real bot (`bot_running`) against the fake Telegram and X; the storage fails through
SQLite itself on the bot's own connection (`Database.set_limits`: `max_page_count` for a
full disk, `query_only` for a read-only file), never a mock. The bot tells the editors
once, refuses the work it cannot record (nothing changes), sends nothing while down,
keeps its data intact, and after the recovery the refused work can be redone and the
posts that waited go out once each.

Rows "queued while down" are written by a second connection to the same file (another
process, such as the CLI): the limits are the bot's connection's only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.workers import DeliveryWorker
from bot.fakes.telegram import ChatMessage, FakeTelegram
from bot.ops.storage_guard import StorageGuard
from bot.serve.server import OpsServer
from data.db import Database, StorageUnavailable, SyncTx
from data.migrations import migrate
from data.outbox import NewPost, OutboxStore
from data.submissions import submission_key
from publishers.base import Receipt
from publishers.pacing import TelegramPacer
from publishers.posts import TelegramPost, TelegramText
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID
from tests.test_submissions_bot import EDITORS_GROUP, READER2_ID, World, until, world_with

DOWN = "cannot write its database"
RECOVERED = "takes writes again"
REFUSAL = "⚠️ The bot cannot record this right now"


@pytest.fixture
async def world(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    async with world_with(
        fake_telegram, tmp_path, max_pending_per_user=50, daily_cap=50
    ) as started:
        yield started


def notices(world: World, marker: str) -> list[ChatMessage]:
    return [m for m in world.tg.sent(EDITORS_GROUP) if marker in (m.text or "")]


def channel_texts(world: World) -> list[str]:
    return [m.text or "" for m in world.tg.sent(CHANNEL_ID)]


@contextlib.asynccontextmanager
async def other_process(world: World) -> AsyncIterator[Database]:
    """A second connection to the bot's file, without the bot's connection's limits."""
    async with Database.open(world.runtime.services.settings.database_path) as db:
        yield db


async def queue_posts(world: World, tag: str, count: int) -> list[int]:
    """`count` Telegram posts due now, queued by another process; their outbox ids."""
    async with other_process(world) as db:
        posts = [
            NewPost(
                f"storage-test:{tag}:{n}",
                "telegram",
                "item",
                TelegramPost(parts=(TelegramText(f"waiting post {tag} {n}"),)).to_payload(),
            )
            for n in range(count)
        ]
        ids = await OutboxStore(db).enqueue_many(posts, now=0)
    world.runtime.services.delivery.wake()
    return [i for i in ids if i is not None]


async def integrity(db: Database) -> list[str]:
    return [str(r[0]) for r in await db.fetchall("SELECT * FROM pragma_integrity_check")]


async def fill_until_down(world: World, guard: StorageGuard) -> int:
    """Readers keep submitting links until the full disk refuses a write; how many taken.

    Which write needs the first fresh page (the submission, its card's record...) is the
    page layout's business; whichever it is, the guard trips on it.
    """
    taken = 0
    for n in range(40):
        # a long link: its row and index entries need fresh pages soon
        link = f"{world.page(f'fill{n}')}?pad={'x' * 1800}"
        reply = await world.say(READER2_ID, f"/submit {link}")
        if reply.text is not None and reply.text.startswith("Received, #"):
            taken += 1
            sid = int(reply.text.split("#")[1].split(":")[0])
            # its card and the card's record (either may be the write that fails)
            await until(lambda sid=sid: not guard.writable or _has_card(world, sid))
            await asyncio.sleep(0.05)  # the card's record is written right after the send
        if not guard.writable:
            return taken
    raise AssertionError("the disk never filled")


def _has_card(world: World, sid: int) -> bool:
    return any(f"#{sid}\n" in (c.text or "") for c in world.cards())


async def assert_refused_while_down(world: World, pending_sid: int, queued: list[int]) -> None:
    """What the outage must look like from outside, then from the database."""
    svc = world.runtime.services
    store = svc.submissions.store
    before = await store.get(pending_sid)
    assert before is not None
    count_before = len(await svc.store.db.fetchall("SELECT id FROM submissions"))
    # /submit: the refusal, no row
    reply = await world.say(READER_ID, f"/submit {world.page('during')}")
    assert reply.text is not None
    assert reply.text.startswith(REFUSAL), reply.text
    assert len(await svc.store.db.fetchall("SELECT id FROM submissions")) == count_before
    # the Chinese refusal for a reader whose client speaks Chinese
    world.tg.api.users[READER_ID].language_code = "zh-hans"
    try:
        zh = await world.say(READER_ID, f"/submit {world.page('during-zh')}")
        assert zh.text is not None
        assert zh.text.startswith("⚠️ 机器人现在无法保存记录"), zh.text
    finally:
        world.tg.api.users[READER_ID].language_code = "en"
    # Approve: refused, nothing changed, nothing queued
    assert await world.press(EDITOR_ID, pending_sid, "ap") == text_refusal()
    after = await store.get(pending_sid)
    assert after is not None
    assert after.state == "pending"
    assert after == before
    outbox = svc.store.outbox
    assert await outbox.get_by_key("telegram", submission_key(pending_sid)) is None
    # the waiting posts stay queued, none reaches the channel
    await asyncio.sleep(0.3)  # give a (wrong) worker the chance to send
    for outbox_id in queued:
        row = await outbox.get(outbox_id)
        assert row is not None
        assert row.state == "queued", row
    assert not [t for t in channel_texts(world) if "waiting post" in t]
    # /status says it first; /healthz would say the database is not writable
    status = await world.say(EDITOR_ID, "/status")
    assert status.text is not None
    assert status.text.startswith("🛑 Storage down"), status.text
    assert svc.storage.problem() is not None
    assert svc.storage.refused >= 3


def text_refusal() -> str:
    from bot.texts import text

    return text("storage.refused", "en")


async def assert_recovers(world: World, pending_sid: int, queued: list[int], tag: str) -> None:
    svc = world.runtime.services
    assert await svc.storage.check()
    assert svc.storage.writable
    await until(lambda: len(notices(world, RECOVERED)) == 1)
    assert len(notices(world, DOWN)) == 1  # told once, however many refusals
    # the queued posts go out, once each
    await until(lambda: len([t for t in channel_texts(world) if f"waiting post {tag}" in t]) == 3)
    for outbox_id in queued:
        row = await svc.store.outbox.get(outbox_id)
        assert row is not None
        assert row.state == "sent"
    # the refused work can be redone
    sid = await world.submitted(world.page("after"))
    assert sid > pending_sid
    assert await world.press(EDITOR_ID, pending_sid, "ap") == "✅ Approved by you."
    await until(lambda: any("Fast CSV" in t for t in channel_texts(world)))
    await asyncio.sleep(0.3)
    waiting = [t for t in channel_texts(world) if "waiting post" in t]
    assert sorted(waiting) == sorted(set(waiting))  # none doubled
    assert await integrity(svc.store.db) == ["ok"]


async def test_a_full_disk_is_told_refused_and_recovered(world: World) -> None:
    svc = world.runtime.services
    db = svc.store.db
    guard = svc.storage
    earlier = await world.submitted(world.page("earlier"))
    assert await world.press(EDITOR_ID, earlier, "ap") == "✅ Approved by you."
    await until(lambda: len(world.tg.sent(CHANNEL_ID)) == 1)
    pending = await world.submitted(world.page("pending", title="Fast CSV, the sequel"))
    pages = await db.set_limits()
    await db.set_limits(max_page_count=pages + 1)  # the disk is all but full

    taken = await fill_until_down(world, guard)
    assert guard.outage is not None
    assert guard.outage.kind == "full"
    await until(lambda: len(notices(world, DOWN)) == 1)
    assert "full" in (notices(world, DOWN)[0].text or "")
    queued = await queue_posts(world, "full", 3)
    await assert_refused_while_down(world, pending, queued)
    # the probe fails while the disk is full: still down
    assert not await guard.check()
    # /healthz: the heartbeat's in-place update still commits, the guard's word counts
    ops = OpsServer(
        svc.settings, svc.store, world.runtime.watcher, storage_problem=guard.current_problem
    )
    health = await ops.health()
    assert not health.database_writable
    assert "disk is full" in (health.database_error or "")
    assert await integrity(db) == ["ok"]  # reads go on
    row = await svc.submissions.store.get(earlier)
    assert row is not None
    assert row.state == "published"

    await db.set_limits(max_page_count=1 << 30)  # space returns
    await assert_recovers(world, pending, queued, "full")
    print(f"submissions taken before the disk filled: {taken}")
    assert taken >= 0
    assert len(world.tg.sent(CHANNEL_ID)) == 1 + 3 + 1


async def test_a_read_only_database_is_told_refused_and_recovered(world: World) -> None:
    svc = world.runtime.services
    db = svc.store.db
    pending = await world.submitted(world.page("pending", title="Fast CSV, the sequel"))
    await db.set_limits(query_only=True)
    # the first write that fails is the reader's own: the error handler answers it
    reply = await world.say(READER_ID, f"/submit {world.page('first')}")
    assert reply.text is not None
    assert reply.text.startswith(REFUSAL), reply.text
    assert svc.storage.outage is not None
    assert svc.storage.outage.kind == "read-only"
    await until(lambda: len(notices(world, DOWN)) == 1)
    assert "read-only" in (notices(world, DOWN)[0].text or "")
    queued = await queue_posts(world, "ro", 3)
    await assert_refused_while_down(world, pending, queued)
    assert not await svc.storage.check()
    assert await svc.storage.current_problem() is not None  # what /healthz reports

    await db.set_limits(query_only=False)
    await assert_recovers(world, pending, queued, "ro")
    assert len(world.tg.sent(CHANNEL_ID)) == 3 + 1


class _GoesReadOnlyMidSend:
    """A publisher whose send succeeds while the database turns read-only meanwhile."""

    target = "telegram"
    resend_is_safe = False

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sent: list[object] = []

    async def publish(
        self, payload: object, *, reply_to: str | None = None, after_doubt: bool = False
    ) -> Receipt:
        await self.db.set_limits(query_only=True)
        self.sent.append(payload)
        return Receipt(remote_id=f"m{len(self.sent)}")


async def test_a_send_whose_record_fails_is_recorded_once_storage_returns(
    tmp_path: Path,
) -> None:
    """mark_sent refused after the post went out: kept in memory, recorded at the
    recovery, never sent again (not even as a doubt)."""
    async with Database.open(tmp_path / "w.db") as db:
        await migrate(db, now=0)
        guard = StorageGuard(db)
        outbox = OutboxStore(db)
        [row_id] = await outbox.enqueue_many(
            [NewPost("k:1", "telegram", "item", {"platform": "telegram", "parts": []})], now=0
        )
        assert row_id is not None
        publisher = _GoesReadOnlyMidSend(db)
        worker = DeliveryWorker(
            outbox=outbox,
            publisher=publisher,
            pacer=TelegramPacer(posts_per_minute=3000),
            gate=guard,
            idle_poll=0.01,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await until(lambda: not guard.writable)
        await until(lambda: worker.idling)
        assert worker.unrecorded is not None
        row = await outbox.get(row_id)
        assert row is not None
        assert row.state == "sending"
        assert not await guard.check()
        await db.set_limits(query_only=False)
        assert await guard.check()
        await until(lambda: worker.unrecorded is None)
        row = await outbox.get(row_id)
        assert row is not None
        assert row.state == "sent"
        assert row.remote_id == "m1"
        stop.set()
        await task
        assert len(publisher.sent) == 1
        assert await integrity(db) == ["ok"]


MOUNT = shutil.which("mount") or "mount"


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "not root: cannot mount a tmpfs"
    if shutil.which("mount") is None:
        return "no mount command"
    return None


async def _run(*argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    return proc.returncode or 0, err.decode(errors="replace").strip()


async def _write_until_it_fails(db: Database) -> None:
    for n in range(2000):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO audit_log (at, actor, action, details) VALUES"
                " (?, 'test', 'fill', json_object('pad', hex(randomblob(2000))))",
                (n,),
            )


async def test_a_real_tiny_tmpfs_fills_and_empties(tmp_path: Path) -> None:
    """A real full disk (a 2 MiB tmpfs): the write fails as `StorageUnavailable`, the
    probe refuses while full and passes once a filler file is removed."""
    why = _can_mount()
    if why is None:
        mnt = tmp_path / "tiny"
        mnt.mkdir()
        code, err = await _run(MOUNT, "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt))
        why = None if code == 0 else f"mount refused: {err}"
    if why is not None:
        print(f"skipped: {why}")
        pytest.skip(why)
    try:
        async with Database.open(mnt / "bot.db") as db:
            await migrate(db, now=0)
            guard = StorageGuard(db)
            filler = mnt / "filler"
            with filler.open("wb") as out, contextlib.suppress(OSError):  # the rest of it
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            with pytest.raises(StorageUnavailable):
                await _write_until_it_fails(db)
            assert guard.outage is not None
            assert guard.outage.kind in ("full", "io")
            assert not await guard.check()
            filler.unlink()
            assert await guard.check()
            assert await integrity(db) == ["ok"]
    finally:
        await _run(shutil.which("umount") or "umount", str(mnt))


# ---- the one mapping, in data/db.py ------------------------------------------------------


async def test_the_database_maps_full_and_read_only_and_keeps_reading(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "m.db") as db:
        await migrate(db, now=0)
        told: list[StorageUnavailable] = []
        db.on_unavailable = told.append
        pages = await db.set_limits(max_page_count=await db.set_limits())
        big = "INSERT INTO audit_log (at, actor, action, details) VALUES (0, 'a', 'b', ?)"
        with pytest.raises(StorageUnavailable) as full:
            async with db.transaction() as tx:
                await tx.execute(big, ('{"pad": "' + "x" * 20_000 + '"}',))
        assert full.value.kind == "full"
        assert str(tmp_path / "m.db") in str(full.value)
        assert "free space" in str(full.value)
        # the probe refuses, and probing leaves the file as it was
        with pytest.raises(StorageUnavailable):
            await db.probe_writable(now=1)
        assert await db.set_limits() == pages
        await db.set_limits(max_page_count=1 << 30, query_only=True)

        # a batched write whose body meets the read-only file fails as one, mapped
        def body(tx: object) -> None:
            raise AssertionError("never reached: BEGIN IMMEDIATE is refused first")

        with pytest.raises(StorageUnavailable) as ro:
            await db.write_batched(body)
        assert ro.value.kind == "read-only"
        assert "writable by the bot's user" in str(ro.value)
        assert len(await db.fetchall("SELECT * FROM heartbeat")) >= 0  # reads go on
        assert [e.kind for e in told] == ["full", "full", "read-only"]
        await db.set_limits(query_only=False)
        await db.probe_writable(now=2)
        assert await integrity(db) == ["ok"]


async def test_a_full_disk_inside_a_batch_fails_the_batch_not_its_savepoint(
    tmp_path: Path,
) -> None:
    """SQLITE_FULL rolls the whole transaction back, savepoint included: every body of
    the batch gets `StorageUnavailable`, none "no such savepoint", nothing is kept."""
    async with Database.open(tmp_path / "b.db") as db:
        await migrate(db, now=0)
        await db.set_limits(max_page_count=await db.set_limits())

        def small(tx: SyncTx) -> None:
            tx.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('small', 1)")

        def large(tx: SyncTx) -> None:
            tx.execute(
                "INSERT INTO audit_log (at, actor, action, details) VALUES (0, 'a', 'b', ?)",
                ('{"pad": "' + "x" * 20_000 + '"}',),
            )

        results = await asyncio.gather(
            db.write_batched(small), db.write_batched(large), return_exceptions=True
        )
        assert all(isinstance(r, StorageUnavailable) for r in results), results
        assert await db.fetchall("SELECT * FROM heartbeat WHERE component = 'small'") == []
