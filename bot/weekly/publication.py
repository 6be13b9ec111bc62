"""The publication workflow: what happens to a new issue and to a released full text.

No Telegram here: `bot.weekly.announce` sends the cards (`bot.editors.preview_cards`) and
`handlers.preview` reads the buttons; this module decides what is queued and when,
with the store.

- `NewIssue`, preview on (the default): the issue's posts are formatted once and kept in
  a preview; nothing is queued until an editor presses [Publish now] (the digest goes
  at once, the items per the plan), [Schedule as planned] (everything per the plan,
  timed at the press) or [Skip] (nothing). An editor may first replace the digest of
  one platform with their own text.
- `NewIssue`, preview off: the plan is queued at once.
- `FullTextReleased`: one "now free to read" notice per target with the issue's link
  (`on_full_text = "notice"`), keyed `release:<number>:<lang>`; the items are never
  posted again. `"nothing"` queues nothing.

Which language goes where is configuration, read through the registry of platforms
(`bot.platforms`): the channel gets `telegram.lang`, X gets
`x.lang`. Each (issue, language) is its own arrival: the English file often lands days
after the Chinese one. A target whose language has not arrived waits, and its card says
so; when the language lands, a preview still pending gains that target (its cards are
sent again), a preview already published or scheduled queues the new target by the same
decision (published: its digest now; scheduled: per the plan), and a skipped one queues
nothing; either way the preview records the target and its cards are re-rendered. A
language whose file the parser refused (`LanguageRefused`, or `NewIssue.refused`) is
shown on the card as refused, with the reason; nothing is queued for its targets until
a fixed file arrives, which is then a late language like any other. With previews off
each arrival queues its own targets' plan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.config import Settings
from bot.domain.issue import Lang
from bot.platforms import PLATFORMS, Platforms
from bot.texts import text
from bot.weekly.ingest import FullTextReleased, LanguageRefused, NewIssue
from bot.weekly.planning import (
    Plan,
    PlannedPost,
    QueuedItem,
    Schedule,
    edited_digest,
    plan_posts,
    plan_release,
    schedule_issue,
)
from bot.weekly.settings import PublishingSettings
from data.outbox import NewPost
from data.previews import Decision, Preview
from data.store import Store

log = logging.getLogger(__name__)

NEW_ISSUE_ACTION = "issue.new"  # audit action; the silence alarm reads the latest
FULL_TEXT_ACTION = "issue.full_text"  # audit action, with how the items paired
SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Route:
    """One target, the language of the issue it gets, and what it gets of it."""

    target: str
    lang: Lang
    plan: Plan


def routes(
    settings: Settings, publishing: PublishingSettings, platforms: Platforms = PLATFORMS
) -> tuple[Route, ...]:
    """Each registered target that is on and gets issue posts (the channel always; X when
    configured; never a target of readers' links only)."""
    pages = settings.repo.pages
    found = []
    for platform in platforms:
        chosen = platform.settings(settings, publishing) if platform.enabled(settings) else None
        if chosen is None:
            continue
        plan = Plan(
            platform.name, digest=chosen.digest, items=chosen.items, style=chosen.style, pages=pages
        )
        found.append(Route(platform.name, chosen.lang, plan))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Queued:
    """What was queued: new outbox ids, and when rows become due (for wake-ups)."""

    ids: tuple[int, ...] = ()
    due: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class NewIssueOutcome:
    preview: Preview | None = None  # editors must decide; show them its cards
    show_cards: bool = False  # a new preview, or one whose cards never went out
    queued: Queued = Queued()
    notice: str | None = None  # plain text for the editors: what a late language did
    refresh: bool = False  # re-render the preview's cards already sent (they show targets)


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    preview: Preview
    queued: Queued
    posts: tuple[NewPost, ...]


def validate_digest_text(target: str, digest: str, platforms: Platforms = PLATFORMS) -> str | None:
    """Why an editor's digest text cannot be posted on `target`, or None if it can."""
    platform = platforms[target]
    if not digest.strip():
        return text("digest.empty")
    return platform.validate(digest)


def _due(
    posts: Sequence[NewPost],
    ids: Sequence[int | None],
    now: dt.datetime,
    moves: Mapping[int, float] | None = None,
) -> Queued:
    new = [(post, i) for post, i in zip(posts, ids, strict=True) if i is not None]
    due = sorted(
        {
            post.not_before.timestamp()
            for post, _ in new
            if isinstance(post.not_before, dt.datetime) and post.not_before > now
        }
        | {at for at in (moves or {}).values() if at > now.timestamp()}  # moved rows wake too
    )
    return Queued(ids=tuple(i for _, i in new), due=tuple(due))


class Publication:
    """The workflow over one `Store`, configured once."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        publishing: PublishingSettings | None = None,
        *,
        platforms: Platforms = PLATFORMS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.publishing = publishing or settings.publishing
        self.platforms = platforms
        self.previews = store.previews

    @property
    def routes(self) -> tuple[Route, ...]:
        return routes(self.settings, self.publishing, self.platforms)

    # ---- new issue -------------------------------------------------------------

    async def on_new_issue(self, event: NewIssue, *, now: dt.datetime) -> NewIssueOutcome:
        """Keep a preview for the editors, or (preview off) queue the plan at once.

        Safe to call again with the same event: the preview, like the rows, is made once.
        An event that brings a language the preview lacks is a late arrival
        (`_late_language`).
        """
        planned: list[PlannedPost] = []
        langs: dict[str, str] = {}
        for route in self.routes:
            issue = event.issues.get(route.lang)
            if issue is None:
                log.info(
                    "a target waits for its language",
                    extra={"number": event.number, "target": route.target, "lang": route.lang},
                )
                continue
            langs[route.target] = route.lang
            planned += plan_posts(issue, route.plan, platforms=self.platforms)
        await self.store.append_audit(
            actor=SYSTEM,
            action=NEW_ISSUE_ACTION,
            subject=f"issue:{event.number}",
            details={"langs": sorted(event.issues)},
            now=now,
        )
        if not planned:
            return NewIssueOutcome()
        if not self.publishing.preview:
            timed = await self.schedule_with_moves(planned, now=now, publish_now=False)
            ids = await self.store.outbox.enqueue_many(timed.posts, now=now)
            await self.store.outbox.retime(timed.moves, now=now)
            return NewIssueOutcome(queued=_due(timed.posts, ids, now, timed.moves))
        existing = await self.previews.by_issue(event.number)
        if existing is not None and set(langs) - set(existing.langs):
            return await self._late_language(existing, langs, planned, now=now)
        preview, created = await self.previews.create(
            issue_number=event.number,
            langs=langs,
            plan=[p.to_json() for p in planned],
            now=now,
            refused={str(lang): why for lang, why in event.refused.items()},
        )
        unseen = preview.status == "pending" and not preview.cards
        return NewIssueOutcome(preview=preview, show_cards=created or unseen)

    async def _late_language(
        self,
        existing: Preview,
        langs: dict[str, str],
        planned: list[PlannedPost],
        *,
        now: dt.datetime,
    ) -> NewIssueOutcome:
        """A language landed after its issue's preview: add its targets, or follow the decision."""
        fresh = {t: lang for t, lang in langs.items() if t not in existing.langs}
        mine = [p for p in planned if p.post.target in fresh]
        names = ", ".join(text("late.target", target=t, lang=lang) for t, lang in fresh.items())
        head = text("late.head", number=existing.issue_number, targets=names)
        plan = [p.to_json() for p in mine]
        merged = await self.previews.add_targets(existing.id, fresh, plan, now=now)
        if merged is not None:
            return NewIssueOutcome(
                preview=merged,
                show_cards=True,
                notice=text("late.added", head=head, id=merged.id),
                refresh=True,
            )
        decided = await self.previews.get(existing.id)
        assert decided is not None  # previews are never deleted
        posts: list[NewPost] = []
        if decided.status != "skipped":
            posts = await self.schedule(mine, now=now, publish_now=decided.status == "published")
        followed = await self.previews.follow_decision(
            decided.id, fresh, plan, posts=posts, now=now, actor=SYSTEM
        )
        assert followed is not None  # decided, and decisions are final
        preview, ids = followed
        if decided.status == "skipped":
            return NewIssueOutcome(
                preview=preview,
                notice=text("late.skipped", head=head),
                refresh=True,
            )
        queued = _due(posts, ids, now)
        return NewIssueOutcome(
            preview=preview,
            queued=queued,
            notice=text(
                "late.queued",
                head=head,
                count=len(queued.ids),
                status=decided.status,
                who=decided.decided_by or text("who.an_editor"),
            ),
            refresh=True,
        )

    async def on_language_refused(
        self, event: LanguageRefused, *, now: dt.datetime
    ) -> NewIssueOutcome:
        """A known issue's language file was refused: its preview shows it, nothing is queued.

        The cards are re-rendered (`refresh`) whenever a target waits for a refused
        language, also on a re-delivery: re-rendering is idempotent, and a crash between
        recording and editing the cards must not leave them stale.
        """
        existing = await self.previews.by_issue(event.number)
        if existing is None:  # previews off, or an issue never previewed
            return NewIssueOutcome()
        preview = await self.previews.mark_refused(
            existing.id, {str(lang): why for lang, why in event.refused.items()}, now=now
        )
        assert preview is not None  # previews are never deleted
        waiting = {r.lang for r in self.routes if r.target not in preview.langs}
        shown = waiting & set(preview.refused)
        log.info(
            "a known issue's language was refused",
            extra={"number": event.number, "langs": sorted(event.refused), "shown": sorted(shown)},
        )
        return NewIssueOutcome(preview=preview, refresh=bool(shown))

    async def card_posts(self, preview: Preview, *, now: dt.datetime) -> list[NewPost]:
        """The posts a card shows: as they would be timed now while the preview waits;
        once decided, as queued or sent (the outbox's times)."""
        planned = self.planned(preview)
        if preview.status in ("pending", "skipped"):  # skipped: the plan it would have had
            return await self.schedule(planned, now=now, publish_now=False)
        posts: list[NewPost] = []
        for item in planned:
            row = await self.store.outbox.get_by_key(item.post.target, item.post.idempotency_key)
            if row is None:
                continue
            at = row.sent_at if row.sent_at is not None else row.next_attempt_at
            posts.append(
                dataclasses.replace(item.post, not_before=dt.datetime.fromtimestamp(at, dt.UTC))
            )
        return posts

    def planned(self, preview: Preview) -> list[PlannedPost]:
        """The preview's posts with the editors' digest texts in place of the formatted ones."""
        planned = [PlannedPost.from_json(raw) for raw in preview.plan]
        for target, edited in preview.edited.items():
            planned = edited_digest(planned, target, edited, platforms=self.platforms)
        return planned

    async def schedule(
        self, planned: Sequence[PlannedPost], *, now: dt.datetime, publish_now: bool
    ) -> list[NewPost]:
        """Time the posts, around the slots earlier issues' queued items already hold."""
        return (await self.schedule_with_moves(planned, now=now, publish_now=publish_now)).posts

    async def schedule_with_moves(
        self, planned: Sequence[PlannedPost], *, now: dt.datetime, publish_now: bool
    ) -> Schedule:
        """Time the posts; older issues' queued items that must yield get new times."""
        publishing = self.publishing
        return schedule_issue(
            planned,
            now=now,
            window=publishing.window(),
            publish_now=publish_now,
            digest_in_window=publishing.digest_in_window,
            queued=await self.queued_items(),
            spread_days=publishing.spread_days,
            max_per_day=publishing.max_items_per_day,
        )

    async def queued_items(self) -> list[QueuedItem]:
        """Every queued item row: the slots they hold, and whose issue they are."""
        return [
            QueuedItem(row.id, row.target, row.idempotency_key, row.next_attempt_at)
            for row in await self.store.outbox.list_by_state("queued", limit=100_000)
            if row.kind == "item"
        ]

    async def decide(
        self, preview_id: int, decision: Decision, *, actor: str, now: dt.datetime
    ) -> DecisionOutcome | None:
        """Settle a preview and queue accordingly; None if it was already decided."""
        preview = await self.previews.get(preview_id)
        if preview is None or preview.status != "pending":
            return None
        timed = Schedule(posts=[], moves={})
        if decision != "skipped":
            timed = await self.schedule_with_moves(
                self.planned(preview), now=now, publish_now=decision == "published"
            )
        posts = timed.posts
        decided = await self.previews.decide(
            preview_id, decision, actor=actor, now=now, posts=posts, moves=timed.moves
        )
        if decided is None:
            return None
        settled, ids = decided
        return DecisionOutcome(
            preview=settled, queued=_due(posts, ids, now, timed.moves), posts=tuple(posts)
        )

    # ---- full text released ----------------------------------------------------

    async def on_full_text_released(self, event: FullTextReleased, *, now: dt.datetime) -> Queued:
        """Queue one "now free to read" notice per target (never the items again).

        The audit log records, per language, how many summary items were matched to
        full items: what an editor checks when a release looks wrong (ingest warns
        about the unmatched ones as it pairs them).
        """
        await self.store.append_audit(
            actor=SYSTEM,
            action=FULL_TEXT_ACTION,
            subject=f"issue:{event.number}",
            details={
                lang: {
                    "paired": len(pairing.pairs),
                    "unmatched_summary": len(pairing.unmatched_summary),
                    "unmatched_full": len(pairing.unmatched_full),
                }
                for lang, pairing in sorted(event.pairings.items())
            },
            now=now,
        )
        if self.publishing.on_full_text == "nothing":
            return Queued()
        posts: list[NewPost] = []
        for route in self.routes:
            issue = event.issues.get(route.lang)
            notice = (
                None
                if issue is None
                else plan_release(
                    issue, route.target, pages=route.plan.pages, platforms=self.platforms
                )
            )
            if notice is None:
                log.warning(
                    "no release notice for a target",
                    extra={"number": event.number, "target": route.target, "lang": route.lang},
                )
                continue
            posts.append(notice)
        ids = await self.store.outbox.enqueue_many(posts, now=now)
        return _due(posts, ids, now)


DecisionName = Literal["now", "plan", "skip"]
DECISIONS: dict[DecisionName, Decision] = {
    "now": "published",
    "plan": "scheduled",
    "skip": "skipped",
}
