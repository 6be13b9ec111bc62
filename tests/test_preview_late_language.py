"""A language that lands later, through the real PTB Application and the fake Telegram.

zh first: the card says X waits for en; en a week later joins the pending preview, or
follows the editors' decision (scheduled, published, skipped). Refused and suspicious
files get one message; files of old issues one list with a working [Backfill] button.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from bot.platforms import TELEGRAM, X
from bot.weekly.announce import publish_event
from bot.weekly.ingest import BackfillAvailable, FileNotice, LanguageRefused, NewIssue
from tests.conftest import EDITOR_ID, READER_ID
from tests.test_preview import EDITORS_GROUP, Bot, bot, issues, until

__all__ = ["bot"]  # the fixture, shared with test_preview


async def arrive(
    bot: Bot, *langs: str, number: int = 106, refused: dict[str, str] | None = None
) -> None:
    found = {lang: issue for lang, issue in issues(number).items() if lang in langs}
    event = NewIssue(
        number,
        dt.date(2025, 6, 7),
        MappingProxyType(found),  # type: ignore[arg-type]
        MappingProxyType(refused or {}),  # type: ignore[arg-type]
    )
    await publish_event(event, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)


def texts(bot: Bot) -> list[str]:
    return [m.text or "" for m in bot.tg.sent(EDITORS_GROUP)]


async def test_zh_first_the_card_says_x_waits_then_en_joins_the_pending_preview(bot: Bot) -> None:
    await arrive(bot, "zh")
    card = bot.card().text or ""
    assert "Telegram (zh)" in card
    assert "X (en): waiting for the en file" in card
    assert not any("X thread as it will be posted" in t for t in texts(bot))
    await arrive(bot, "en")  # a week later
    assert any("#106: x (en) arrived; added to preview 1." in t for t in texts(bot))
    card = bot.card().text or ""
    assert "X (en): digest" in card
    assert "waiting" not in card
    assert any("X thread as it will be posted" in t for t in texts(bot))
    bot.press(EDITOR_ID, "pv:plan:1")
    assert await bot.answered() == "🗓 Scheduled as planned by you."
    assert {r.target for r in await bot.queued()} == {TELEGRAM, X}


async def test_en_after_a_scheduled_decision_is_scheduled_the_same_way(bot: Bot) -> None:
    await arrive(bot, "zh")
    bot.press(EDITOR_ID, "pv:plan:1")
    assert await bot.answered() == "🗓 Scheduled as planned by you."
    assert {r.target for r in await bot.queued()} == {TELEGRAM}
    cards = len([t for t in texts(bot) if "New issue #" in t])
    await arrive(bot, "en")
    rows = [r for r in await bot.queued() if r.target == X]
    assert [r.kind for r in rows].count("digest") >= 1
    assert [r.kind for r in rows].count("item") == 4
    assert any("queued as scheduled by @editor [1001]" in t for t in texts(bot))
    assert len([t for t in texts(bot) if "New issue #" in t]) == cards  # no second card
    audit = await bot.store.list_audit(action="preview.late_language")
    assert len(audit) == 1
    await arrive(bot, "en")  # re-delivered: nothing twice
    assert len([r for r in await bot.queued() if r.target == X]) == len(rows)


async def test_en_after_publish_now_sends_its_digest_now(bot: Bot) -> None:
    await arrive(bot, "zh")
    bot.press(EDITOR_ID, "pv:now:1")
    await bot.answered()
    before = dt.datetime.now(dt.UTC).timestamp()
    await arrive(bot, "en")
    digests = [r for r in await bot.queued() if r.target == X and r.kind == "digest"]
    assert digests
    assert all(r.next_attempt_at <= before + 5 for r in digests)


async def test_en_after_a_skip_queues_nothing(bot: Bot) -> None:
    await arrive(bot, "zh")
    bot.press(EDITOR_ID, "pv:skip:1")
    await bot.answered()
    await arrive(bot, "en")
    assert await bot.queued() == []
    assert any("the issue was skipped, nothing is queued" in t for t in texts(bot))


async def test_en_first_then_zh(bot: Bot) -> None:
    await arrive(bot, "en")
    assert "Telegram (zh): waiting for the zh file" in (bot.card().text or "")
    await arrive(bot, "zh")
    preview = await bot.store.previews.get(1)
    assert preview is not None
    assert dict(preview.langs) == {X: "en", TELEGRAM: "zh"}


async def test_a_refused_file_is_told_once_and_nothing_is_published(bot: Bot) -> None:
    notice = FileNotice(
        "en/docs/2025-06-07-weekly.md", "ab12cd34ef56", True, ("not valid UTF-8 (byte 7)",)
    )
    await publish_event(notice, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)
    told = [t for t in texts(bot) if "File refused" in t]
    assert len(told) == 1
    assert "en/docs/2025-06-07-weekly.md" in told[0]
    assert "not valid UTF-8 (byte 7)" in told[0]
    assert await bot.queued() == []


async def test_old_issues_are_listed_once_and_backfill_makes_a_preview(bot: Bot) -> None:
    for issue in issues(90).values():
        await bot.store.issues.upsert(issue, now=0, source_path="docs/x.md", raw="")
    event = BackfillAvailable(((90, "en"), (90, "zh")))
    await publish_event(event, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)
    listing = [
        m for m in bot.tg.sent(EDITORS_GROUP) if "old issues stored quietly" in (m.text or "")
    ]
    assert len(listing) == 1
    assert listing[0].callback_data() == {"pv:bf:90"}
    assert not any("New issue #" in t for t in texts(bot))  # never announced as new
    bot.tg.press(READER_ID, EDITORS_GROUP, listing[0].message_id, "pv:bf:90")
    await until(lambda: len(bot.tg.answers) == 1)
    assert bot.tg.answers[-1].text == "Only editors can decide this."
    bot.tg.press(EDITOR_ID, EDITORS_GROUP, listing[0].message_id, "pv:bf:90")
    await until(lambda: len(bot.tg.answers) == 2)
    assert bot.tg.answers[-1].text == "Preview of #90 coming."
    await until(lambda: any("New issue #90" in t for t in texts(bot)))
    bot.tg.press(EDITOR_ID, EDITORS_GROUP, listing[0].message_id, "pv:bf:90")
    await until(lambda: len(bot.tg.answers) == 3)
    assert bot.tg.answers[-1].text == "#90 has a preview already (pending)."
    assert await bot.queued() == []


async def test_a_refused_language_is_shown_on_the_card_with_its_reason(bot: Bot) -> None:
    await arrive(bot, "zh", refused={"en": "not valid UTF-8 (byte 31)"})
    card = bot.card().text or ""
    assert "X (en): the en file was refused: not valid UTF-8 (byte 31)" in card
    await arrive(bot, "en")  # the fixed file
    preview = await bot.store.previews.get(1)
    assert preview is not None
    assert dict(preview.refused) == {}
    assert "refused" not in (bot.card().text or "")


async def test_a_late_refusal_delivered_twice_edits_the_card_once(bot: Bot) -> None:
    await arrive(bot, "zh")
    refusal = LanguageRefused(106, MappingProxyType({"en": "not an issue: no sections"}))
    for _ in range(2):  # a replayed poll delivers it again
        await publish_event(refusal, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)
    card = bot.card()
    assert "X (en): the en file was refused: not an issue: no sections" in (card.text or "")
    assert card.edits == 1  # the same text again is not an edit
    assert await bot.queued() == []


async def test_a_refusal_for_an_issue_without_a_preview_sends_nothing(bot: Bot) -> None:
    refusal = LanguageRefused(107, MappingProxyType({"en": "not valid UTF-8 (byte 3)"}))
    await publish_event(refusal, bot=bot.app.bot, svc=bot.svc, job_queue=bot.app.job_queue)
    assert texts(bot) == []
