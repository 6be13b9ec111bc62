"""The editors' admin commands and every privileged entry point, through PTB and the fakes.

/status, /pause and /resume, /retry and /skip, /backfill; the command menus per scope;
the unknown-command pointer. Two table-driven guards cover what is added later: every
`editors_only` command of `COMMANDS` and every registered button pattern is refused for
a non-editor (the callback answered) and changes nothing in the database.
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import telegram
from telegram import BotCommandScopeAllPrivateChats, BotCommandScopeChat, BotCommandScopeDefault
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app import Runtime, bot_running
from bot.archive.render import SEARCH_BUTTONS
from bot.editors.kit import CallbackCodec
from bot.extra.queue import judge_link
from bot.fakes.telegram import FakeTelegram
from bot.fakes.x import FakeX
from bot.submissions.intake import Submitter
from bot.submissions.reader_buttons import CREDIT_BUTTONS, READER_BUTTONS
from bot.submissions.rules import Accepted
from bot.texts import TEMPLATES, text
from bot.weekly.ingest import NewIssue
from bot.weekly.publication import DECISIONS
from data.extras import ExtraItem, NewExtra
from data.outbox import OutboxState
from handlers.alerts import ALERT_BUTTONS
from handlers.commands import COMMANDS
from handlers.lang import LANG_BUTTONS
from handlers.submitters import FORGET_BUTTONS
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID, X_CREDENTIALS, settings_for
from tests.delivery_support import eventually, telegram_payload, x_payload
from tests.test_preview import issues
from tests.test_source_git import Upstream, add_full_201

OTHER_ID = 1003  # neither an editor nor the submitter of anything
EDITORS_GROUP = -100200300


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    async with FakeX(**X_CREDENTIALS) as fx:
        yield fx


def settings_with_x(tg: FakeTelegram, fx: FakeX, tmp_path: Path, **extra: Any) -> Any:
    return settings_for(tg, tmp_path, x={**X_CREDENTIALS, "api_base_url": fx.base_url}, **extra)


@pytest.fixture
async def runtime(
    fake_telegram: FakeTelegram, fake_x: FakeX, tmp_path: Path
) -> AsyncIterator[Runtime]:
    fake_telegram.api.flood = None
    fake_telegram.add_user(OTHER_ID, "Other", "other")
    async with bot_running(settings_with_x(fake_telegram, fake_x, tmp_path)) as running:
        yield running


async def ask(tg: FakeTelegram, user_id: int, command: str, *, replies: int = 1) -> list[str]:
    """`user_id` sends `command` in private; the bot's next `replies` messages there."""
    before = len(tg.sent(user_id))
    tg.user_sends(user_id, command)

    async def answered() -> bool:
        return len(tg.sent(user_id)) >= before + replies

    await eventually(answered)
    return [m.text or "" for m in tg.sent(user_id)[before:]]


async def enqueue(
    runtime: Runtime,
    target: str,
    key: str,
    *,
    due_in: float = 0.0,
    group: str | None = None,
    seq: int | None = None,
) -> int:
    payload = telegram_payload(key) if target == "telegram" else x_payload(key)
    row_id = await runtime.services.store.outbox.enqueue(
        idempotency_key=key,
        target=target,
        kind="item",
        payload=payload,
        now=time.time(),
        not_before=time.time() + due_in,
        group_key=group,
        seq=seq,
    )
    assert row_id is not None
    runtime.services.delivery.wake()
    return row_id


async def state_of(runtime: Runtime, row_id: int) -> OutboxState | None:
    row = await runtime.services.store.outbox.get(row_id)
    return None if row is None else row.state


async def failed_row(runtime: Runtime, key: str, **group: Any) -> int:
    """A row the platform refused for good: claimed by a test owner, then failed."""
    row_id = await enqueue(runtime, "telegram", key, due_in=3600, **group)
    outbox = runtime.services.store.outbox
    claimed = await outbox.claim_next(
        "telegram", owner="test", lease_seconds=60, now=time.time() + 3600
    )
    assert claimed is not None
    assert claimed.id == row_id
    assert await outbox.mark_failed(row_id, owner="test", error="400 bad", now=time.time())
    return row_id


async def is_sent(runtime: Runtime, row_id: int) -> bool:
    return await state_of(runtime, row_id) == "sent"


# ---- /status ------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_status_shows_sources_outbox_quota_pauses_and_the_queue(
    fake_telegram: FakeTelegram, fake_x: FakeX, tmp_path: Path
) -> None:
    fake_telegram.api.flood = None
    feed = f"http://127.0.0.1:{closed_port()}/rss.xml"  # nobody listens: the poll fails
    settings = settings_with_x(fake_telegram, fake_x, tmp_path, feeds={"urls": (feed,)})
    async with bot_running(settings) as runtime:
        sent_x = await enqueue(runtime, "x", "posted on x")
        await eventually(lambda: is_sent(runtime, sent_x))
        extra = runtime.services.extra  # one item in the extra-edition queue
        item = await extra.store.create(
            NewExtra(
                original_url="https://example.com/queued",
                canonical_url="https://example.com/queued",
                dedupe_key="example.com/queued",
                title="Queued",
                comment=None,
                created_by="user:1",
            ),
            now=time.time(),
            judge=judge_link,
        )
        assert isinstance(item, ExtraItem)
        assert await extra.enqueue(item.id, editor="user:1") is not None
        await ask(fake_telegram, EDITOR_ID, "/pause x")

        async def feed_polled() -> bool:
            return any(r.last_at is not None for r in runtime.services.watch.records())

        await eventually(feed_polled)
        (status,) = await ask(fake_telegram, EDITOR_ID, "/status")

    lines = status.splitlines()
    assert lines[0].startswith("Status at ")
    feed_line = next(line for line in lines if f"feed:{feed}" in line)
    assert "last poll not yet" not in feed_line
    assert "last error (1 in a row)" in feed_line
    telegram_line = next(line for line in lines if line.startswith("• Telegram:"))
    assert "1 queued" in telegram_line
    x_line = next(line for line in lines if line.startswith("• X:"))
    assert "1 sent" in x_line
    assert f"paused by @editor [{EDITOR_ID}]" in x_line
    assert "quota 15 min " in x_line  # what the fake X's headers said after the post
    assert "Paused: X" in lines
    assert any(line.startswith("Extra-edition queue: 1 waiting, next at ") for line in lines)


async def test_status_before_any_poll_or_post_says_so(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    (status,) = await ask(fake_telegram, EDITOR_ID, "/status")
    assert "• none watched" in status
    assert "quota not reported yet" in status
    assert "Paused: none" in status
    assert "Extra-edition queue: empty" in status


# ---- /pause, /resume ----------------------------------------------------------------


async def test_a_pause_blocks_only_its_target_and_survives_a_restart(
    fake_telegram: FakeTelegram, fake_x: FakeX, tmp_path: Path
) -> None:
    fake_telegram.api.flood = None
    settings = settings_with_x(fake_telegram, fake_x, tmp_path)
    async with bot_running(settings) as runtime:
        (reply,) = await ask(fake_telegram, EDITOR_ID, "/pause x")
        assert reply.startswith("⏸ Paused: X.")
        waiting = await enqueue(runtime, "x", "waits for resume")
        going = await enqueue(runtime, "telegram", "goes out")
        await eventually(lambda: is_sent(runtime, going))
        assert await state_of(runtime, waiting) == "queued"
    assert fake_x.posts() == []

    async with bot_running(settings) as again:  # a restart: the pause is a row
        x_worker = next(w for w in again.services.delivery.workers if w.target == "x")
        again.services.delivery.wake()

        async def x_idle() -> bool:
            return x_worker.idling

        await eventually(x_idle)
        assert await state_of(again, waiting) == "queued"
        assert set(await again.services.store.outbox.paused()) == {"x"}
        (reply,) = await ask(fake_telegram, EDITOR_ID, "/resume x")
        assert reply == "▶️ Resumed: X."
        await eventually(lambda: is_sent(again, waiting))
        audit = await again.services.store.list_audit(subject="target:x")
        assert [e.action for e in audit] == ["outbox.resume", "outbox.pause"]
    assert [p.text for p in fake_x.posts()] == ["waits for resume"]


async def test_pause_and_resume_without_a_target_take_every_target(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    (reply,) = await ask(fake_telegram, EDITOR_ID, "/pause")
    assert reply.startswith("⏸ Paused: Telegram, X.")
    assert set(await runtime.services.store.outbox.paused()) == {"telegram", "x"}
    (reply,) = await ask(fake_telegram, EDITOR_ID, "/pause telegram")
    assert reply == "Already paused: Telegram."
    (reply,) = await ask(fake_telegram, EDITOR_ID, "/resume")
    assert reply == "▶️ Resumed: Telegram, X."
    assert await runtime.services.store.outbox.paused() == {}


async def test_pause_of_an_unknown_target_names_the_targets_and_pauses_nothing(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    (reply,) = await ask(fake_telegram, EDITOR_ID, "/pause mastodon")
    assert reply == "Unknown target 'mastodon'. Targets: telegram, x, github."
    (reply,) = await ask(fake_telegram, EDITOR_ID, "/resume telegram x")
    assert reply == "One target at most: /resume [telegram | x | github]."
    assert await runtime.services.store.outbox.paused() == {}


# ---- /retry, /skip ------------------------------------------------------------------


async def test_retry_sends_a_failed_post_again_once(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    row_id = await failed_row(runtime, "refused once")
    (reply,) = await ask(fake_telegram, EDITOR_ID, f"/retry {row_id}")
    assert reply == f"Outbox #{row_id} (telegram): queued to try again."
    await eventually(lambda: is_sent(runtime, row_id))
    assert [m.text for m in fake_telegram.sent(CHANNEL_ID)] == ["refused once"]
    (reply,) = await ask(fake_telegram, EDITOR_ID, f"/retry {row_id}")
    assert reply == f"Outbox #{row_id} is sent: /retry takes a failed or in-doubt post."
    assert len(fake_telegram.sent(CHANNEL_ID)) == 1


async def test_retry_posts_a_doubtful_one_again_and_says_what_that_risks(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    row_id = await enqueue(runtime, "telegram", "maybe out", due_in=3600)
    outbox = runtime.services.store.outbox
    assert await outbox.claim_next("telegram", owner="t", lease_seconds=60, now=time.time() + 3600)
    assert await outbox.mark_in_doubt(row_id, owner="t", error="timed out", now=time.time())
    (reply,) = await ask(fake_telegram, EDITOR_ID, f"/retry #{row_id}")
    assert reply.startswith(f"Outbox #{row_id} (telegram): queued to post again.")
    assert "twice" in reply
    await eventually(lambda: is_sent(runtime, row_id))


@pytest.mark.parametrize("args", ["", "abc", "1 2", "-3", "１２"])
async def test_retry_and_skip_want_one_outbox_id(
    runtime: Runtime, fake_telegram: FakeTelegram, args: str
) -> None:
    for command in ("retry", "skip"):
        (reply,) = await ask(fake_telegram, EDITOR_ID, f"/{command} {args}".strip())
        assert reply == f"Give the outbox id: /{command} <id>, e.g. /{command} 12 (see /outbox)."
    (reply,) = await ask(fake_telegram, EDITOR_ID, "/skip 999")
    assert reply == "There is no outbox #999."


async def test_skip_drops_a_part_and_the_rest_of_its_post_goes_on(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    first = await failed_row(runtime, "part one", group="g", seq=1)
    second = await enqueue(runtime, "telegram", "part two", group="g", seq=2)
    (reply,) = await ask(fake_telegram, EDITOR_ID, f"/skip {first}")
    assert reply == (
        f"Outbox #{first} (telegram): dropped. 1 later part(s) of its post go on without it."
    )
    await eventually(lambda: is_sent(runtime, second))
    assert [m.text for m in fake_telegram.sent(CHANNEL_ID)] == ["part two"]
    (reply,) = await ask(fake_telegram, EDITOR_ID, f"/skip {second}")
    assert reply == f"Outbox #{second} is sent: /skip takes a queued, failed or in-doubt post."


# ---- /backfill ----------------------------------------------------------------------


async def test_backfill_previews_an_issue_as_the_cli_does(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.api.flood = None
    upstream = Upstream(tmp_path / "upstream")
    add_full_201(upstream)
    upstream.commit("issue 201")
    repo = {"enabled": True, "url": upstream.root.as_uri(), "mirror_dir": tmp_path / "m.git"}
    async with bot_running(settings_for(fake_telegram, tmp_path, repo=repo)) as runtime:
        fake_telegram.user_sends(EDITOR_ID, "/backfill 201")

        async def said(end: str) -> bool:
            return any((m.text or "").endswith(end) for m in fake_telegram.sent(EDITOR_ID))

        await eventually(lambda: said(" sent to 1 editor chat(s)."))
        texts = [m.text or "" for m in fake_telegram.sent(EDITOR_ID)]
        assert texts[0] == "Backfilling #201: fetching the repository…"
        assert texts[-1].startswith("#201: preview ")
        card = next(m for m in fake_telegram.sent(EDITOR_ID) if m.reply_markup)
        assert "New issue #201" in (card.text or "")
        texts = await ask(fake_telegram, EDITOR_ID, "/backfill 201", replies=2)
        assert texts[1].endswith(" was already sent; waiting for the editors.")
        texts = await ask(fake_telegram, EDITOR_ID, "/backfill 999", replies=2)
        assert texts[1] == "Backfill of #999 failed: no issue #999 on branch main"
        (usage,) = await ask(fake_telegram, EDITOR_ID, "/backfill two hundred")
        assert usage == "Give the issue number: /backfill <number>, e.g. /backfill 106."
        assert await runtime.services.store.outbox.counts() == {}  # the editors decide first


# ---- only editors: every command and every button -----------------------------------


EDITOR_COMMANDS = [c.name for c in COMMANDS if c.editors_only]
REFUSALS = {value for key, value in TEMPLATES.items() if key.startswith("editors_only.")} | {
    text("review.not_allowed", "en")
}


async def snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the audit log (a refusal is audited) and the heartbeat."""
    db = runtime.services.store.db
    tables = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    result = {}
    for row in tables:
        name = str(row["name"])
        if name in ("audit_log", "heartbeat") or name.startswith("sqlite_"):
            continue
        rows = await db.fetchall(f"SELECT * FROM {name}")  # noqa: S608 - names from sqlite
        result[name] = sorted(tuple(r) for r in rows)
    return result


@pytest.fixture
async def something_to_decide(runtime: Runtime) -> dict[str, int]:
    """A failed outbox row, a pending submission and a pending preview: the ids each
    kind of button acts on (a refused press must leave them as they are)."""
    svc = runtime.services
    outcome = await svc.submissions.submit(
        Submitter(READER_ID, "Reader", "reader"), "https://example.com/a-link"
    )
    assert isinstance(outcome, Accepted)
    await svc.submissions.drain()
    made = await svc.publication.on_new_issue(
        NewIssue(106, dt.date(2025, 6, 7), MappingProxyType(issues())),
        now=dt.datetime.now(dt.UTC),
    )
    assert made.preview is not None
    failed = await failed_row(runtime, "failed for good")
    return {
        "ob": failed,
        "sub": outcome.submission_id,
        "rd": outcome.submission_id,
        "pv": made.preview.id,
    }


@pytest.mark.parametrize("command", EDITOR_COMMANDS)
async def test_every_editor_command_is_refused_for_a_reader_and_changes_nothing(
    runtime: Runtime,
    fake_telegram: FakeTelegram,
    something_to_decide: dict[str, int],
    command: str,
) -> None:
    before = await snapshot(runtime)
    row_id = something_to_decide["ob"]
    (reply,) = await ask(fake_telegram, READER_ID, f"/{command} {row_id}")
    assert reply in REFUSALS
    assert await snapshot(runtime) == before

    async def audited() -> bool:
        entries = await runtime.services.store.list_audit(action="command.denied")
        return any(e.subject == f"command:{command}" for e in entries)

    await eventually(audited)


def codecs() -> dict[str, CallbackCodec]:
    """Every button codec the loaded bot defines, by its handler pattern."""
    found: dict[str, CallbackCodec] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith(("bot.", "handlers.")):
            continue
        for value in vars(module).values():
            if isinstance(value, CallbackCodec):
                found[value.pattern] = value
    return found


# Codecs whose actions are open (`actions=None`): the actions their handler knows.
OPEN_ACTIONS = {"pv": (*DECISIONS, "edit", "back", "bf", "ed:telegram", "ed:x")}


def sample_presses(codec: CallbackCodec, ids: dict[str, int]) -> list[str]:
    actions = sorted(codec.actions) if codec.actions is not None else OPEN_ACTIONS[codec.prefix]
    return [codec.encode(action, ids.get(codec.prefix, 1)) for action in actions]


async def test_every_button_is_refused_for_a_non_editor_with_the_press_answered(
    runtime: Runtime, fake_telegram: FakeTelegram, something_to_decide: dict[str, int]
) -> None:
    patterns = [
        handler.pattern.pattern
        for handlers in runtime.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None
    ]
    known = codecs()
    assert [p for p in patterns if p not in known] == []  # each pattern is a codec's
    presses = [data for p in patterns for data in sample_presses(known[p], something_to_decide)]
    # /lang's buttons set the presser's own language, /search's page the presser's own
    # search: anyone's to press (test_langs.py, test_search.py).
    anyones = tuple(f"{c.prefix}:" for c in (LANG_BUTTONS, SEARCH_BUTTONS))
    presses = [d for d in presses if not d.startswith(anyones)]
    assert len(presses) > 20
    (reply,) = await ask(fake_telegram, OTHER_ID, "/help")
    message = fake_telegram.sent(OTHER_ID)[-1]
    assert reply.startswith("Commands:")
    before = await snapshot(runtime)
    for data in presses:
        query_id = fake_telegram.press_forged(OTHER_ID, OTHER_ID, message.message_id, data)

        async def answered(query_id: str = query_id) -> bool:
            return any(a.callback_query_id == query_id for a in fake_telegram.answers)

        await eventually(answered)
        answer = next(a for a in fake_telegram.answers if a.callback_query_id == query_id)
        assert answer.text in REFUSALS, data
    assert await snapshot(runtime) == before
    assert [m.text for m in fake_telegram.sent(OTHER_ID)] == [reply]  # no prompt, no card
    # Each press on an editors' button is audited (the reader's own buttons are not
    # editors': a stranger's press there is only refused).
    own = tuple(
        f"{c.prefix}:" for c in (READER_BUTTONS, CREDIT_BUTTONS, FORGET_BUTTONS, ALERT_BUTTONS)
    )
    editors_presses = [d for d in presses if not d.startswith(own)]
    audit = await runtime.services.store.list_audit(limit=500)
    denied = [e for e in audit if e.action.endswith(".denied") and e.actor == f"user:{OTHER_ID}"]
    assert len(denied) == len(editors_presses)


# ---- the command menus --------------------------------------------------------------


async def test_the_menus_readers_see_readers_commands_editors_all(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.add_group(EDITORS_GROUP, "Editors")
    settings = settings_for(fake_telegram, tmp_path)
    settings = settings.model_copy(
        update={"telegram": settings.telegram.model_copy(update={"editor_chat_id": EDITORS_GROUP})}
    )
    async with bot_running(settings) as runtime:
        registered = {
            command
            for handlers in runtime.application.handlers.values()
            for handler in handlers
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        menus = {
            "default": await bot.get_my_commands(scope=BotCommandScopeDefault()),
            "private": await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()),
            "editor": await bot.get_my_commands(scope=BotCommandScopeChat(EDITOR_ID)),
            "group": await bot.get_my_commands(scope=BotCommandScopeChat(EDITORS_GROUP)),
            "reader": await bot.get_my_commands(scope=BotCommandScopeChat(READER_ID)),
        }
    readers = [c.name for c in COMMANDS if not c.editors_only]
    everyone = [c.name for c in COMMANDS]
    assert [c.command for c in menus["default"]] == readers
    assert [c.command for c in menus["private"]] == readers
    assert [c.command for c in menus["editor"]] == everyone
    assert [c.command for c in menus["group"]] == everyone
    assert menus["reader"] == ()  # readers get the wider scopes
    # Every command the bot answers has a menu entry with a description.
    described = {c.command: c.description for c in menus["editor"]}
    assert registered == set(described)
    assert all(described.values())


async def test_a_menu_telegram_refuses_for_one_chat_leaves_the_others(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = settings_for(fake_telegram, tmp_path)
    tg = settings.telegram.model_copy(update={"editor_ids": (EDITOR_ID, 4242)})  # never seen
    async with bot_running(settings.model_copy(update={"telegram": tg})):
        pass
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        mine = await bot.get_my_commands(scope=BotCommandScopeChat(EDITOR_ID))
    assert [c.command for c in mine] == [c.name for c in COMMANDS]


# ---- an unknown command -------------------------------------------------------------


async def test_an_unknown_command_gets_a_pointer_to_help(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    (reply,) = await ask(fake_telegram, READER_ID, "/foo bar")
    assert reply == "I don't know /foo. Send /help to see the commands."
    (reply,) = await ask(fake_telegram, EDITOR_ID, "/statsu")
    assert reply == "I don't know /statsu. Send /help to see the commands."


async def test_in_a_group_only_a_command_addressed_to_the_bot_gets_the_pointer(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_group(EDITORS_GROUP, "Editors")
    fake_telegram.user_sends(READER_ID, "/foo", chat_id=EDITORS_GROUP)  # maybe another bot's
    fake_telegram.user_sends(READER_ID, "/bar@other_bot", chat_id=EDITORS_GROUP)
    fake_telegram.user_sends(READER_ID, "/baz@weeklybot_test_bot", chat_id=EDITORS_GROUP)

    async def replied() -> bool:
        return bool(fake_telegram.sent(EDITORS_GROUP))

    await eventually(replied)  # updates are handled in order: the two before said nothing
    assert [m.text for m in fake_telegram.sent(EDITORS_GROUP)] == [
        "I don't know /baz. Send /help to see the commands."
    ]
