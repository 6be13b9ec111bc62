"""Security review, as tests: secrets never leave, only editors decide, no stray fetches.

1. The whole demo runs in this process at DEBUG; everything it printed and logged, and
   everything the fake Telegram, X, GitHub and web server received, is searched for
   every secret value.
2. Every handler registered on the real Application is enumerated: each command must
   be in `handlers.commands.COMMANDS`, each button pattern must belong to a known
   codec. Each editors' command and each editors' button (every action) is then sent
   by a reader through the fake Telegram: the answer is a refusal, and nothing in the
   database changes but the audit log's record of the refusal.
3. A static scan: only an allow-listed set of modules makes HTTP requests, and the one
   that fetches a reader's link does it through `bot.urls`'s checks.
"""

from __future__ import annotations

import ast
import functools
import io
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app import bot_running
from bot.archive.render import SEARCH_BUTTONS
from bot.editors.kit import CallbackCodec
from bot.editors.outbox_cards import OUTBOX_BUTTONS
from bot.editors.preview_cards import PREVIEW_BUTTONS
from bot.editors.queue_cards import QUEUE_BUTTONS
from bot.editors.reminders import REMINDER_BUTTONS
from bot.editors.review_cards import REVIEW_BUTTONS
from bot.fakes.telegram import FakeTelegram
from bot.submissions.reader_buttons import CREDIT_BUTTONS, READER_BUTTONS
from bot.texts import text
from handlers.alerts import ALERT_BUTTONS
from handlers.commands import COMMANDS
from handlers.lang import LANG_BUTTONS
from handlers.submitters import FORGET_BUTTONS
from tests.conftest import READER_ID, settings_for
from tests.delivery_support import eventually, opened_store, telegram_payload

ROOT = Path(__file__).parents[1]

# ---- 1. secrets ---------------------------------------------------------------------


def _dump(value: object) -> Iterator[str]:
    """Every string inside a fake's records (dataclasses, dicts, lists), and its repr."""
    yield repr(value)
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _dump(k)
            yield from _dump(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _dump(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _dump(getattr(value, name))


@pytest.mark.slow  # the whole demo, in this process
async def test_no_secret_in_anything_the_demo_printed_logged_or_sent(
    capfd: pytest.CaptureFixture[str],
) -> None:
    from bot.ops import demo

    seen: list[str] = []

    def observe(*fakes: Any) -> None:
        tg, fx, gh, web = fakes
        seen.extend(_dump(tg.messages()))
        for message in tg.messages():  # every edit of every message, too
            seen.extend(_dump(tg.history(message.chat_id, message.message_id)))
        seen.extend(_dump(tg.answers))
        seen.extend(_dump(tg.calls))
        seen.extend(_dump(fx.posts()))
        seen.extend(_dump(fx.calls()))
        seen.extend(_dump(gh.issues()))
        seen.extend(_dump(gh.calls()))
        seen.extend(_dump(web.requests))

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    out = io.StringIO()
    try:
        assert await demo.run_demo(log_level="DEBUG", out=out, observe=observe) == 0
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    captured = capfd.readouterr()
    printed = out.getvalue() + captured.out + captured.err
    assert "level=DEBUG" in printed  # it really logged everything
    received = "\n".join(seen)
    assert "sendMessage" in received  # the fakes' records were really read
    assert "#902" in received
    secrets = [demo.DEMO_TOKEN, demo.GITHUB_TOKEN, *demo.X_KEYS.values()]
    secrets.append(demo.DEMO_TOKEN.split(":", 1)[1])  # the token's secret half alone
    for secret in secrets:
        assert secret not in printed, f"{secret[:6]}… printed"
        assert secret not in received, f"{secret[:6]}… sent to a chat, X, GitHub or the web"


# ---- 2. only editors decide ---------------------------------------------------------

EDITOR_CODECS: dict[str, tuple[CallbackCodec, tuple[str, ...]]] = {
    "outbox": (OUTBOX_BUTTONS, ()),
    "preview": (PREVIEW_BUTTONS, ("now", "plan", "edit", "skip", "bf", "back", "ed:telegram")),
    "queue": (QUEUE_BUTTONS, ()),
    "review": (REVIEW_BUTTONS, ()),
    "reminder": (REMINDER_BUTTONS, ()),
}
READER_CODECS = (
    READER_BUTTONS,
    CREDIT_BUTTONS,
    LANG_BUTTONS,
    FORGET_BUTTONS,
    SEARCH_BUTTONS,
    ALERT_BUTTONS,
)
# A reader's message is allowed to leave these traces: who they are, their turn, the refusal.
TRACES = {"audit_log", "users", "heartbeat", "sqlite_sequence"}
# Arguments that would make each command act, were an editor to send it.
ARGS = {"retry": "2", "skip": "1", "backfill": "1", "extra": "https://example.com/post"}


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        found = {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)  # noqa: S608
            for t in tables
            if t not in TRACES
        }
    conn.close()
    return found


def actions(codec: CallbackCodec, extra: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(codec.actions or ())) + extra


@pytest.mark.slow  # every editors' command and button, through the real bot
async def test_every_privileged_handler_refuses_a_reader_and_changes_nothing(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = settings_for(fake_telegram, tmp_path)
    tg = fake_telegram
    tg.api.flood = None  # one refusal after another in one chat: not what is tested here
    far = time.time() + 30 * 86400
    async with opened_store(settings.database_path) as store:
        # Rows an editor's press or command would move: one in doubt, one failed.
        for key, state in (("doubt", "in_doubt"), ("failed", "failed")):
            row_id = await store.outbox.enqueue(
                idempotency_key=key,
                target="telegram",
                kind="item",
                payload=telegram_payload(key),
                not_before=far,
                now=time.time(),
            )
            assert row_id is not None
            await store.db.write_batched(
                lambda tx, i=row_id, s=state: tx.execute(
                    "UPDATE outbox SET state = ? WHERE id = ?", (s, i)
                )
            )

    async with bot_running(settings) as runtime:
        handlers = [h for group in runtime.application.handlers.values() for h in group]
        commands = {c for h in handlers if isinstance(h, CommandHandler) for c in h.commands}
        assert commands == {c.name for c in COMMANDS}, "a command outside COMMANDS"
        patterns = {
            h.pattern.pattern  # type: ignore[union-attr]
            for h in handlers
            if isinstance(h, CallbackQueryHandler) and h.pattern is not None
        }
        known = {c.pattern for c, _ in EDITOR_CODECS.values()} | {c.pattern for c in READER_CODECS}
        assert patterns == known, "a button kind this test does not classify"

        reply = tg.user_sends(READER_ID, "/start")  # the reader has a chat and a message

        async def answered_start() -> bool:
            return bool(tg.sent(READER_ID))

        await eventually(answered_start)

        async def cards_sent() -> bool:  # the editors' cards for the two rows, at start
            rows = [await runtime.services.store.outbox.get(i) for i in (1, 2)]
            return all(r is not None and r.noticed_at is not None for r in rows)

        await eventually(cards_sent)
        before = snapshot(settings.database_path)
        refusals = {text("editors_only.command", "en"), text("editors_only.outbox", "en")}

        for spec in [c for c in COMMANDS if c.editors_only]:
            start = len(tg.sent(READER_ID))
            tg.user_sends(READER_ID, f"/{spec.name} {ARGS.get(spec.name, '')}".strip())

            async def replied(start: int = start) -> bool:
                return len(tg.sent(READER_ID)) > start

            await eventually(replied)
            answers = [m.text for m in tg.sent(READER_ID)[start:]]
            assert len(answers) == 1, (spec.name, answers)
            assert answers[0] in refusals, (spec.name, answers)
            assert snapshot(settings.database_path) == before, f"/{spec.name} changed the db"

        # Each card kind words its refusal; every one of them says no.
        not_allowed = {
            text(key, "en")
            for key in ("review.not_allowed", "editors_only.decide", "editors_only.outbox")
        }
        message_id = tg.sent(READER_ID)[0].message_id
        pressed = 0
        for kind, (codec, extra) in EDITOR_CODECS.items():
            for action in actions(codec, extra):
                for row_id in (1, 2):
                    tg.press_forged(READER_ID, READER_ID, message_id, codec.encode(action, row_id))
                    pressed += 1

                    async def refused(n: int = pressed) -> bool:
                        return len(tg.answers) >= n

                    await eventually(refused)
                    answer = tg.answers[pressed - 1]
                    assert answer.text in not_allowed, (kind, action, answer)
                    assert answer.show_alert
                    assert snapshot(settings.database_path) == before, (kind, action)
        assert pressed >= 2 * 20
        del reply

    async with opened_store(settings.database_path) as store:
        denied = await store.list_audit(limit=500)
    kinds = {e.action for e in denied if e.actor == f"user:{READER_ID}"}
    assert kinds >= {"command.denied"}
    assert sum(e.actor == f"user:{READER_ID}" for e in denied) >= pressed


# ---- 3. no fetch outside the allow-list ----------------------------------------------

# Every module of the bot that builds an HTTP client or sends a request, and why; the
# scan below finds them, so a new one fails here until it is reviewed and listed.
MAY_REQUEST = {
    "bot/app.py": "builds the shared clients (feeds, publishers); sends nothing itself",
    "bot/roundup/service.py": "a client per roundup run, for the configured feeds",
    "bot/weekly/sources/feed.py": "reads the configured newsletter feeds",
    "bot/submissions/link_preview.py": "a reader's link, through bot.urls' check only",
    "publishers/github.py": "the GitHub REST API at the configured base URL",
    "publishers/x_client.py": "the X API at the configured base URL",
    "bot/ops/maintenance.py": "weeklybot healthcheck asks the bot's own /healthz on loopback",
}
BUILDERS = {"AsyncClient", "Client", "ClientSession", "AsyncHTTPTransport", "HTTPTransport"}
BUILDERS |= {"urlopen", "Request", "build_opener"}
LIBRARIES = {"httpx", "aiohttp", "urllib", "request", "requests", "http"}
METHODS = {"get", "post", "put", "patch", "delete", "request", "stream", "send", "head"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def http_calls(tree: ast.AST) -> set[str]:
    """Client constructions and request calls (on names that say http/client/session)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "urlopen":
            found.add("urlopen")
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        base, attr = _name(node.func.value), node.func.attr
        if attr in BUILDERS and base in LIBRARIES:
            found.add(f"{base}.{attr}")
        if attr in METHODS and any(k in base.lower() for k in ("http", "client", "session")):
            found.add(f"{base}.{attr}")
    return found


@functools.cache
def runtime_sources() -> tuple[tuple[str, ast.Module], ...]:
    found = []
    for package in ("bot", "handlers", "publishers", "data"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith("bot/fakes/"):  # the loopback fakes serve; not the bot
                found.append((rel, ast.parse(path.read_text(encoding="utf-8"))))
    return tuple(found)


def test_only_allow_listed_modules_make_http_requests() -> None:
    requesting = {
        rel: sorted(calls) for rel, tree in runtime_sources() if (calls := http_calls(tree))
    }
    assert set(requesting) == set(MAY_REQUEST), requesting
    assert requesting["bot/submissions/link_preview.py"]  # the scan sees real calls


def test_a_readers_link_is_fetched_only_through_the_bot_urls_check() -> None:
    import bot.submissions.link_preview as preview
    import bot.urls

    # The check it runs is the one bot.urls names (not a copy of it).
    assert preview.check_public_url is bot.urls.check_public_url
    tree = ast.parse(Path(preview.__file__).read_text(encoding="utf-8"))
    clients = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func) == "AsyncClient"
    ]
    assert len(clients) == 1
    keywords = {k.arg: k.value for k in clients[0].keywords}
    assert _name(keywords["transport"]) == "transport"  # the PinnedTransport below
    assert isinstance(keywords["trust_env"], ast.Constant)
    assert keywords["trust_env"].value is False  # no proxy from the environment
    assert isinstance(keywords["follow_redirects"], ast.Constant)
    assert keywords["follow_redirects"].value is False  # each hop is checked by hand
    assigned = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(_name(t) == "transport" for t in node.targets)
        and isinstance(node.value, ast.Call)
    ]
    assert [_name(call.func) for call in assigned] == ["PinnedTransport"]
    handler = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "handle_async_request"
    )
    assert "check_public_url" in {_name(n) for n in ast.walk(handler) if isinstance(n, ast.Name)}
    # A reader's text reaches an HTTP client only by way of fetch_preview.
    callers = {
        rel
        for rel, tree in runtime_sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func) == "fetch_preview"
    }
    assert callers == {"bot/submissions/intake.py"}
    senders = set(MAY_REQUEST) - {"bot/submissions/link_preview.py", "bot/app.py"}
    for rel, tree in runtime_sources():
        if rel not in senders:
            continue
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        readers = {m for m in imported if "submissions" in m or m.startswith("handlers")}
        assert not readers, f"{rel} sends requests and imports reader code: {readers}"
