"""The platform registry: a third target is one `Platform`, and unknown ones are errors.

A toy target is registered in a few lines (`toy_platform`) and then planned (its
outbox rows), previewed (its digest quoted before the card, its line and its [Edit]
button on the card, the real PTB Application against the fake Telegram) and
delivered (the worker `build_workers` gives it publishes to a recording publisher).
No module of the bot was told about it.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from telegram.ext import ApplicationBuilder

from bot.app import build_workers
from bot.delivery.workers import DeliveryPool
from bot.domain.issue import IssuePages
from bot.editors.outbox_cards import preview as card_preview
from bot.fakes.telegram import FakeTelegram
from bot.platforms import (
    GITHUB,
    PLATFORMS,
    TELEGRAM,
    Delivery,
    Platform,
    Platforms,
    TargetSettings,
    UnknownTarget,
    X,
)
from bot.weekly.announce import publish_event
from bot.weekly.ingest import NewIssue
from bot.weekly.planning import Plan, plan_posts, plan_release
from bot.weekly.publication import routes, validate_digest_text
from data.db import Database
from data.migrations import migrate
from data.store import Store
from handlers.context import App, BotServices, attach
from handlers.preview import add_publication_handlers
from publishers.base import Receipt
from publishers.pacing import TelegramPacer
from tests.conftest import EDITOR_ID
from tests.delivery_support import step_until_idle
from tests.factories import make_issue
from tests.test_preview import EDITORS_GROUP, T0, issues, settings_for, until

# ---- the toy target: a post type, a recording publisher, one Platform ----------------

PAGES = IssuePages("https://github.com/chinesehuazhou/python-weekly")


@dataclass(frozen=True, slots=True)
class ToyPost:
    text: str

    def to_payload(self) -> dict[str, Any]:
        return {"platform": "toy", "text": self.text}


def read_toy(payload: Mapping[str, Any]) -> ToyPost:
    if payload.get("platform") != "toy":
        raise ValueError(f"not a toy payload: {payload.get('platform')!r}")
    return ToyPost(str(payload["text"]))


class RecordingPublisher:
    target = "toy"
    resend_is_safe = False

    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish(
        self, payload: Mapping[str, Any], *, reply_to: str | None = None, after_doubt: bool = False
    ) -> Receipt:
        self.published.append(read_toy(payload).text)
        return Receipt(remote_id=f"toy-{len(self.published)}")


def toy_platform(recorder: RecordingPublisher) -> Platform:
    """Everything the bot needs to know of a target, in one value."""
    return Platform(
        name="toy",
        display="Toy",
        settings=lambda settings, publishing: TargetSettings("en"),
        format_digest=lambda issue, url, style: (ToyPost(f"toy digest #{issue.number}"),),
        format_item=lambda item, kind, issue, url: ToyPost(f"toy {kind}: {item.title}"),
        format_release=lambda issue, url: ToyPost(f"#{issue.number} is free: {url}"),
        read=read_toy,
        visible_text=lambda payload: read_toy(payload).text,
        validate=lambda text: None if len(text) <= 40 else f"Too long for Toy: {len(text)}/40.",
        edit_rule="at most 40 characters",
        edited_digest=lambda first, text: (ToyPost(text),),
        pacer=lambda settings: TelegramPacer(posts_per_minute=6000),
        build=lambda wiring, pacer: Delivery(recorder, pacer),
        badge="🧸",
    )


# ---- pure: planning and the registry's errors ---------------------------------------


def test_a_registered_target_is_planned_and_released() -> None:
    platforms = PLATFORMS.with_platform(toy_platform(RecordingPublisher()))
    issue = issues()["en"]
    planned = plan_posts(issue, Plan("toy"), platforms=platforms)
    assert [(p.post.kind, p.post.payload["text"]) for p in planned] == [
        ("digest", "toy digest #106"),
        *[("item", f"toy projects: {i.title}") for _, i in issue.items()],
    ]
    assert {p.post.target for p in planned} == {"toy"}
    assert [p.slot for p in planned] == [None, 0, 1, 2, 3]
    full = make_issue({"projects": []}, number=60, lang="en")
    notice = plan_release(full, "toy", pages=PAGES, platforms=platforms)
    assert notice is not None
    assert notice.payload["text"].startswith("#60 is free: https://github.com/")


def test_the_registry_keeps_its_order_and_refuses_a_second_platform_of_one_name() -> None:
    assert PLATFORMS.names == (TELEGRAM, X, GITHUB)
    toy = toy_platform(RecordingPublisher())
    assert PLATFORMS.with_platform(toy).names == (TELEGRAM, X, GITHUB, "toy")
    assert PLATFORMS.names == (TELEGRAM, X, GITHUB)  # adding made a new registry
    with pytest.raises(ValueError, match="share a name"):
        Platforms([toy, toy])


def test_an_unknown_target_is_an_error_never_x() -> None:
    issue = issues()["en"]
    known = "known: telegram, x, github"
    with pytest.raises(UnknownTarget, match=f"unknown target 'mastodon' \\({known}\\)"):
        PLATFORMS["mastodon"]
    with pytest.raises(UnknownTarget):
        plan_posts(issue, Plan("mastodon"))
    with pytest.raises(UnknownTarget):
        plan_release(make_issue({"projects": []}, number=60, lang="en"), "mastodon", pages=PAGES)
    with pytest.raises(UnknownTarget):
        validate_digest_text("mastodon", "hello")
    assert PLATFORMS.get("mastodon") is None
    assert "mastodon" not in PLATFORMS


def test_the_toy_target_has_its_own_edit_rule() -> None:
    platforms = PLATFORMS.with_platform(toy_platform(RecordingPublisher()))
    assert validate_digest_text("toy", "short", platforms) is None
    assert validate_digest_text("toy", "x" * 41, platforms) == "Too long for Toy: 41/40."
    assert validate_digest_text("toy", "  ", platforms) == "The text is empty."


# Where the workflow, the cards, delivery and the wiring live: they loop over the
# registry, so no target's name is written there (settings, fakes and the demo may).
LOOPING = (
    "bot/weekly",
    "bot/editors",
    "bot/delivery",
    "handlers",
    "bot/app.py",
    "bot/ops/dry_run.py",
)


def test_no_module_that_loops_over_the_registry_names_a_platform() -> None:
    root = Path(__file__).resolve().parent.parent
    names = {n for p in PLATFORMS for n in (p.name, p.display)}
    found = []
    for base in LOOPING:
        path = root / base
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in names:
                    found.append(f"{file.relative_to(root)}:{node.lineno} {node.value!r}")
    assert found == []


# ---- through the real Application: previewed, decided, delivered --------------------


@dataclass
class Running:
    tg: FakeTelegram
    app: App
    svc: BotServices
    recorder: RecordingPublisher


@pytest.fixture
async def running(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Running]:
    fake_telegram.add_group(EDITORS_GROUP, "Editors")
    fake_telegram.api.flood = None
    settings = settings_for(fake_telegram, tmp_path / "bot.db")
    recorder = RecordingPublisher()
    platforms = PLATFORMS.with_platform(toy_platform(recorder))
    async with Database.open(settings.database_path) as db:
        await migrate(db, now=T0)
        svc = BotServices(
            settings=settings, store=Store(db), delivery=DeliveryPool(), platforms=platforms
        )
        app: App = (
            ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.base_url).build()  # type: ignore[assignment]
        )
        attach(app, svc)
        add_publication_handlers(app)
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield Running(fake_telegram, app, svc, recorder)
            finally:
                await app.updater.stop()
                await app.stop()


async def test_a_toy_target_is_previewed_planned_and_delivered(running: Running) -> None:
    tg, svc = running.tg, running.svc
    assert [r.target for r in routes(svc.settings, svc.settings.publishing, svc.platforms)] == [
        TELEGRAM,
        X,
        "toy",
    ]
    event = NewIssue(106, dt.date(2025, 6, 7), MappingProxyType(issues()))
    await publish_event(event, bot=running.app.bot, svc=svc, job_queue=running.app.job_queue)

    # Previewed: its digest quoted before the card, its line on the card.
    texts = [m.text or "" for m in tg.sent(EDITORS_GROUP)]
    (quoted,) = [t for t in texts if "Toy thread as it will be posted" in t]
    assert quoted.startswith("🧸 Toy thread as it will be posted (1 post):")
    assert "toy digest #106" in quoted
    card = next(m for m in reversed(tg.sent(EDITORS_GROUP)) if "New issue #" in (m.text or ""))
    assert card.text is not None
    (line,) = [line for line in card.text.splitlines() if line.startswith("• Toy (en): ")]
    assert "digest in 1 post at" in line
    assert "; 4 items, 3 a day," in line

    # Its [Edit Toy] button is built from the registry, and its prompt names its rule.
    tg.press(EDITOR_ID, EDITORS_GROUP, card.message_id, "pv:edit:1")
    await until(lambda: "pv:ed:toy:1" in tg.message(EDITORS_GROUP, card.message_id).callback_data())
    assert tg.message(EDITORS_GROUP, card.message_id).callback_data() == {
        "pv:ed:telegram:1",
        "pv:ed:x:1",
        "pv:ed:toy:1",
        "pv:back:1",
    }
    tg.press(EDITOR_ID, EDITORS_GROUP, card.message_id, "pv:ed:toy:1")
    await until(lambda: "(at most 40 characters)" in (tg.sent(EDITORS_GROUP)[-1].text or ""))
    tg.user_sends(EDITOR_ID, "Toy #106, edited", chat_id=EDITORS_GROUP)
    await until(lambda: "Saved" in (tg.sent(EDITORS_GROUP)[-1].text or ""))
    assert tg.sent(EDITORS_GROUP)[-1].text == "Saved: this is now the Toy digest of the card."

    # Planned: [Publish now] (back on the card once it is redrawn) queues its rows.
    await until(lambda: "pv:now:1" in tg.message(EDITORS_GROUP, card.message_id).callback_data())
    answers = len(tg.answers)
    tg.press(EDITOR_ID, EDITORS_GROUP, card.message_id, "pv:now:1")
    await until(lambda: len(tg.answers) > answers)
    rows = await svc.store.outbox.list_by_state("queued", limit=1000)
    toy = [r for r in rows if r.target == "toy"]
    assert [(r.kind, r.payload["text"]) for r in toy][:1] == [("digest", "Toy #106, edited")]
    assert [r.kind for r in toy] == ["digest", "item", "item", "item", "item"]
    assert card_preview(toy[0], svc.platforms) == "Toy #106, edited"
    assert card_preview(toy[0]).startswith("(unreadable payload: unknown target 'toy'")

    # Delivered: the worker built for it publishes the due digest to its publisher.
    workers = build_workers(
        svc.settings, svc.store, running.app, None, dry_run=False, platforms=svc.platforms
    )
    assert [w.target for w in workers] == [TELEGRAM, "toy"]  # X has no client here
    assert await step_until_idle(workers[1]) == 1  # the items wait for their slots
    assert running.recorder.published == ["Toy #106, edited"]
    sent = await svc.store.outbox.list_by_state("sent", limit=10)
    assert [(r.target, r.remote_id) for r in sent] == [("toy", "toy-1")]

    dry = build_workers(
        svc.settings, svc.store, running.app, None, dry_run=True, platforms=svc.platforms
    )
    assert [w.target for w in dry] == [TELEGRAM, X, "toy"]
