"""Backups: the daily copy and its retention, `weeklybot db restore` and what it refuses.

The main test takes a backup while the real Application publishes to the fake channel,
restores it into a fresh place, and finds an outbox that makes sense on its own.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import bot_running
from bot.cli import main
from bot.fakes.telegram import FakeTelegram
from bot.ops.backups import (
    BackupRefused,
    _exclusive,
    after_restore,
    backup_name,
    check_backup,
    hold_run_lock,
    restore,
    take_backup,
    to_prune,
)
from data.db import Database, StorageError
from data.migrations import MIGRATIONS
from data.outbox import OutboxStore
from tests.conftest import CHANNEL_ID, EDITOR_ID, TOKEN, settings_for
from tests.delivery_support import (
    channel_fake,
    enqueue,
    eventually,
    opened_store,
    telegram_payload,
)

NEWEST = MIGRATIONS[-1].version
PARTS = 8  # a digest's parts: one ordered group
ITEMS = 4


async def make_in_doubt(outbox: OutboxStore) -> int:
    """A row whose send began and whose answer was lost: it waits for an editor."""
    (row_id,) = await enqueue(outbox, "telegram", [telegram_payload("maybe posted")], prefix="d")
    row = await outbox.claim_next("telegram", owner="ghost", lease_seconds=30, now=time.time())
    assert row is not None
    assert row.id == row_id
    assert await outbox.mark_started(row_id, owner="ghost", lease_seconds=30, now=time.time())
    assert await outbox.mark_in_doubt(row_id, owner="ghost", error="lost answer", now=time.time())
    return row_id


def outbox_rows(path: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT o.*, (SELECT e.to_state FROM outbox_events e WHERE e.outbox_id = o.id"
            " ORDER BY e.id DESC LIMIT 1) AS last_event FROM outbox o ORDER BY id"
        ).fetchall()


@pytest.mark.slow  # the real bot starts and publishes for a few seconds
async def test_a_backup_taken_mid_publish_restores_to_a_consistent_outbox(
    tmp_path: Path,
) -> None:
    async with channel_fake() as tg:
        settings = settings_for(
            tg,
            tmp_path,
            telegram={
                "token": TOKEN,
                "api_base_url": tg.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": (EDITOR_ID,),
                "posts_per_minute": 240,  # one post every 0.25 s: the backup lands mid-way
            },
        )
        async with opened_store(settings.database_path) as store:
            doubt_id = await make_in_doubt(store.outbox)
            group = [telegram_payload(f"digest part {n}") for n in range(PARTS)]
            parts = await enqueue(store.outbox, "telegram", group, group="digest:1", kind="digest")
            singles = [telegram_payload(f"item {n}") for n in range(ITEMS)]
            items = await enqueue(store.outbox, "telegram", singles, prefix="i")

        async with bot_running(settings) as runtime:
            store = runtime.services.store

            async def some_sent() -> bool:
                return len(tg.sent(CHANNEL_ID)) >= 3

            await eventually(some_sent)
            folder = tmp_path / "backups"
            taken = await take_backup(store, folder, 3, now=dt.datetime.now(dt.UTC))
            in_channel_then = {m.message_id for m in tg.sent(CHANNEL_ID)}

            # While the bot runs, its database cannot be replaced.
            with pytest.raises(BackupRefused, match="running"):
                restore(taken, settings.database_path)

    elsewhere = tmp_path / "restored" / "weeklybot.db"
    done = restore(taken, elsewhere)
    assert done.check.version == NEWEST
    assert done.kept is None

    rows = {r["id"]: r for r in outbox_rows(elsewhere)}
    assert set(rows) == {doubt_id, *parts, *items}
    states = [rows[i]["state"] for i in [*parts, *items]]
    assert 0 < states.count("sent") < PARTS + ITEMS, "the backup was not taken mid-publish"
    for row in rows.values():
        # One state per row, and the log of moves agrees with it.
        assert row["last_event"] == row["state"]
        if row["state"] == "sent":
            assert row["remote_id"] is not None
            assert row["sent_at"] is not None
            assert int(row["remote_id"]) in in_channel_then  # it was posted by then
        else:
            assert row["remote_id"] is None
            assert row["sent_at"] is None
    # The digest's parts went in order: the sent ones are a prefix of the group.
    sent_flags = [rows[i]["state"] == "sent" for i in parts]
    assert sent_flags == sorted(sent_flags, reverse=True)
    assert rows[doubt_id]["state"] == "in_doubt"
    assert rows[doubt_id]["last_error"] == "lost answer"

    # Posts sent after the backup are queued again in it: the targets wait for the editors.
    after = await after_restore(elsewhere, pause=True)
    assert after.paused == ("telegram",)
    waiting = after.waiting["telegram"]
    assert waiting["in_doubt"] == 1
    assert sum(waiting.values()) == 1 + states.count("queued") + states.count("sending")
    async with Database.open(elsewhere, create=False) as db:
        outbox = OutboxStore(db)
        assert set(await outbox.paused()) == {"telegram"}
        assert (
            await outbox.claim_next("telegram", owner="t", lease_seconds=5, now=time.time()) is None
        )


async def test_restore_keeps_the_replaced_database_and_drops_its_wal(tmp_path: Path) -> None:
    """The replaced database died with commits still in its WAL (kill -9): the copy kept
    aside has them, and the restored file is not mixed with that log."""
    live = tmp_path / "weeklybot.db"
    async with opened_store(live) as store:
        await enqueue(store.outbox, "telegram", [telegram_payload("before")], prefix="a")
        await store.backup(tmp_path / "b.db")
    crashed = tmp_path / "crashed" / "weeklybot.db"
    crashed.parent.mkdir()
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE outbox SET kind = 'after-crash'")
    conn.commit()
    for suffix in ("", "-wal"):  # the files as a killed process leaves them
        shutil.copyfile(f"{live}{suffix}", f"{crashed}{suffix}")
    conn.close()

    done = restore(tmp_path / "b.db", crashed)
    assert done.kept == crashed.with_name("weeklybot.db.before-restore")
    assert [r["kind"] for r in outbox_rows(done.kept)] == ["after-crash"]
    assert [r["kind"] for r in outbox_rows(crashed)] == ["item"]
    assert not crashed.with_name("weeklybot.db-wal").exists()
    assert check_backup(crashed).version == NEWEST


def damaged_copy(good: Path, dest: Path) -> Path:
    data = bytearray(good.read_bytes())
    page = 4096
    for at in range(page + 8, len(data), page):  # every page but the header's, scrambled
        data[at : at + 64] = bytes(64)
    dest.write_bytes(bytes(data))
    return dest


async def test_restore_refuses_a_file_that_is_not_a_sound_weeklybot_backup(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "live" / "weeklybot.db"
    good = tmp_path / "good.db"
    async with opened_store(tmp_path / "src.db") as store:
        await enqueue(store.outbox, "telegram", [telegram_payload("x" * 3000)] * 5)
        await store.backup(good)
    assert check_backup(good).version == NEWEST

    (tmp_path / "text.db").write_text("not a database at all, just words " * 200)
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    newer = tmp_path / "newer.db"
    newer.write_bytes(good.read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_version VALUES (?, 'from the future', 0)", (NEWEST + 1,))
    conn.close()

    cases = {
        tmp_path / "missing.db": "no backup file",
        tmp_path / "text.db": "not a SQLite database",
        tmp_path / "other.db": "not a weeklybot database",
        newer: "newer weeklybot",
        damaged_copy(good, tmp_path / "damaged.db"): "damaged|not a SQLite",
    }
    for path, why in cases.items():
        with pytest.raises(BackupRefused, match=why):
            restore(path, db_path)
    assert not db_path.exists(), "a refused restore wrote something"


async def test_a_bot_does_not_start_on_a_database_being_restored(tmp_path: Path) -> None:
    db_path = tmp_path / "weeklybot.db"
    async with opened_store(db_path) as store:
        await store.backup(tmp_path / "b.db")
    with _exclusive(db_path), pytest.raises(StorageError, match="being restored"):  # noqa: SIM117
        with hold_run_lock(db_path):
            pass
    # Two bots may hold it (Telegram's 409 stops one); a restore is refused either way.
    with hold_run_lock(db_path), hold_run_lock(db_path), pytest.raises(BackupRefused):
        restore(tmp_path / "b.db", db_path)


def test_retention_keeps_the_newest_backups_only() -> None:
    names = [backup_name(dt.datetime(2026, 12, d, 3, 30, tzinfo=dt.UTC)) for d in (3, 1, 4, 2)]
    others = ["notes.txt", "weeklybot.db", "weeklybot-latest.db"]
    assert to_prune(names + others, 2) == [names[1], names[3]]  # the 1st and the 2nd
    assert to_prune(names, 10) == []


async def test_the_daily_backup_writes_a_sound_copy_and_prunes(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "mine.txt").write_text("kept: not a backup")
    async with opened_store(tmp_path / "weeklybot.db") as store:
        start = dt.datetime(2026, 12, 1, 3, 30, tzinfo=dt.UTC)
        for day in range(5):
            await take_backup(store, folder, 3, now=start + dt.timedelta(days=day))
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [
        "mine.txt",
        "weeklybot-20261203T033000Z.db",
        "weeklybot-20261204T033000Z.db",
        "weeklybot-20261205T033000Z.db",
    ]
    assert check_backup(folder / kept[-1]).version == NEWEST


async def test_the_daily_backup_job_is_scheduled_at_the_configured_time(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = settings_for(
        fake_telegram, tmp_path, backups={"time": "04:15", "dir": str(tmp_path / "bk")}
    )
    async with bot_running(settings) as runtime:
        assert runtime.application.job_queue is not None
        (job,) = runtime.application.job_queue.get_jobs_by_name("backup")
        assert job.next_t is not None
        local = job.next_t.astimezone(ZoneInfo(settings.publishing.timezone))
        assert (local.hour, local.minute) == (4, 15)
        await job.run(runtime.application)  # what the JobQueue does at 04:15
    (written,) = (tmp_path / "bk").iterdir()
    assert check_backup(written).version == NEWEST


def test_cli_restore_says_why_it_refuses_and_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("WEEKLYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "state" / "weeklybot.db"
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", "123456:AAtokentokentokentokentokentoken12")
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "@pythonweekly")
    monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(database))
    assert main(["db", "migrate"]) == 0
    assert main(["db", "backup", str(tmp_path / "b.db")]) == 0
    capsys.readouterr()

    with sqlite3.connect(database) as conn:  # a bot beat a moment ago (on another host)
        conn.execute("INSERT INTO heartbeat (component, beat_at) VALUES ('bot', ?)", (time.time(),))
    conn.close()
    assert main(["db", "restore", str(tmp_path / "b.db")]) == 1
    assert "heartbeat" in capsys.readouterr().err
    assert main(["db", "restore", "--force", str(tmp_path / "b.db")]) == 0
    out = capsys.readouterr().out
    assert f"restored {database}" in out
    assert "before-restore" in out
    assert "paused" not in out  # nothing waits in that outbox
    assert main(["db", "restore", str(tmp_path / "nothing.db")]) == 1
    assert "no backup file" in capsys.readouterr().err
