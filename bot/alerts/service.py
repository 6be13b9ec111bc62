"""Keyword alerts: the readers' words, the two triggers, and the one message each.

Triggers. A new issue: `after_queued` is told the outbox ids an issue's decision (or,
with previews off, its arrival) just queued (`bot.weekly.announce.after_enqueue`, the
one place every issue's rows pass), reads their keys (`issue:<N>:<lang>:…`) and calls
`issue_published(N, lang)`; an issue older than the newest stored (a backfill) alerts
nobody. An extra-edition post: the delivery workers' `after_sent` hook hands every
sent row to `after_sent`, which takes an `extra` row (or a queued reader's link) and
calls `extra_sent` with its queue item.

Each reader is matched (`bot.alerts.match`, pure) against the issue in their own
language (`user_langs`), else the language that arrived, and gets one private message
through the outbox, target `readers` (`publishers.reader`: its own worker and pacer),
keyed `alert:<N>:<lang>:<user id>` (`alert:extra:<item>:<lang>:<user id>`): however often
a trigger runs, a reader hears once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from bot.alerts.match import (
    Candidate,
    ParsedWords,
    ReaderAlert,
    group_follows,
    parse_words,
    plan_alerts,
    split_words,
)
from bot.config import AlertsSettings
from bot.domain.issue import DELETED, Issue, Lang
from bot.texts import CHAT_LANGS, ChatLang, text
from data.alerts import Followed, FollowStore
from data.outbox import NewPost, OutboxRow
from data.store import Store
from publishers.limits import TELEGRAM_TEXT_MAX, telegram_length
from publishers.reader import READERS_TARGET, ReaderMessage
from publishers.telegram_html import escape, link

log = logging.getLogger(__name__)

ALERT_KIND = "alert"
_ALERTED_KINDS = ("extra", "submission")  # a sent row of these may be an extra-edition post


def alert_key(number: int, lang: str, user_id: int) -> str:
    return f"alert:{number}:{lang}:{user_id}"


def extra_alert_key(item_id: int, lang: str, user_id: int) -> str:
    return f"alert:extra:{item_id}:{lang}:{user_id}"


def _prefix(key: str) -> str:
    """`alert:106:` of `alert:106:zh:42`: what every language's key of it begins with."""
    return key.rsplit(":", 2)[0] + ":"


def word_list(words: Sequence[str], lang: ChatLang) -> str:
    """Words as a reader's language lists them: 爬虫、git / asyncio, git."""
    return ("、" if lang == "zh" else ", ").join(words)


def candidates_of(issue: Issue) -> tuple[Candidate, ...]:
    """An issue's items as alerts read them (deleted placeholders left out)."""
    return tuple(
        Candidate(item.title, item.url, item.description, section.kind)
        for section, item in issue.items()
        if DELETED not in item.flags
    )


def alert_html(alert: ReaderAlert, lang: ChatLang, *, number: int | None, max_items: int) -> str:
    """The alert's text (Telegram HTML): a head, one line per item, the rest counted.

    `number` None: an extra-edition post. Lines that would pass Telegram's length are
    counted with the rest (the count points to `/issue N`)."""
    head = (
        text("alert.issue_head", lang, number=number)
        if number is not None
        else text("alert.extra_head", lang)
    )
    footer = text("alert.footer", lang)
    lines: list[str] = []
    for hit in alert.hits[:max_items]:
        title = hit.candidate.title or hit.candidate.url or "?"
        shown = link(hit.candidate.url, title) if hit.candidate.url else escape(title)
        line = text("alert.line", lang, link=shown, words=escape(word_list(hit.words, lang)))
        trial = "\n".join([head, *lines, line, "", footer])
        if telegram_length(trial) > TELEGRAM_TEXT_MAX - 100:  # room for the count line
            break
        lines.append(line)
    left = len(alert.hits) - len(lines)
    if left > 0 and number is not None:
        lines.append(text("alert.more", lang, count=left, number=number))
    return "\n".join([head, *lines, "", footer])


@dataclass(frozen=True, slots=True)
class FollowOutcome:
    parsed: ParsedWords
    followed: Followed | None  # None: no word was fit to follow


class AlertService:
    """What the handlers and the triggers call; one per run (`BotServices.alerts`)."""

    def __init__(
        self,
        store: Store,
        settings: AlertsSettings,
        *,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.settings = settings
        self.follows = FollowStore(store.db)
        self._wake = wake
        self._clock = clock

    # ---- a reader's words -----------------------------------------------------------

    async def follow(self, user_id: int, raw: str) -> FollowOutcome:
        parsed = parse_words(raw, max_length=self.settings.max_word_length)
        if not parsed.words:
            return FollowOutcome(parsed, None)
        followed = await self.follows.follow(
            user_id, parsed.words, limit=self.settings.max_follows, now=self._clock()
        )
        return FollowOutcome(parsed, followed)

    async def unfollow(self, user_id: int, raw: str) -> tuple[str, ...]:
        """The reader's words named in `raw` (folded as `/follow` folds); those removed."""
        return await self.follows.unfollow(user_id, words=split_words(raw))

    # ---- the triggers -----------------------------------------------------------------

    async def after_queued(
        self, ids: Sequence[int], *, issues: Mapping[Lang, Issue] | None = None
    ) -> int:
        """Rows were queued: alert for each (issue, language) among them, once.
        `issues`: the new issue's, before the store holds them (ingest stores after)."""
        seen: dict[tuple[int, str], None] = {}
        for outbox_id in ids:
            row = await self.store.outbox.get(outbox_id)
            if row is None:
                continue
            parts = row.idempotency_key.split(":")
            if len(parts) >= 3 and parts[0] == "issue" and parts[1].isdigit():
                seen[(int(parts[1]), parts[2])] = None
        sent = 0
        for number, lang in seen:
            if lang in CHAT_LANGS:
                known = {k: v for k, v in (issues or {}).items() if v.number == number}
                sent += await self.issue_published(number, cast(Lang, lang), issues=known)
        return sent

    async def after_sent(self, row: OutboxRow) -> int:
        """A row went out: an extra-edition post's alerts (its other targets' rows and
        a replay find them queued already)."""
        if row.kind not in _ALERTED_KINDS:
            return 0
        item = await self.follows.extra_item(row.idempotency_key)
        if item is None:
            return 0
        return await self.extra_sent(item.id, Candidate(item.title, item.url, item.comment))

    async def issue_published(
        self, number: int, lang: Lang, *, issues: Mapping[Lang, Issue] | None = None
    ) -> int:
        """Queue the alerts of issue `number` (arrived in `lang`); how many were new.
        `issues`: its languages known already (else read from the store)."""
        if not self.settings.enabled:
            return 0
        newest = [await self.store.issues.latest_number(code) for code in CHAT_LANGS]
        if any(n is not None and n > number for n in newest):
            log.info("no alerts for an older issue", extra={"number": number})
            return 0
        known: dict[Lang, Issue] = dict(issues or {})
        for code in CHAT_LANGS:
            if code not in known:
                found = await self.store.issues.load(number, code)
                if found is not None:
                    known[code] = found
        arrived = known.get(lang)
        if arrived is None:
            return 0
        posts: list[NewPost] = []
        told = await self.follows.alerted(_prefix(alert_key(number, lang, 0)))
        for reader_lang, follows in (await self._followers(told)).items():
            issue = known.get(reader_lang, arrived)
            for alert in plan_alerts(follows, candidates_of(issue)):
                html = alert_html(
                    alert, reader_lang, number=number, max_items=self.settings.max_items
                )
                key = alert_key(number, reader_lang, alert.user_id)
                posts.append(self._post(key, alert.user_id, html))
        return await self._enqueue(posts)

    async def extra_sent(self, item_id: int, candidate: Candidate) -> int:
        if not self.settings.enabled:
            return 0
        posts: list[NewPost] = []
        told = await self.follows.alerted(_prefix(extra_alert_key(item_id, "en", 0)))
        for reader_lang, follows in (await self._followers(told)).items():
            for alert in plan_alerts(follows, (candidate,)):
                html = alert_html(alert, reader_lang, number=None, max_items=1)
                key = extra_alert_key(item_id, reader_lang, alert.user_id)
                posts.append(self._post(key, alert.user_id, html))
        return await self._enqueue(posts)

    async def _followers(self, told: frozenset[int]) -> dict[ChatLang, Mapping[int, Sequence[str]]]:
        """Each language's readers and their words, but those `told` already."""
        rows = await self.follows.followers()
        by_lang: dict[ChatLang, list[tuple[int, str]]] = {}
        for row in (r for r in rows if r.user_id not in told):
            lang: ChatLang = "zh" if row.lang == "zh" else "en"
            by_lang.setdefault(lang, []).append((row.user_id, row.word))
        return {lang: group_follows(pairs) for lang, pairs in by_lang.items()}

    @staticmethod
    def _post(key: str, user_id: int, html: str) -> NewPost:
        payload = ReaderMessage(user_id, html).to_payload()
        return NewPost(key, READERS_TARGET, ALERT_KIND, payload)

    async def _enqueue(self, posts: Sequence[NewPost]) -> int:
        if not posts:
            return 0
        ids = await self.store.outbox.enqueue_many(posts, now=self._clock())
        new = sum(1 for i in ids if i is not None)
        if new:
            log.info("alerts queued", extra={"count": new})
            self._wake()
        return new
