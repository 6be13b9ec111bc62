"""`weeklybot demo`: the whole bot, offline, against the bundled fakes.

The real PTB Application polls the fake Telegram Bot API, the real tweepy
client posts to the fake X API, the repository source fetches a local git
repository made on the spot, and every post goes through the real store and
outbox. Five acts:

1. a reader sends /start and /help;
2. the bundled sample issue (#901, full form) is ingested and published: a
   digest and every item, on the channel (zh) and on X (en);
3. the newsletter's repository (a local git repository holding #852 in summary
   form) gets three commits: "add weekly 902", a new issue in summary form in
   Chinese only, whose preview card (X waiting for the English file) the editor
   approves with [Publish now]; "translate weekly 902", the English file landing
   later, which reaches X by the same decision; then the full-text release of
   #852, which gets one "now free to read" post per platform; the reader in Chinese
   of act 5, who sent `/follow git 排期` before, gets one keyword alert listing the
   two items of #902 with those words (once, though #902 is queued twice);
4. a reader submits a link served by a local page (the fake web, through
   `submissions.preview_allow`), sends it again with tracking parameters (answered
   at once as a duplicate), presses the review card's Approve with a forged client
   (not allowed, nothing changes), and the editor approves: the link is posted on
   the channel and X, filed as an issue of the newsletter's repository in the fake
   GitHub, and the reader gets the channel post's link; then the reader's
   `/mysubmissions` lists it, on the channel, with that link;
5. a reader whose Telegram is in Chinese (`language_code` zh-hans) is answered in
   Chinese: /start, /submit, the receipt's buttons, the notice of the publication,
   sent hours later in real life without any update of theirs (the stored language),
   and /mysubmissions.
6. the extra edition: the editor sends `/extra <url>` (a reader trying it is told it is
   for editors), sees the post as each platform will get it, presses [🕒 Queue] and
   reads `/queue` with the planned time in the posting window; the demo then moves
   that planned time to now (it does not wait for the window) and the item is posted
   once on the channel and X, and leaves the queue.
7. the Sunday roundup, from local feeds (written for the demo, served by the fake
   web) of which one is down: the editor previews it with /roundup, then the
   roundup's clock is set just before Sunday 18:00 (Asia/Shanghai) and the real
   JobQueue posts it to the channel and tells the editor which newsletter is missing.
8. the editor asks /status (sources, outbox per target, X's quota, pauses, the
   extra-edition queue); a reader asking the same is told it is for editors.
9. the next issue's draft: the editor sends /draft and gets `draft-903.md` (sendDocument),
   the approved links and the extra-edition item since #902 in the newsletter's own
   format, credits as each reader chose; a reader asking is told it is for editors.
9. the archive: a reader's `/search asyncio` (the stored issues' items, linked, with
   their issue, date and section), and the zh reader's inline query `@bot 异步` (the
   results Telegram would list, in Chinese).

At the end it prints what each chat and X received, and the steps of acts 4 to 9.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from bot.app import Runtime, bot_running
from bot.config import NEWSLETTER_WEB_URL, Settings, settings_from_values
from bot.domain.issue import Issue
from bot.domain.parser import parse_issue
from bot.editors.outbox_cards import describe_counts
from bot.fakes.feeds import atom, rss
from bot.fakes.github import FakeGitHub
from bot.fakes.telegram import FakeTelegram
from bot.fakes.web import FakeWeb
from bot.fakes.x import FakeX
from bot.log import configure_logging
from bot.roundup.schedule import slot_after
from bot.weekly.planning import Plan, plan_issue
from bot.weekly.publication import routes

log = logging.getLogger(__name__)

DEMO_TOKEN = "424242:demo-token-not-a-secret-but-never-printed"  # noqa: S105 - fake only
X_KEYS = {
    "consumer_key": "demo-consumer-key",
    "consumer_secret": "demo-consumer-secret",
    "access_token": "4242-demo-access-token",
    "access_token_secret": "demo-access-token-secret",
}
GITHUB_TOKEN = "github_pat_demo_token_not_a_secret_but_never_printed"  # noqa: S105 - fake
GITHUB_REPO = "chinesehuazhou/python-weekly"
CHANNEL_ID = -1001000000042
CHANNEL_NAME = "pythontrendingweekly_demo"
READER_ID, EDITOR_ID = 1001, 2002
ZH_READER_ID = 1003  # a reader whose Telegram client is in Simplified Chinese
SAMPLE = "2026-11-21-weekly.md"  # #901, full form
NEW_ISSUE = "2026-11-28-weekly.md"  # #902, summary form
ALERT_WORDS = "git 排期"  # the zh reader's /follow: two items of #902 (a Latin word, a CJK one)
OLD_ISSUE = "2025-12-13-weekly.md"  # #852, summary first, then its full text
STEP_TIMEOUT = 20.0
# The reader's link: a name of the demo's own (resolved to the local fake web page).
DEMO_SITE = "blog.demo-weekly.example.com"
# Act 7's newsletters, each a feed of the fake web; the last one is down.
ROUNDUP_FEEDS = (
    ("PyCoder's Weekly", "pycoders"),
    ("Django News", "django-news"),
    ("Data Science Weekly", "dsw"),
)


class DemoClock:
    """The roundup's clock: wall-clock time plus an offset act 5 moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def set_now(self, when: float) -> None:
        self.offset = when - time.time()


def _sample_text(lang: str, name: str) -> str:
    folder = resources.files("bot").joinpath("samples").joinpath(lang)
    return folder.joinpath(name).read_text(encoding="utf-8")


def sample_issue(lang: str) -> Issue:
    """The bundled sample issue (written for this project, in the newsletter's style)."""
    return parse_issue(_sample_text(lang, SAMPLE), filename=f"{lang}/{SAMPLE}")


def demo_settings(
    tg: FakeTelegram,
    fx: FakeX,
    state: Path,
    upstream: Path,
    log_level: str,
    *,
    web_port: int = 0,
    github_url: str | None = None,
) -> Settings:
    github = (
        {}
        if github_url is None
        else {
            "github": {
                "repo": GITHUB_REPO,
                "token": GITHUB_TOKEN,
                "api_base_url": github_url,
                "min_spacing_seconds": 0,
            }
        }
    )
    return settings_from_values(
        {
            "telegram": {
                "token": DEMO_TOKEN,
                "api_base_url": tg.base_url,
                "channel_id": CHANNEL_ID,
                "editor_ids": (EDITOR_ID,),
                # Pacing sped up for the demo; the fake's limits are scaled to match.
                "posts_per_minute": 600,
                "min_spacing_seconds": 0.05,
            },
            "x": {"api_base_url": fx.base_url, **X_KEYS},
            # The demo polls the repository itself, once per act; no feeds offline.
            # The local repository stands in for the newsletter's: posts link to its page.
            "repo": {"url": str(upstream), "web_url": NEWSLETTER_WEB_URL, "poll_seconds": 3600},
            "feeds": {"urls": ()},
            "database_path": state / "weeklybot.db",
            "log_level": log_level,
            # For testing only: the preview may fetch the local page of act 4.
            "submissions": {"cooldown_seconds": 0, "preview_allow": ((DEMO_SITE, web_port),)},
            **github,
            "roundup": {
                "feeds": [
                    {"name": name, "url": f"http://127.0.0.1:{web_port}/feed/{path}"}
                    for name, path in ROUNDUP_FEEDS
                ],
                "retries": 0,
            },
        }
    )


def _demo_resolver(
    host: str, port: int, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
) -> list[tuple[Any, ...]]:
    """Resolves the demo's site to the local fake web; nothing else (the demo is offline)."""
    if host != DEMO_SITE:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]


async def wait_for(condition: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    """Poll a condition on a fake or the store (there is no event to await)."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        met = condition()
        if not isinstance(met, bool):
            met = await met
        if met:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo step timed out: {what}")
        await asyncio.sleep(0.05)


async def _outbox_idle(runtime: Runtime) -> bool:
    counts = await runtime.services.store.outbox.counts()
    return not any(states.get("queued") or states.get("sending") for states in counts.values())


async def run_demo(
    *,
    log_level: str = "WARNING",
    out: TextIO,
    observe: Callable[[FakeTelegram, FakeX, FakeGitHub, FakeWeb], None] | None = None,
) -> int:
    """The whole demo; `observe` sees the fakes at the end (tests/test_security.py)."""
    started = time.monotonic()
    configure_logging(log_level, secrets=[DEMO_TOKEN, GITHUB_TOKEN, *X_KEYS.values()])
    with tempfile.TemporaryDirectory(prefix="weeklybot-demo-") as tmp:
        upstream = Path(tmp) / "python-weekly"
        await _git_commit(upstream, "add weekly 852", {OLD_ISSUE: f"{OLD_ISSUE[:-3]}.summary.md"})
        async with (
            FakeTelegram(DEMO_TOKEN, limits_scale=30) as tg,
            FakeX(
                consumer_key=X_KEYS["consumer_key"],
                consumer_secret=X_KEYS["consumer_secret"],
                access_token=X_KEYS["access_token"],
                access_token_secret=X_KEYS["access_token_secret"],
            ) as fx,
            FakeWeb() as web,
            FakeGitHub(token=GITHUB_TOKEN, repo=GITHUB_REPO) as gh,
        ):
            tg.add_user(READER_ID, "Alice", "alice_reads")
            tg.add_user(EDITOR_ID, "Cat", "cat_edits")
            tg.add_user(ZH_READER_ID, "小明", "xiaoming_reads", language_code="zh-hans")
            tg.add_channel(CHANNEL_ID, username=CHANNEL_NAME, title="Python Trending Weekly (demo)")
            settings = demo_settings(
                tg,
                fx,
                Path(tmp),
                upstream,
                log_level,
                web_port=web.address[1],
                github_url=gh.base_url,
            )
            clock = DemoClock()
            async with bot_running(settings, resolver=_demo_resolver, clock=clock) as runtime:
                await _reader_talks(tg)
                await _publish_sample(runtime)
                await wait_for(partial(_outbox_idle, runtime), "the sample issue is published")
                await _reply_to(tg, ZH_READER_ID, f"/follow {ALERT_WORDS}")  # act 3's alert
                await _repository_act(runtime, tg, upstream)
                await wait_for(
                    lambda: any("第 902 期" in (m.text or "") for m in tg.sent(ZH_READER_ID)),
                    "the zh reader's keyword alert",
                )
                await wait_for(partial(_outbox_idle, runtime), "the release notice is posted")
                steps = await _submission_act(runtime, tg, fx, web)
                await wait_for(partial(_outbox_idle, runtime), "the submitted link is posted")
                await wait_for(lambda: bool(gh.issues()), "the GitHub issue is filed")
                steps.append(_github_step(gh))
                await _zh_reader_act(tg, web)
                await wait_for(partial(_outbox_idle, runtime), "the zh reader's link is posted")
                queue_steps = await _extra_act(runtime, tg, fx, web)
                await wait_for(partial(_outbox_idle, runtime), "the queued item is posted")
                roundup_steps = await _roundup_act(runtime, tg, web, clock)
                await wait_for(partial(_outbox_idle, runtime), "the roundup is posted")
                status = await _status_act(tg)
                draft = await _draft_act(tg)
                search_steps = await _search_act(tg)
                counts = await runtime.services.store.outbox.counts()
            seconds = time.monotonic() - started
            acts = (steps, queue_steps, roundup_steps, status, draft, search_steps)
            if observe is not None:
                observe(tg, fx, gh, web)
            out.write(_transcript(tg, fx, gh, counts, seconds, *acts))
    return 0


async def _reader_talks(tg: FakeTelegram) -> None:
    for command in ("/start", "/help"):
        wanted = len(tg.sent(READER_ID)) + 1
        tg.user_sends(READER_ID, command)
        await wait_for(partial(_has_messages, tg, READER_ID, wanted), f"reply to {command}")


def _has_messages(tg: FakeTelegram, chat_id: int, wanted: int) -> bool:
    return len(tg.sent(chat_id)) >= wanted


async def _publish_sample(runtime: Runtime) -> None:
    """Act 2: the sample issue goes straight to the outbox, digest and items."""
    store = runtime.services.store
    settings = runtime.services.settings
    rows = []
    now = time.time()
    platforms = runtime.services.platforms
    for route in routes(settings, settings.publishing, platforms):
        issue = sample_issue(route.lang)
        await store.issues.upsert(issue, now=now, source_path=f"docs/{route.lang}/{SAMPLE}")
        rows.extend(
            plan_issue(issue, [Plan(route.target, pages=settings.repo.pages)], platforms=platforms)
        )
    await store.outbox.enqueue_many(rows, now=now)
    runtime.services.delivery.wake()


async def _repository_act(runtime: Runtime, tg: FakeTelegram, upstream: Path) -> None:
    """Act 3: three commits land upstream, and the bot follows each.

    The repository already holds #852 in summary form when the bot starts: the
    first poll takes that as the baseline. Then "add weekly 902" brings a new
    issue in Chinese only (the editor approves its preview card; X waits), its
    English file lands later and goes to X as decided, then #852's full text is
    released (a "now free to read" post, never the items again).
    """
    await _poll(runtime, "baseline")
    cards_before = len(tg.sent(EDITOR_ID))
    await _git_commit(upstream, "add weekly 902", {NEW_ISSUE: NEW_ISSUE}, langs=("zh",))
    await _poll(runtime, "ingested")
    await wait_for(partial(_has_messages, tg, EDITOR_ID, cards_before + 1), "preview card")
    card = next(m for m in reversed(tg.sent(EDITOR_ID)) if "pv:now:" in str(m.reply_markup))
    data = next(d for d in card.callback_data() if d.startswith("pv:now:"))
    tg.press(EDITOR_ID, EDITOR_ID, card.message_id, data)
    await wait_for(
        lambda: tg.message(EDITOR_ID, card.message_id).edits > 0, "the card shows the decision"
    )
    await wait_for(partial(_outbox_idle, runtime), "issue #902 is published")
    await _git_commit(upstream, "translate weekly 902", {NEW_ISSUE: NEW_ISSUE}, langs=("en",))
    await _poll(runtime, "ingested")
    await wait_for(partial(_outbox_idle, runtime), "issue #902 reaches X")
    await _git_commit(upstream, "full text of weekly 852", {OLD_ISSUE: OLD_ISSUE})
    await _poll(runtime, "ingested")


async def _reply_to(tg: FakeTelegram, user_id: int, message: str) -> str:
    """The user sends `message` to the bot; the bot's next message to them."""
    before = len(tg.sent(user_id))
    tg.user_sends(user_id, message)
    await wait_for(partial(_has_messages, tg, user_id, before + 1), f"reply to {message}")
    return tg.sent(user_id)[before].text or ""


async def _answer_to(tg: FakeTelegram, press: Callable[[], object]) -> str:
    before = len(tg.answers)
    press()
    await wait_for(lambda: len(tg.answers) > before, "the button's answer")
    return tg.answers[before].text or ""


async def _submission_act(runtime: Runtime, tg: FakeTelegram, fx: FakeX, web: FakeWeb) -> list[str]:
    """Act 4: a reader's link, from /submit to the channel and X; the steps, as lines."""
    steps: list[str] = []
    url = web.add_page(
        "asyncio-tips", "Ten asyncio tips", "Small habits that keep event loops healthy."
    ).replace("127.0.0.1", DEMO_SITE)
    cards_before = len(tg.sent(EDITOR_ID))
    reply = await _reply_to(tg, READER_ID, f"/submit {url} Worth a read. level: intermediate")
    steps.append(f"reader: /submit {url}  ->  bot: {reply}")
    await wait_for(partial(_has_messages, tg, EDITOR_ID, cards_before + 1), "the review card")
    card = next(m for m in reversed(tg.sent(EDITOR_ID)) if "sub:1:ap:" in str(m.reply_markup))
    steps.append(f"editor's chat: review card #{card.message_id} after the page preview")
    again = await _reply_to(
        tg, READER_ID, f"/submit {url.replace('http://', 'https://')}?utm_source=x"
    )
    steps.append(f"reader: the same link again (https, utm_source)  ->  bot: {again}")
    approve = next(d for d in card.callback_data() if d.startswith("sub:1:ap:"))
    denied = await _answer_to(
        tg, lambda: tg.press_forged(READER_ID, EDITOR_ID, card.message_id, approve)
    )
    edits = tg.message(EDITOR_ID, card.message_id).edits
    posted = sum("Ten asyncio tips" in (m.text or "") for m in tg.sent(CHANNEL_ID))
    steps.append(
        f"reader (a non-editor, forged client) presses [{approve}]  ->  answer: {denied};"
        f" card edits: {edits}, channel posts of it: {posted}"
    )
    decided = await _answer_to(tg, lambda: tg.press(EDITOR_ID, EDITOR_ID, card.message_id, approve))
    steps.append(f"editor presses [✅ Approve]  ->  answer: {decided}")
    await wait_for(
        lambda: any(
            url in (m.text or "") or "Ten asyncio tips" in (m.text or "")
            for m in tg.sent(CHANNEL_ID)
        ),
        "the link on the channel",
    )
    await wait_for(lambda: any(url in p.text for p in fx.posts()), "the link on X")
    await wait_for(
        lambda: "is on the channel" in (tg.sent(READER_ID)[-1].text or ""), "the reader is told"
    )
    steps.append("channel and X: posted once each; reader: " + (tg.sent(READER_ID)[-1].text or ""))
    mine = await _reply_to(tg, READER_ID, "/mysubmissions")
    shown = " / ".join(line for line in mine.splitlines() if line)
    steps.append(f"reader: /mysubmissions  ->  bot: {shown}")
    return steps


async def _zh_reader_act(tg: FakeTelegram, web: FakeWeb) -> None:
    """Act 5: a reader in Chinese, from /start to the notice of their link's post and
    their /mysubmissions."""
    url = web.add_page(
        "pattern-matching", "Structural pattern matching in practice", "match/case, case by case."
    ).replace("127.0.0.1", DEMO_SITE)
    await _reply_to(tg, ZH_READER_ID, "/start")
    cards_before = len(tg.sent(EDITOR_ID))
    await _reply_to(tg, ZH_READER_ID, f"/submit {url} level: advanced")
    await wait_for(partial(_has_messages, tg, EDITOR_ID, cards_before + 1), "the zh review card")
    card = next(m for m in reversed(tg.sent(EDITOR_ID)) if "sub:1:ap:" in str(m.reply_markup))
    approve = next(d for d in card.callback_data() if d.startswith("sub:1:ap:"))
    await _answer_to(tg, lambda: tg.press(EDITOR_ID, EDITOR_ID, card.message_id, approve))
    await wait_for(
        lambda: "已发布到频道" in (tg.sent(ZH_READER_ID)[-1].text or ""), "the zh reader is told"
    )
    await _reply_to(tg, ZH_READER_ID, "/mysubmissions")


def _github_step(gh: FakeGitHub) -> str:
    filed = [f"#{i.number} {i.title!r} labels {i.labels}" for i in gh.issues()]
    return f"GitHub {gh.repo.full_name}: issue {', '.join(filed)} filed once"


async def _status_act(tg: FakeTelegram) -> list[str]:
    """Act 8: the editor's /status, and a reader's (refused)."""
    status = await _reply_to(tg, EDITOR_ID, "/status")
    refused = await _reply_to(tg, READER_ID, "/status")
    return [f"editor: /status →\n{status}", f"reader: /status → {refused}"]


async def _draft_act(tg: FakeTelegram) -> list[str]:
    """Act 9: the editor's /draft (a file), and a reader's (refused)."""
    before = len(tg.sent(EDITOR_ID))
    tg.user_sends(EDITOR_ID, "/draft")
    await wait_for(partial(_has_messages, tg, EDITOR_ID, before + 1), "the draft")
    sent = tg.sent(EDITOR_ID)[before]
    refused = await _reply_to(tg, READER_ID, "/draft")
    if sent.document is None:
        return [f"editor: /draft → {sent.text}", f"reader: /draft → {refused}"]
    markdown = sent.document.content.decode("utf-8")
    return [
        f"editor: /draft → file {sent.document.file_name} ({sent.document.size} bytes),"
        f" caption: {sent.caption}\n{markdown.rstrip()}",
        f"reader: /draft → {refused}",
    ]


async def _search_act(tg: FakeTelegram) -> list[str]:
    """Act 10: a reader searches the archive; the zh reader asks inline (`@bot 异步`)."""
    found = await _reply_to(tg, READER_ID, "/search asyncio")
    before = len(tg.inline_answers)
    tg.inline_query(ZH_READER_ID, "异步")
    await wait_for(lambda: len(tg.inline_answers) > before, "the inline query's answer")
    answer = tg.inline_answers[before]
    listed = [f"{r['title']} — {r.get('description', '')}" for r in answer.results]
    return [
        f"reader: /search asyncio →\n{found}",
        f"zh reader: @bot 异步 → {len(answer.results)} inline results"
        f" (cache_time {answer.cache_time}s):\n" + "\n".join(listed),
    ]


async def _extra_act(runtime: Runtime, tg: FakeTelegram, fx: FakeX, web: FakeWeb) -> list[str]:
    """Act 6: one extra-edition item through the queue; the steps, as lines."""
    steps: list[str] = []
    url = web.add_page(
        "walrus-operator", "The walrus operator, two years on", "Where := shines."
    ).replace("127.0.0.1", DEMO_SITE)
    refused = await _reply_to(tg, READER_ID, f"/extra {url}")
    steps.append(f"reader: /extra {url}  ->  bot: {refused}")
    tg.user_sends(EDITOR_ID, f"/extra {url} A tour of match, with care.")

    def extra_card() -> Any:  # the card: the editor's chat also gets review cards
        for message in reversed(tg.sent(EDITOR_ID)):
            if any(d.startswith("xq:1:") for d in message.callback_data()):
                return message
        return None

    await wait_for(lambda: extra_card() is not None, "the extra-edition card")
    card = extra_card()
    card_text = card.text or ""
    shown = card_text.replace("\n", " / ")
    steps.append(f"editor: /extra {url} A tour of match, with care.  ->  card: {shown}")
    steps.append("card buttons: " + " ".join(sorted(card.callback_data())))
    queue = next(d for d in card.callback_data() if d.startswith("xq:1:q:"))
    queued = await _answer_to(tg, lambda: tg.press(EDITOR_ID, EDITOR_ID, card.message_id, queue))
    steps.append(f"editor presses [🕒 Queue]  ->  answer: {queued}")
    listing = await _reply_to(tg, EDITOR_ID, "/queue")
    steps.append("editor: /queue  ->  " + listing.replace("\n", " / "))
    extra = runtime.services.extra
    (entry,) = await extra.queued()
    window = runtime.services.settings.publishing.window()
    opens = window.open_at_or_after(dt.datetime.fromtimestamp(entry.at, dt.UTC))
    inside = abs(opens.timestamp() - entry.at) < 1
    steps.append(
        f"planned {entry.at - time.time():.0f}s from now, inside the posting window: {inside};"
        f" rows: {', '.join(r.target for r in entry.rows)}, key {entry.item.outbox_key}"
    )
    now = dt.datetime.now(dt.UTC)
    outbox = runtime.services.store.outbox
    await outbox.retime({r.outbox_id: now.timestamp() for r in entry.rows}, now=now)
    runtime.services.delivery.wake()
    steps.append("demo: the planned time is moved to now (instead of waiting for it)")
    title = "The walrus operator, two years on"
    await wait_for(
        lambda: any(title in (m.text or "") for m in tg.sent(CHANNEL_ID)), "the item on the channel"
    )
    await wait_for(lambda: any(url in p.text for p in fx.posts()), "the item on X")
    await wait_for(partial(_outbox_idle, runtime), "the item's rows are sent")
    await extra.replan()
    posted = sum(title in (m.text or "") for m in tg.sent(CHANNEL_ID))
    on_x = sum(url in p.text for p in fx.posts())
    left = (await extra.summary()).length
    steps.append(f"channel posts of it: {posted}, X posts of it: {on_x}; left in the queue: {left}")
    return steps


async def _roundup_act(
    runtime: Runtime, tg: FakeTelegram, web: FakeWeb, clock: DemoClock
) -> list[str]:
    """Act 7: the Sunday roundup from local feeds, one of them down; the steps."""
    steps: list[str] = []
    options = runtime.services.settings.roundup
    slot = slot_after(options, dt.datetime.now(dt.UTC))
    days = dt.timedelta(days=1)
    web.add_feed(
        "pycoders",
        rss(
            "PyCoder's Weekly",
            [
                ("Sponsor: a hosted notebook", "https://pycoders.example/sponsor", slot - days),
                (
                    "Issue #712: async generators",
                    "https://pycoders.example/issues/712",
                    slot - 3 * days,
                ),
                ("Issue #711: packaging", "https://pycoders.example/issues/711", slot - 10 * days),
            ],
        ),
    )
    web.add_feed(
        "django-news",
        atom(
            "Django News",
            [("Issue 310 - Django 6.1", "https://django-news.example/310", slot - 2 * days)],
        ),
    )
    web.add_feed("dsw", rss("Data Science Weekly", []))
    web.fail_feed("dsw", 503)
    clock.set_now(slot.timestamp() - 3600)
    before = len(tg.sent(EDITOR_ID))
    tg.user_sends(EDITOR_ID, "/roundup")
    await wait_for(
        lambda: any("Left out:" in (m.text or "") for m in tg.sent(EDITOR_ID)[before:]),
        "the roundup preview",
    )
    steps.append(
        f"editor: /roundup an hour before {slot:%a %Y-%m-%d %H:%M %Z}  ->  bot:"
        f" {len(tg.sent(EDITOR_ID)) - before} messages (the post as it will be, who is left out)"
    )
    scheduler = runtime.roundup
    job_queue = runtime.application.job_queue
    if scheduler is None or job_queue is None:
        raise RuntimeError("demo: the roundup is not scheduled")
    posts_before = len(tg.sent(CHANNEL_ID))
    clock.set_now(slot.timestamp() - 0.5)
    scheduler.schedule(job_queue)
    steps.append("the roundup's clock is set half a second before the slot; the job queue fires")
    await wait_for(lambda: len(tg.sent(CHANNEL_ID)) > posts_before, "the roundup on the channel")
    await wait_for(
        lambda: "roundup of" in (tg.sent(EDITOR_ID)[-1].text or ""), "the editor's report"
    )
    report = (tg.sent(EDITOR_ID)[-1].text or "").replace("\n", " / ")
    steps.append(f"channel: the roundup, once; editor: {report}")
    return steps


async def _poll(runtime: Runtime, expected: str) -> None:
    # The bot's own scheduled poll may get there first: then this one is "idle".
    result = await runtime.watcher.poll_repo()
    if result is None or result.status not in (expected, "idle"):
        raise RuntimeError(f"demo: the repository poll went wrong: {result}")


async def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    process = await asyncio.create_subprocess_exec(
        "git",
        "-c",
        "user.name=Demo Editor",
        "-c",
        "user.email=editor@example.com",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {err.decode(errors='replace').strip()}")


async def _git_commit(
    repo: Path, message: str, files: dict[str, str], *, langs: tuple[str, ...] = ("zh", "en")
) -> None:
    """Commit sample files as `docs/<name>` (zh) and `docs/en/<name>` (en), in `langs`."""
    if not await asyncio.to_thread((repo / ".git").exists):
        await asyncio.to_thread((repo / "docs" / "en").mkdir, parents=True)
        await _git(repo, "init", "--quiet", "--initial-branch=main")
    for name, sample in files.items():
        for lang, folder in (("zh", repo / "docs"), ("en", repo / "docs" / "en")):
            if lang not in langs:
                continue
            text = _sample_text(lang, sample)
            await asyncio.to_thread((folder / name).write_text, text, encoding="utf-8")
    await _git(repo, "add", "docs")
    await _git(repo, "commit", "--quiet", "-m", message)


def _transcript(
    tg: FakeTelegram,
    fx: FakeX,
    gh: FakeGitHub,
    counts: dict[str, Any],
    seconds: float,
    steps: list[str],
    queue_steps: list[str],
    roundup_steps: list[str],
    status: list[str],
    draft: list[str],
    search_steps: list[str],
) -> str:
    lines = ["weeklybot demo: what each platform received", ""]
    chats = (
        (READER_ID, "Telegram private chat with the reader @alice_reads"),
        (ZH_READER_ID, "Telegram private chat with the reader @xiaoming_reads (zh-hans)"),
        (EDITOR_ID, "Telegram private chat with the editor @cat_edits"),
        (CHANNEL_ID, f"Telegram channel @{CHANNEL_NAME}"),
    )
    for chat_id, title in chats:
        lines += [f"=== {title} ===", ""]
        for message in tg.messages(chat_id):
            who = "bot" if message.from_bot else "user"
            body = message.text or ""
            if message.photo is not None:
                body = f"[photo {message.photo.ref}] {message.caption or ''}".rstrip()
            if message.document is not None:
                doc = message.document
                body = f"[file {doc.file_name}, {doc.size} bytes] {message.caption or ''}".rstrip()
            links = [e.url for e in (*message.entities, *message.caption_entities) if e.url]
            first = tg.history(chat_id, message.message_id)[0] if message.edits else message
            buttons = [
                f"[{b['text']}]"
                for row in (first.reply_markup or {}).get("inline_keyboard", [])
                for b in row
            ]
            edited = " (edited)" if message.edits else ""
            lines.append(f"[{who} #{message.message_id}{edited}] " + body.replace("\n", "\n    "))
            if links:
                lines.append("    links: " + " ".join(dict.fromkeys(links)))
            if buttons:
                shown = "buttons (before the decision)" if message.edits else "buttons"
                lines.append(f"    {shown}: " + " ".join(buttons))
            lines.append("")
    lines += ["=== X (@demo user) ===", ""]
    for post in fx.posts():
        thread = f" (reply to {post.reply_to})" if post.reply_to else ""
        lines += [f"[post {post.id}{thread}] " + post.text.replace("\n", "\n    "), ""]
    lines += [f"=== GitHub issues of {gh.repo.full_name} (fake) ===", ""]
    for issue in gh.issues():
        labels = f" [{', '.join(issue.labels)}]" if issue.labels else ""
        body_lines = [f"    {line}".rstrip() for line in (issue.body or "").split("\n")]
        lines += [f"[issue #{issue.number}{labels}] {issue.title}", *body_lines, ""]
    lines += ["=== The command menu per language (setMyCommands) ===", ""]
    for code, name in (("", "default (en)"), ("zh", "zh")):
        menu = tg.api.commands.get(tg.api.command_key({"language_code": code}), [])
        lines.append(f"{name}: " + " · ".join(f"/{c['command']} {c['description']}" for c in menu))
    lines.append("")
    lines += ["=== Act 4: a reader's link, step by step ===", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(steps, 1)]
    lines += ["", "=== Act 6: the extra edition's queue ===", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(queue_steps, 1)]
    lines += ["", "=== Act 7: the Sunday roundup, step by step ===", ""]
    lines += [f"{n}. {step}" for n, step in enumerate(roundup_steps, 1)]
    lines += ["", "=== Act 8: /status ===", ""]
    lines += [line.replace("\n", "\n    ") for line in status]
    lines += ["", "=== Act 9: the next issue's draft ===", ""]
    lines += [line.replace("\n", "\n    ") for line in draft]
    lines += ["", "=== Act 10: the archive: /search and an inline query ===", ""]
    lines += [line.replace("\n", "\n    ") for line in search_steps]
    lines.append("")
    summary = describe_counts(counts)
    lines += [
        f"outbox: {summary}",
        f"flood-limit violations seen by the fake Telegram: {len(tg.violations)}",
        f"demo finished in {seconds:.1f}s",
        "",
    ]
    return "\n".join(lines)
