"""`weeklybot run` as the editor runs it: the dry run, the start checks, a second poller."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import time
from pathlib import Path

import pytest

from bot.app import bot_running
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX
from bot.ops.dry_run import DRY_RUN_MARK
from bot.ops.start_checks import StartCheckFailed
from data.db import Database
from data.migrations import migrate
from data.store import Store
from publishers.posts import TelegramPost, TelegramText
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID, TOKEN, X_CREDENTIALS, settings_for
from tests.delivery_support import eventually
from tests.test_app import bot_command, bot_env


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's bytes hashed, and its SQL dump: both must not change in a dry run."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        dump = list(conn.iterdump())
    return digest, dump


async def test_a_dry_run_leaves_the_database_exactly_as_it_was(
    fake_telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(fake_telegram, tmp_path)
    html = "<b>Issue #902</b> a long line of text that the log must show in full, every word"
    payload = TelegramPost(parts=(TelegramText(html),)).to_payload()
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=time.time())
        row_id = await Store(db).outbox.enqueue(
            idempotency_key="issue:902:zh:digest:1",
            target="telegram",
            kind="digest",
            payload=payload,
            now=0,
        )
    before = fingerprint(settings.database_path)
    caplog.set_level(logging.INFO)
    async with bot_running(settings, dry_run=True) as runtime:
        outbox = runtime.services.store.outbox

        async def sent() -> bool:
            row = await outbox.get(row_id or 0)
            return row is not None and row.state == "sent"

        await eventually(sent)
        fake_telegram.user_sends(EDITOR_ID, "/help")

        async def answered() -> bool:
            return any("Commands:" in (m.text or "") for m in fake_telegram.sent(EDITOR_ID))

        await eventually(answered)
    assert fingerprint(settings.database_path) == before
    assert fake_telegram.sent(CHANNEL_ID) == []
    to_editor = fake_telegram.sent(EDITOR_ID)
    assert to_editor
    assert all((m.text or "").startswith(DRY_RUN_MARK.strip()) for m in to_editor)
    assert any(getattr(r, "text", None) == html for r in caplog.records)
    async with Database.open(settings.database_path) as db:  # the real run still has it to send
        row = await Store(db).outbox.get(row_id or 0)
    assert row is not None
    assert row.state != "sent"


async def test_a_channel_that_does_not_exist_stops_the_start(
    fake_telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(fake_telegram, tmp_path)
    fake_telegram.api.chats.pop(CHANNEL_ID)
    with pytest.raises(StartCheckFailed):
        async with bot_running(settings):
            pass
    assert any("WEEKLYBOT_TELEGRAM__CHANNEL_ID" in r.getMessage() for r in caplog.records)
    assert fake_telegram.calls_of("getUpdates") == []  # checked before polling


async def test_a_channel_where_the_bot_may_not_post_stops_the_start(
    fake_telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake_telegram.set_bot_admin(CHANNEL_ID, False)
    with pytest.raises(StartCheckFailed):
        async with bot_running(settings_for(fake_telegram, tmp_path)):
            pass
    assert any("administrator" in r.getMessage() for r in caplog.records)


async def test_an_editor_who_never_started_the_bot_is_a_warning_the_others_hear(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.api.users[READER_ID].started = False
    settings = settings_for(
        fake_telegram,
        tmp_path,
        telegram={
            "token": TOKEN,
            "api_base_url": fake_telegram.base_url,
            "channel_id": CHANNEL_ID,
            "editor_ids": (EDITOR_ID, READER_ID),
        },
    )
    async with bot_running(settings):
        pass
    told = [m.text or "" for m in fake_telegram.sent(EDITOR_ID)]
    assert any(f"editor {READER_ID} gets no cards" in t and "press Start" in t for t in told)


async def test_x_credentials_that_x_refuses_stop_the_start(
    fake_telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeX(**X_CREDENTIALS) as fx:
        keys = X_CREDENTIALS | {"access_token_secret": "wrong-secret"}
        settings = settings_for(fake_telegram, tmp_path, x={"api_base_url": fx.base_url, **keys})
        with pytest.raises(StartCheckFailed):
            async with bot_running(settings):
                pass
        good = settings_for(
            fake_telegram, tmp_path, x={"api_base_url": fx.base_url, **X_CREDENTIALS}
        )
        async with bot_running(good) as runtime:
            workers = [w.target for w in runtime.services.delivery.workers]
            assert workers == ["telegram", "x", "readers"]  # readers: the keyword alerts
    assert any("X refused the credentials" in r.getMessage() for r in caplog.records)


async def test_a_second_instance_on_the_same_token_stops_and_the_first_keeps_going(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with bot_running(settings_for(fake_telegram, tmp_path)):
        env = bot_env(fake_telegram, TOKEN, tmp_path / "second" / "db.sqlite", {})
        second = await bot_command("run", env, tmp_path)
        async with asyncio.timeout(60):
            _, err = await second.communicate()
        assert second.returncode == 2
        assert b"another weeklybot is polling with this token" in err
        assert b"Traceback" not in err
        fake_telegram.user_sends(READER_ID, "/help")

        async def answered() -> bool:
            return any("Commands:" in (m.text or "") for m in fake_telegram.sent(READER_ID))

        await eventually(answered, within=30)  # the first one still polls
