"""Refused and suspicious issue files, from a real git repository to the editors' chat.

Issue 10, point 6: one message per file revision with the reason, across a replayed
poll and a restart; a new revision with a problem gets its own. Point 3: a language
whose file is refused after its issue's card went out shows on that card as refused,
and a fixed file later joins like any late language. Real git, the real PTB
Application, the fake Telegram.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.fakes.telegram import FakeTelegram
from bot.platforms import TELEGRAM, X
from bot.weekly.announce import event_sink, publish_event
from bot.weekly.ingest import (
    EventSink,
    FileNotice,
    Ingester,
    LanguageRefused,
    RepoPoll,
    backfill,
    poll_repo,
)
from bot.weekly.sources.git_repo import GitRepoSource, issue_path
from tests.conftest import EDITOR_ID
from tests.test_preview import EDITORS_GROUP, Bot, running
from tests.test_source_git import SUMMARY_251, Upstream, fixture_text, make_source

EN = issue_path(SUMMARY_251, "en")
BROKEN = b"# Python Trending Weekly #251\n\n\xff\xfe broken\n"  # byte 31 is not UTF-8
REFUSED_LINE = (
    "X (en): the en file was refused: not valid UTF-8 (byte 31); a fixed file follows this decision"
)


@dataclass
class Watch:
    """The bot watching `upstream`, as `bot.app` wires it: poll, then deliver to the sink."""

    upstream: Upstream
    source: GitRepoSource
    ingester: Ingester
    bot: Bot

    def sink(self) -> EventSink:
        return event_sink(self.bot.app.bot, self.bot.svc, self.bot.app.job_queue)

    async def poll(self) -> RepoPoll:
        return await poll_repo(self.source, self.ingester, self.sink())

    async def crash_before_the_cursor(self) -> None:
        """Plan, deliver and store what changed, then die before the cursor moves."""
        state = await self.bot.store.get_source_state(self.source.name)
        assert state is not None
        assert state.cursor is not None
        files = await self.source.changed_files(state.cursor, await self.source.fetch())
        await self.ingester.ingest(files, self.sink())

    def commit_bytes(self, path: str, data: bytes, message: str) -> None:
        target = self.upstream.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.upstream.commit(message)

    def commit_text(self, lang: str, text: str, message: str) -> None:
        self.upstream.write(issue_path(SUMMARY_251, lang), text)  # type: ignore[arg-type]
        self.upstream.commit(message)

    def told(self, head: str) -> list[str]:
        return [m.text or "" for m in self.bot.tg.sent(EDITORS_GROUP) if head in (m.text or "")]

    def cards(self) -> list[str]:
        return self.told("New issue #")


def watching(bot: Bot, upstream: Upstream, tmp_path: Path) -> Watch:
    source = make_source(tmp_path, upstream)
    return Watch(upstream, source, Ingester(bot.store, source_name=source.name), bot)


@pytest.fixture
def editors(fake_telegram: FakeTelegram) -> FakeTelegram:
    fake_telegram.add_group(EDITORS_GROUP, "Editors")
    fake_telegram.api.flood = None  # a burst to one group; pacing is not tested here
    return fake_telegram


@pytest.fixture
async def watch(editors: FakeTelegram, tmp_path: Path) -> AsyncIterator[Watch]:
    async with running(editors, tmp_path / "bot.db") as bot:
        watch = watching(bot, Upstream(tmp_path / "upstream"), tmp_path)
        assert (await watch.poll()).status == "baseline"
        yield watch


def en_with_a_warning() -> str:
    """The en summary whose count line says 4 articles where it lists 3."""
    text = fixture_text("en", SUMMARY_251)
    assert "Shared 3 articles" in text
    return text.replace("Shared 3 articles", "Shared 4 articles", 1)


# ---- point 6: one message per file revision ---------------------------------------


async def test_a_refused_revision_replayed_after_a_crash_is_told_once(watch: Watch) -> None:
    watch.commit_bytes(EN, BROKEN, "en, broken")
    await watch.crash_before_the_cursor()
    [told] = watch.told("File refused")
    assert EN in told
    assert "not valid UTF-8 (byte 31)" in told

    redo = await watch.poll()  # the restarted poll diffs the same revisions again
    assert redo.status == "ingested"
    assert len(watch.told("File refused")) == 1
    assert (await watch.poll()).status == "idle"
    assert len(watch.told("File refused")) == 1
    assert await watch.bot.queued() == []  # nothing is published from it


async def test_a_new_revision_with_a_problem_gets_its_own_message(watch: Watch) -> None:
    watch.commit_bytes(EN, BROKEN, "en, broken")
    await watch.poll()
    watch.commit_bytes(EN, BROKEN.replace(b"broken", b"still broken"), "en, broken again")
    await watch.poll()
    first, second = watch.told("File refused")
    blobs = {line.split("(blob ")[1][:10] for line in (first, second)}
    assert len(blobs) == 2  # each message names its own revision
    watch.commit_bytes(EN, BROKEN, "en, back to the first broken text")
    await watch.poll()
    assert len(watch.told("File refused")) == 2  # the same revision (blob) as the first


async def test_a_restart_between_delivering_and_the_cursor_tells_nobody_twice(
    editors: FakeTelegram, tmp_path: Path
) -> None:
    upstream = Upstream(tmp_path / "upstream")
    db_path = tmp_path / "bot.db"
    async with running(editors, db_path) as bot:
        watch = watching(bot, upstream, tmp_path)
        await watch.poll()  # baseline
        upstream.add_issue(SUMMARY_251, fixture_text("zh", SUMMARY_251), en_with_a_warning())
        upstream.commit("add weekly 251, the en count line wrong")
        await watch.crash_before_the_cursor()
        [warned] = watch.told("File parsed with warnings")
        assert "count line says 4 articles, found 3" in warned
        assert len(watch.cards()) == 1
    async with running(editors, db_path) as bot:  # the bot restarts on the same database
        watch = watching(bot, upstream, tmp_path)
        assert (await watch.poll()).status == "ingested"
        assert len(watch.told("File parsed with warnings")) == 1
        assert len(watch.cards()) == 1
        # A backfill reads the same revision from the branch: still told once.
        result = await backfill(watch.source, watch.ingester, 251, watch.sink())
        assert result.status == "ingested"
        assert len(watch.told("File parsed with warnings")) == 1


async def test_a_crash_part_way_through_telling_tells_only_the_chats_not_yet_told(
    watch: Watch,
) -> None:
    bot = watch.bot
    notices = bot.store.file_notices
    told = FileNotice(EN, "a" * 40, True, ("not valid UTF-8 (byte 31)",))
    untold = FileNotice(EN, "b" * 40, True, ("not valid UTF-8 (byte 31)",))
    now = dt.datetime.now(dt.UTC)
    for notice in (told, untold):  # both claimed, then the crash
        claim = await notices.claim(
            notice.path, notice.blob, refused=True, reasons=notice.reasons, now=now
        )
        assert claim is not None
        assert claim.told == frozenset()
    await notices.told_chat(told.path, told.blob, EDITORS_GROUP)  # sent and recorded
    for notice in (told, untold):  # the redo delivers both again
        await publish_event(notice, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)
    [message] = watch.told("File refused")
    assert "(blob bbbbbbbbbb)" in message
    assert await notices.is_told(told.path, told.blob)
    assert await notices.is_told(untold.path, untold.blob)
    claim = await notices.claim(untold.path, untold.blob, refused=True, reasons=(), now=now)
    assert claim is None  # finished: never again


# ---- point 3: a language refused after its card went out ------------------------------


async def zh_card_out(watch: Watch) -> int:
    watch.commit_text("zh", fixture_text("zh", SUMMARY_251), "add weekly 251 (zh)")
    await watch.poll()
    card = watch.bot.card()
    assert "X (en): waiting for the en file" in (card.text or "")
    return card.message_id


async def test_en_refused_after_the_zh_card_is_shown_on_it_then_the_fixed_file_joins(
    watch: Watch,
) -> None:
    bot = watch.bot
    card_id = await zh_card_out(watch)
    watch.commit_bytes(EN, BROKEN, "translate weekly 251, broken")
    result = await watch.poll()
    assert LanguageRefused(251, {"en": "not valid UTF-8 (byte 31)"}) in result.events
    assert len(watch.cards()) == 1  # the card is edited, not sent again
    card = bot.card()
    assert card.message_id == card_id
    assert card.edits == 1
    assert REFUSED_LINE in (card.text or "")
    assert "waiting for the en file" not in (card.text or "")
    assert "pv:now:1" in card.callback_data()  # still waiting for a decision
    assert len(watch.told("File refused")) == 1
    assert await bot.queued() == []

    watch.commit_text("en", fixture_text("en", SUMMARY_251), "fix the en file")
    await watch.poll()
    assert any("#251: x (en) arrived; added to preview 1." in t for t in watch.told("#251"))
    first, latest = watch.cards()  # the first card re-rendered, the full set sent again
    for text in (first, latest):
        assert "X (en): digest" in text
        assert "refused" not in text
        assert "waiting" not in text
    bot.press(EDITOR_ID, "pv:plan:1")
    assert await bot.answered() == "🗓 Scheduled as planned by you."
    assert {r.target for r in await bot.queued()} == {TELEGRAM, X}


async def test_en_refused_after_a_decision_then_fixed_follows_the_decision(
    watch: Watch,
) -> None:
    bot = watch.bot
    card_id = await zh_card_out(watch)
    bot.press(EDITOR_ID, "pv:plan:1")
    assert await bot.answered() == "🗓 Scheduled as planned by you."
    telegram_rows = len(await bot.queued())
    watch.commit_bytes(EN, BROKEN, "translate weekly 251, broken")
    await watch.poll()
    card = bot.card()
    assert card.message_id == card_id
    assert REFUSED_LINE in (card.text or "")
    assert "Scheduled as planned by @editor" in (card.text or "")  # the decision stays
    assert card.callback_data() == frozenset()  # and no buttons come back
    assert [r.target for r in await bot.queued()] == [TELEGRAM] * telegram_rows

    watch.commit_text("en", fixture_text("en", SUMMARY_251), "fix the en file")
    await watch.poll()
    x_rows = [r for r in await bot.queued() if r.target == X]
    assert "digest" in {r.kind for r in x_rows}
    assert any("queued as scheduled by @editor" in t for t in watch.told("#251"))
    card = bot.card()
    assert card.message_id == card_id
    assert len(watch.cards()) == 1
    assert "X (en): digest" in (card.text or "")
    assert "refused" not in (card.text or "")
    assert "Telegram (zh): digest" in (card.text or "")
    assert "Scheduled as planned by @editor" in (card.text or "")
    audit = await bot.store.list_audit(action="preview.late_language")
    assert len(audit) == 1


async def test_a_refused_file_of_a_language_already_there_leaves_the_card_alone(
    watch: Watch,
) -> None:
    bot = watch.bot
    watch.upstream.add_issue(
        SUMMARY_251, fixture_text("zh", SUMMARY_251), fixture_text("en", SUMMARY_251)
    )
    watch.upstream.commit("add weekly 251")
    await watch.poll()
    before = bot.card()
    watch.commit_bytes(EN, BROKEN, "en, broken by a later edit")
    await watch.poll()
    assert len(watch.told("File refused")) == 1  # told, as every refused revision
    after = bot.card()
    assert (after.text, after.edits) == (before.text, before.edits)  # X has its posts
