"""The editors' statistics: `/stats` and `/stats season N` (issue 15, part 7).

The facts (`data.stats`) over a real migrated database, the pure summaries
(`bot.stats.model`), the pictures (valid PNGs of sensible size, the word cloud's
Chinese words drawn by a font that has them), the font lookup and its clear refusals,
the fake Telegram's photo rules, and both commands through the real PTB Application
and the fake Telegram: an editor gets text and pictures, anyone else is refused, a
season with nothing stored gets one clear line.
"""

from __future__ import annotations

import datetime as dt
import struct
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib
import pytest
import telegram
from telegram.error import BadRequest

import handlers.stats
from bot.app import Runtime, bot_running
from bot.domain.issue import SECTION_KINDS, Item, SectionKind
from bot.domain.parser import parse_issue
from bot.domain.urls import dedupe_key
from bot.fakes.telegram import FakeTelegram
from bot.fakes.telegram_model import ChatMessage
from bot.stats import charts, fonts
from bot.stats.model import (
    ANONYMOUS,
    editor_stats,
    season_range,
    season_stats,
)
from bot.stats.render import editor_summary
from bot.stats.words import STOP_WORDS, title_words
from bot.texts import text
from data.db import Database
from data.migrations import migrate
from data.outbox import NewPost
from data.readers import ReaderStore
from data.stats import SeasonItem, SentCount, StatsStore, SubmissionFact
from data.store import Store
from data.submissions import Gate, NewSubmission, Submission, SubmissionStore
from publishers.image_size import PNG_SIGNATURE, image_size
from publishers.limits import TELEGRAM_TEXT_MAX
from tests.conftest import EDITOR_ID, READER_ID, settings_for
from tests.delivery_support import eventually
from tests.factories import make_issue, make_item
from tests.images import png_header
from tests.parser_support import corpus_path

T0 = 1_765_000_000.0  # 2025-12-06, a Saturday
ZONE = ZoneInfo("Asia/Shanghai")
OTHER_ID = 1003  # neither an editor nor a submitter
SMALL = charts.Look(dpi=30, cloud_px=300)  # small pictures keep the tests fast
# Matplotlib's own DejaVu: a real font with no Chinese, the negative control.
DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"

ZH_TITLES = (
    "异步爬虫框架的新特性",
    "使用 Golang 和 Docker 运行 Python 代码",
    "爬虫与异步编程：一份实践指南",
    "类型检查器对比：Ty、Pyrefly 与 Zuban",
)


def assert_png(data: bytes, *, min_side: int = 100, max_side: int = 4000) -> tuple[int, int]:
    """A valid PNG header (signature, IHDR first with length 13) of sensible size."""
    assert data[:8] == PNG_SIGNATURE
    (length,) = struct.unpack(">I", data[8:12])
    assert length == 13
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert min_side <= width <= max_side
    assert min_side <= height <= max_side
    assert width + height <= 10_000  # Telegram's photo rule
    assert max(width, height) <= 20 * min(width, height)
    assert 1_000 < len(data) < 2_000_000
    assert data.endswith(b"IEND\xaeB`\x82")  # the file is whole
    return width, height


def fact(
    n: int,
    *,
    state: str = "pending",
    user_id: int = 7,
    credit: str = "name",
    url: str = "https://www.example.org/a",
    at: float = T0,
    username: str | None = "reader7",
    name: str = "读者七",
) -> SubmissionFact:
    return SubmissionFact(n, at, state, url, user_id, credit, name, username)  # type: ignore[arg-type]


def season_items(numbers: range, *, lang: str = "zh") -> list[SeasonItem]:
    items = []
    for number in numbers:
        for k, kind in enumerate(("articles", "projects")):
            for idx, title in enumerate(ZH_TITLES[: 2 + k], 1):
                url = f"https://github.com/x/{idx}" if kind == "projects" else f"https://b.io/{idx}"
                items.append(SeasonItem(number, None, lang, kind, idx, title, url))
    return items


# ---- the pure summaries -------------------------------------------------------------


def test_editor_stats_weeks_acceptance_domains_and_credit_choices() -> None:
    day = 86400.0
    facts = [
        fact(1, state="approved", user_id=1, credit="username", username="alice", at=T0),
        fact(2, state="published", user_id=1, credit="username", username="alice", at=T0 - day),
        fact(3, state="rejected", user_id=2, credit="name", name="王宇昕", at=T0 - 8 * day),
        fact(4, state="pending", user_id=3, credit="anonymous", name="Hidden", at=T0 - 8 * day),
        fact(5, state="withdrawn", user_id=3, credit="anonymous", url="https://b.io/x", at=T0),
        fact(6, state="expired", user_id=2, credit="name", name="王宇昕", at=T0 - 100 * day),
    ]
    sent = [SentCount("telegram", "item", 4), SentCount("telegram", "digest", 1)]
    stats = editor_stats(facts, [*sent, SentCount("x", "item", 2)], now=T0, zone=ZONE, weeks=3)
    assert [w.count for w in stats.weeks] == [0, 2, 3]  # 8 days ago is last week
    assert [w.start.weekday() for w in stats.weeks] == [0, 0, 0]  # Mondays
    assert stats.weeks[-1].start == dt.date(2025, 12, 1)
    assert (stats.accepted, stats.decided) == (2, 3)  # withdrawn, expired: never decided
    assert stats.acceptance_rate == pytest.approx(2 / 3)
    assert [(r.name, r.count) for r in stats.top_domains] == [("example.org", 5), ("b.io", 1)]
    # By the credit rule of the posts: @username, the display name, never the anonymous.
    assert [(r.name, r.count) for r in stats.top_submitters] == [
        ("@alice", 2),
        (ANONYMOUS, 2),
        ("王宇昕", 2),
    ]
    assert "Hidden" not in repr(stats)
    assert stats.submitters == 3
    assert [(p.target, p.sent) for p in stats.posts] == [("telegram", 5), ("x", 2)]


def test_the_longest_summary_fits_one_telegram_message() -> None:
    """Every ranking at its most (`stats.top` ≤ 20), every name and domain very long."""
    facts = [
        fact(
            n,
            state="rejected",
            user_id=n,
            name="名" * 62 + f"{n:02d}",
            username=None,
            url=f"https://{'a' * 60}{n}.example.org/",
        )
        for n in range(40)
    ]
    sent = [SentCount(f"target{k}", f"kind{j}", 1) for k in range(5) for j in range(6)]
    stats = editor_stats(facts, sent, now=T0, zone=ZONE, weeks=104, top_n=20)
    reply = editor_summary(stats)
    assert len(stats.top_submitters) == 20
    assert len(reply.encode("utf-16-le")) // 2 <= TELEGRAM_TEXT_MAX
    assert "名" * 47 + "…" in reply


def test_no_submissions_no_rate() -> None:
    stats = editor_stats([], [], now=T0, zone=ZONE, weeks=2)
    assert stats.acceptance_rate is None
    assert [w.count for w in stats.weeks] == [0, 0]
    assert "nothing decided yet" in text("stats.no_decision")


def test_season_is_thirty_issues_as_the_collections() -> None:
    assert season_range(1) == (1, 30)
    assert season_range(2) == (31, 60)
    assert season_range(6) == (151, 180)
    assert season_range(2, size=50) == (51, 100)
    with pytest.raises(ValueError, match="from 1"):
        season_range(0)


def test_season_counts_each_issue_once_in_chinese_first() -> None:
    zh = season_items(range(31, 34))
    en = [
        SeasonItem(i.issue, None, "en", i.kind, i.idx, "Async crawlers", "https://en.io/")
        for i in season_items(range(31, 35))
    ]
    season = season_stats(
        [*zh, *en], season=2, count_words=lambda titles: title_words(list(titles))
    )
    assert [bar.number for bar in season.issues] == [31, 32, 33, 34]
    assert [bar.lang for bar in season.issues] == ["zh", "zh", "zh", "en"]  # en only for 34
    articles, projects = SECTION_KINDS.index("articles"), SECTION_KINDS.index("projects")
    assert season.issues[0].counts[articles] == 2
    assert season.issues[0].counts[projects] == 3
    assert season.items == 4 * 5
    assert season.missing[:2] == (35, 36)
    assert len(season.missing) == 26
    assert {r.name for r in season.top_domains} == {"github.com", "b.io", "en.io"}


def test_title_words_cut_chinese_and_drop_stop_words() -> None:
    words = title_words(ZH_TITLES)
    assert words["异步"] == 2
    assert words["爬虫"] == 2
    assert words["Golang"] == 1
    assert "的" not in words  # a stop word
    assert "Python" not in words  # every title could carry it
    assert not any(w.casefold() in STOP_WORDS for w in words)
    assert not any(len(w) < 2 for w in words)


# ---- the pictures -------------------------------------------------------------------


def test_editor_chart_is_a_png_of_sensible_size() -> None:
    facts = [fact(n, state="approved", user_id=n % 3, name="王宇昕") for n in range(12)]
    stats = editor_stats(facts, [SentCount("telegram", "item", 3)], now=T0, zone=ZONE)
    width, height = assert_png(charts.editor_chart(stats, fonts.cjk_font(), SMALL))
    assert (width, height) == (12 * SMALL.dpi, 8 * SMALL.dpi)


def test_season_pictures_are_pngs_and_the_cloud_shows_chinese_words() -> None:
    font = fonts.cjk_font()
    season = season_stats(season_items(range(31, 36)), season=2, max_words=12)
    for draw in (charts.sections_chart, charts.domains_chart, charts.word_cloud):
        assert_png(draw(season, font, SMALL))
    cloud = charts.word_cloud(season, font, SMALL)
    assert image_size(cloud) == image_size(png_header(300, 300 * 5 // 8))
    top = [w.name for w in season.words[:6]]
    chinese = [w for w in top if any("\u4e00" <= ch <= "\u9fff" for ch in w)]
    assert len(chinese) >= 3, top
    # Drawn, not boxes: the chosen font maps every character of the top words...
    assert fonts.missing_glyphs(font, "".join(top)) == []
    # ...which a font without Chinese does not (so the check above can fail).
    assert fonts.missing_glyphs(DEJAVU, "".join(chinese)) != []


def test_a_corpus_season_cloud_is_chinese_words_the_font_draws() -> None:
    """The shared corpus's issues of season 2 (#31–#60), in Chinese: the words of the
    cloud are mostly Chinese, and the chosen font maps every character of every one."""
    folder = corpus_path("zh")
    items = []
    for path in sorted(folder.glob("*-weekly.md")):
        issue = parse_issue(path.read_bytes().decode("utf-8"), filename=str(path))
        if issue.number is None or not 31 <= issue.number <= 60:
            continue
        for section in issue.sections:
            for item in section.items:
                items.append(
                    SeasonItem(
                        issue.number, None, "zh", section.kind, item.index, item.title, item.url
                    )
                )
    if not items:
        pytest.skip(f"no issue of #31–#60 in {folder}")
    season = season_stats(items, season=2, max_words=40)
    words = [w.name for w in season.words]
    chinese = [w for w in words if any("\u4e00" <= ch <= "\u9fff" for ch in w)]
    assert len(chinese) >= len(words) // 2, words
    font = fonts.cjk_font()
    assert fonts.missing_glyphs(font, "".join(words)) == []
    assert season.top_domains[0].name == "github.com"
    assert_png(charts.word_cloud(season, font, SMALL))


# ---- the font lookup ----------------------------------------------------------------


def test_the_packaged_font_is_found_and_covers_chinese() -> None:
    font = fonts.cjk_font()
    assert font.is_file()
    assert fonts.covers(font, fonts.SAMPLE + "异步爬虫")


def test_a_font_override_is_used_or_refused_clearly(tmp_path: Path) -> None:
    packaged = fonts.cjk_font()
    assert fonts.cjk_font(packaged) == packaged
    with pytest.raises(fonts.FontNotFound, match=r"WEEKLYBOT_STATS__FONT_PATH.*not a file"):
        fonts.cjk_font(tmp_path / "missing.ttf")
    with pytest.raises(fonts.FontNotFound, match="no Chinese glyphs"):
        fonts.cjk_font(DEJAVU)
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font")
    with pytest.raises(fonts.FontNotFound, match="not a font file"):
        fonts.cjk_font(junk)


# ---- the fake Telegram's photo rules ------------------------------------------------


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(fake_telegram.token, base_url=fake_telegram.base_url) as real_bot:
        yield real_bot


@pytest.mark.parametrize(
    ("photo", "error"),
    [
        (png_header(6000, 4001), "PHOTO_INVALID_DIMENSIONS"),  # width + height > 10000
        (png_header(2100, 100), "PHOTO_INVALID_DIMENSIONS"),  # ratio 21 > 20
        (png_header(0, 100), "PHOTO_INVALID_DIMENSIONS"),
        (png_header(800, 600) + bytes(10_000_001), "PHOTO_SAVE_FILE_INVALID"),  # > 10 MB
        (b"\x89PNG but no header", "IMAGE_PROCESS_FAILED"),
    ],
    ids=["sides", "ratio", "empty", "bytes", "not-a-picture"],
)
async def test_fake_refuses_photos_past_the_documented_limits(
    bot: telegram.Bot, fake_telegram: FakeTelegram, photo: bytes, error: str
) -> None:
    # PTB shows Telegram's description without "Bad Request: ", capitalised.
    with pytest.raises(BadRequest, match=f"(?i)^{error}$"):
        await bot.send_photo(READER_ID, photo)
    assert fake_telegram.sent(READER_ID) == []


async def test_fake_accepts_photos_at_the_limits(
    bot: telegram.Bot, fake_telegram: FakeTelegram
) -> None:
    sent = await bot.send_photo(READER_ID, png_header(5000, 5000))
    await bot.send_photo(READER_ID, png_header(2000, 100))  # ratio exactly 20
    assert sent.photo[-1].width == 5000
    records = fake_telegram.sent(READER_ID)
    assert [(m.photo.width, m.photo.height) for m in records if m.photo] == [
        (5000, 5000),
        (2000, 100),
    ]


# ---- the facts, over a real database ------------------------------------------------


def accept_all(gate: Gate) -> None:
    del gate


async def seed(db: Database) -> None:
    """Five links of three readers (two decided each way), two sent posts, two issues."""
    subs, readers, store = SubmissionStore(db), ReaderStore(db), Store(db)
    made: list[Submission] = []
    for k, (user, url) in enumerate(
        [
            (READER_ID, "https://www.example.org/a"),
            (READER_ID, "https://example.org/b"),
            (2001, "https://blog.b.io/c"),
            (2002, "https://example.org/d"),
            (2002, "https://blog.b.io/e"),
        ]
    ):
        new = NewSubmission(
            user_id=user,
            display_name=f"读者{user}",
            username=f"reader{user}",
            chat_id=user,
            original_url=url,
            canonical_url=url,
            dedupe_key=dedupe_key(url),
        )
        row = await subs.create(new, now=T0 + k, since=T0 - 86400, judge=accept_all)
        assert isinstance(row, Submission)
        made.append(row)
    await readers.set_credit(
        READER_ID, "username", username=f"reader{READER_ID}", display_name="R", now=T0
    )
    await readers.set_credit(2002, "anonymous", username="reader2002", display_name="秘", now=T0)
    assert await subs.approve_draft_only(made[0].id, actor="editor:1", now=T0 + 10)
    assert await subs.approve_draft_only(made[2].id, actor="editor:1", now=T0 + 10)
    assert await subs.reject(made[1].id, actor="editor:1", reason="dup", now=T0 + 10)
    assert await subs.reject(made[3].id, actor="editor:1", reason="dup", now=T0 + 10)
    ids = await store.outbox.enqueue_many(
        [
            NewPost("stats:1", "telegram", "item", {"platform": "telegram", "text": "a"}),
            NewPost("stats:2", "telegram", "item", {"platform": "telegram", "text": "b"}),
            NewPost("stats:3", "x", "item", {"platform": "x", "text": "c"}),
        ],
        now=T0,
    )
    for target, expected in (("telegram", ids[0]), ("telegram", ids[1]), ("x", ids[2])):
        claimed = await store.outbox.claim_next(target, owner="t", lease_seconds=60, now=T0)
        assert claimed is not None
        assert claimed.id == expected
        assert await store.outbox.mark_sent(claimed.id, owner="t", remote_id="1", now=T0)
    zh: dict[SectionKind, list[Item]] = {
        "articles": [make_item(1, title="异步爬虫的新特性", url="https://b.io/1")],
        "projects": [
            make_item(1, title="爬虫框架对比", url="https://github.com/a/b"),
            make_item(2, title="异步任务队列", url="https://github.com/c/d"),
        ],
    }
    for number in (31, 32):
        await store.issues.upsert(make_issue(zh, number=number, lang="zh"), now=T0)
        await store.issues.upsert(make_issue(number=number, lang="en"), now=T0)
    await store.issues.upsert(make_issue(number=95, lang="zh"), now=T0)


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "state" / "weeklybot.db") as db:
        await migrate(db, now=T0)
        await seed(db)
        yield db


async def test_stats_store_reads_the_facts(seeded: Database) -> None:
    facts = StatsStore(seeded)
    subs = await facts.submissions()
    assert [s.state for s in subs] == ["approved", "rejected", "approved", "rejected", "pending"]
    assert {s.user_id: s.credit for s in subs} == {
        READER_ID: "username",
        2001: "name",  # no users row: the submission's own choice
        2002: "anonymous",
    }
    sent = await facts.sent_posts()
    assert [(s.target, s.kind, s.count) for s in sent] == [
        ("telegram", "item", 2),
        ("x", "item", 1),
    ]
    items = await facts.season_items(31, 60)
    assert {(i.issue, i.lang) for i in items} == {(31, "zh"), (31, "en"), (32, "zh"), (32, "en")}
    assert await facts.season_items(61, 90) == []


# ---- through PTB and the fake Telegram ----------------------------------------------


@pytest.fixture
async def runtime(
    fake_telegram: FakeTelegram, seeded: Database, tmp_path: Path
) -> AsyncIterator[Runtime]:
    del seeded  # the database is seeded before the bot opens it
    fake_telegram.api.flood = None
    settings = settings_for(
        fake_telegram, tmp_path, stats={"dpi": 30, "cloud_width": 300, "cloud_words": 20}
    )
    async with bot_running(settings) as running:
        yield running


async def replies(tg: FakeTelegram, user_id: int, command: str, count: int) -> list[ChatMessage]:
    before = len(tg.sent(user_id))
    tg.user_sends(user_id, command)

    async def answered() -> bool:
        return len(tg.sent(user_id)) >= before + count

    await eventually(answered, within=30)
    return list(tg.sent(user_id)[before:])


async def test_stats_answers_an_editor_with_numbers_and_a_chart(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    del runtime
    summary, chart = await replies(fake_telegram, EDITOR_ID, "/stats", 2)
    body = summary.text or ""
    assert "Submissions: 5 from 3 readers." in body
    assert "Accepted: 2 of 4 decided (50%)." in body
    assert "1. example.org — 3" in body
    assert f"@reader{READER_ID} — 2" in body  # credited by username, as chosen
    assert "读者2001 — 1" in body  # by name
    assert "anonymous — 2" in body
    assert "读者2002" not in body
    assert "秘" not in body
    assert "telegram: 2 (item 2)" in body
    assert "x: 1 (item 1)" in body
    photo = chart.photo
    assert photo is not None
    assert photo.source == "upload"
    assert (photo.width, photo.height) == assert_png(photo.content)
    assert chart.caption == text("stats.chart_caption")


async def test_stats_season_sends_the_season_pictures_or_says_none_is_stored(
    runtime: Runtime, fake_telegram: FakeTelegram
) -> None:
    del runtime
    summary, *album = await replies(fake_telegram, EDITOR_ID, "/stats season 2", 4)
    body = summary.text or ""
    assert "Season 2 (#31–#60): 2 issues stored, 6 items, 6 with a link." in body
    assert "No items stored for: #33–#60." in body
    assert "异步" in body  # the top words, cut by jieba
    assert "爬虫" in body
    assert "github.com — 4" in body
    assert len(album) == 3
    assert len({m.media_group_id for m in album}) == 1
    for message in album:
        photo = message.photo
        assert photo is not None
        assert_png(photo.content)
    assert [m.caption for m in album] == [
        text("stats.caption.sections", season=2),
        text("stats.caption.domains", season=2),
        text("stats.caption.cloud", season=2),
    ]
    # A season with no issue stored: one clear line; a bad number: the usage.
    (reply,) = await replies(fake_telegram, EDITOR_ID, "/stats season 3", 1)
    assert reply.text == text("stats.season_empty", season=3, first=61, last=90)
    for bad in ("zero", "0", "²", "9" * 30, "2 3"):
        (usage,) = await replies(fake_telegram, EDITOR_ID, f"/stats season {bad}", 1)
        assert usage.text == text("stats.usage", size=30)


async def test_stats_is_refused_to_a_reader(runtime: Runtime, fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(OTHER_ID, "Other", "other")  # a reader with nothing to be told
    for command in ("/stats", "/stats season 2"):
        (reply,) = await replies(fake_telegram, OTHER_ID, command, 1)
        assert reply.text == text("editors_only.command", "en")
    assert [m.photo for m in fake_telegram.sent(OTHER_ID)] == [None, None]
    audit = await runtime.services.store.db.fetchall(
        "SELECT subject FROM audit_log WHERE action = 'command.denied'"
    )
    assert [row["subject"] for row in audit] == ["command:stats", "command:stats"]


async def test_the_bot_answers_others_while_a_chart_is_drawn(
    runtime: Runtime, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drawing runs on a worker thread (and the handler does not block updates):
    held there until a reader's /help has been answered, it still arrives after."""
    del runtime
    drawing, release = threading.Event(), threading.Event()
    draw = handlers.stats.draw_editor

    def held(*args: Any) -> bytes:
        drawing.set()
        assert release.wait(timeout=20), "the reader was never answered"
        return draw(*args)

    monkeypatch.setattr(handlers.stats, "draw_editor", held)
    before = len(fake_telegram.sent(EDITOR_ID))
    fake_telegram.user_sends(EDITOR_ID, "/stats")

    async def is_drawing() -> bool:
        return drawing.is_set()

    await eventually(is_drawing)
    fake_telegram.add_user(OTHER_ID, "Other", "other")
    (help_reply,) = await replies(fake_telegram, OTHER_ID, "/help", 1)
    assert help_reply.text
    release.set()

    async def chart_sent() -> bool:
        return any(m.photo for m in fake_telegram.sent(EDITOR_ID)[before:])

    await eventually(chart_sent, within=30)


async def test_no_cjk_font_still_tells_the_numbers_and_why(
    fake_telegram: FakeTelegram, seeded: Database, tmp_path: Path
) -> None:
    del seeded
    fake_telegram.api.flood = None
    missing = tmp_path / "no-such-font.otf"
    settings = settings_for(fake_telegram, tmp_path, stats={"font_path": missing, "dpi": 30})
    async with bot_running(settings):
        summary, refusal = await replies(fake_telegram, EDITOR_ID, "/stats", 2)
        assert (summary.text or "").startswith("📊 Submissions: 5")
        assert refusal.text is not None
        assert refusal.text.startswith("No chart: WEEKLYBOT_STATS__FONT_PATH is")
        assert str(missing) in refusal.text
        season = await replies(fake_telegram, EDITOR_ID, "/stats season 2", 2)
        assert (season[0].text or "").startswith("🗂 Season 2")
        assert (season[1].text or "").startswith("No chart:")
    assert all(m.photo is None for m in fake_telegram.sent(EDITOR_ID))
