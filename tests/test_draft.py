"""The next issue's draft: the pure build and its round trip through the project's own
parser, what the store gathers, `/draft` through PTB and the fake Telegram (sendDocument),
and `weeklybot draft`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import InputFile

from bot.app import Runtime, bot_running
from bot.config import SubmissionsSettings
from bot.domain.issue import NotAnIssue
from bot.domain.parser import parse_issue
from bot.draft import draft_from_database, gather_draft, since_ts
from bot.extra.queue import judge_link
from bot.fakes.telegram import FakeTelegram
from bot.fakes.telegram_api import DOCUMENT_MAX_BYTES, FakeBotAPI
from bot.fakes.telegram_model import BotAPIError, UploadedFile
from bot.ops.dry_run import DRY_RUN_MARK, DryRunBot
from bot.submissions.intake import SubmissionService, Submitter
from bot.submissions.rules import Accepted
from data.db import Database
from data.extras import ExtraItem, NewExtra, QueueStore
from data.migrations import migrate
from data.store import Store
from data.submissions import CreditChoice, SubmissionStore
from publishers.format_draft import (
    SECTION_NAMES,
    Draft,
    DraftEntry,
    DraftLang,
    build_draft,
    section_for,
)
from tests.conftest import EDITOR_ID, READER_ID, TOKEN, ManualClock, settings_for
from tests.delivery_support import eventually
from tests.factories import make_issue, make_item
from tests.parser_support import corpus_path
from tests.url_support import Table

ZONE = ZoneInfo("Asia/Shanghai")
LAST_ISSUE = dt.date(2031, 3, 1)  # the stored issue #160's date
AFTER = since_ts(LAST_ISSUE, ZONE) + 3600.0  # decided after the last issue
BEFORE = since_ts(LAST_ISSUE, ZONE) - 3600.0  # decided before it: not in the draft
ADA = Submitter(user_id=2001, display_name="Ada Lovelace", username="ada_l")
GRACE = Submitter(user_id=2002, display_name="Grace Hopper", username=None)
LIN = Submitter(user_id=2003, display_name="林 小猫", username="lin_cat")
EDITOR = "@editor [1001]"
LANGS: tuple[DraftLang, ...] = ("zh", "en")

# (entry, the credit the parser must read back)
ODD: tuple[tuple[DraftEntry, str | None], ...] = (
    (
        DraftEntry(
            "https://blog.example.org/How-to-(and-how-not-to)-design-REST-APIs",
            "[吐槽] conda 真是太难用了！| 一个 `__init__` 的 *坑*",
            "一篇文章。\n\n第二段：`code` 与 [链接](https://x.example)、<b>。",
            credit="ada_l",
            handle=True,
        ),
        "@ada_l",
    ),
    (
        DraftEntry(
            "https://github.com/example/fastcsv",
            "fastcsv：比 csv 模块快 10 倍（真的？）【实测】",
            "1. 先说结论\n# not a heading",
            credit="Ada Lovelace",
        ),
        "@Ada Lovelace",
    ),
    (
        DraftEntry(
            "https://example.com/a?x=1&copy=2",
            'Pipes | and "quotes" & <T> \\ backslash',
            "---",
            credit=None,
        ),
        None,
    ),
    (
        DraftEntry("https://www.youtube.com/watch?v=abc", "一段视频 ①", "", credit="林 小猫"),
        "@林 小猫",
    ),
    (DraftEntry("https://news.ycombinator.com/item?id=1", "", "Comments."), None),
)


def read_back(draft: Draft) -> list[tuple[str, str, str | None, str | None]]:
    issue = parse_issue(draft.markdown, lang=draft.lang)
    assert issue.number == draft.number
    assert issue.form == "full"
    return [(s.kind, it.title, it.url, it.credit) for s in issue.sections for it in s.items]


@pytest.mark.parametrize("lang", LANGS)
def test_the_draft_reads_back_as_the_same_titles_urls_and_credits(lang: DraftLang) -> None:
    entries = [entry for entry, _ in ODD]
    draft = build_draft(entries, number=161, lang=lang, since=LAST_ISSUE)
    assert draft.warnings == ()
    expected = sorted(
        (
            (section_for(e.url), e.title or "news.ycombinator.com", e.url, credit)
            for e, credit in ODD
        ),
        key=lambda row: ["articles", "projects", "podcasts", "discussions"].index(row[0]),
    )
    assert read_back(draft) == expected
    assert [(i.kind, i.title, i.url) for i in draft.items] == [row[:3] for row in expected]


@pytest.mark.parametrize("lang", LANGS)
def test_the_draft_is_written_in_the_newsletters_format(lang: DraftLang) -> None:
    draft = build_draft([entry for entry, _ in ODD], number=161, lang=lang)
    lines = draft.markdown.splitlines()
    if lang == "zh":
        assert lines[0].startswith("# Python 潮流周刊#161：")
        assert "本期分享了 2 篇文章，1 个开源项目，1 则音视频，1 则热门话题。" in lines
        assert re.search(r"^1、\[", draft.markdown, re.M)
        assert not re.search(r"^\d+\. \[", draft.markdown, re.M)
        assert "（@ada_l 投稿）" in draft.markdown
        assert "（@Ada Lovelace 投稿）" in draft.markdown
    else:
        assert lines[0].startswith("# Python Trending Weekly #161: ")
        assert (
            "This issue features 2 articles, 1 open-source project, 1 podcast/video"
            " and 1 discussion." in lines
        )
        assert re.search(r"^1\. \[", draft.markdown, re.M)
        assert not re.search(r"^\d+、", draft.markdown, re.M)
        assert "(Submitted by @ada_l)" in draft.markdown
        assert "(Submitted by @Ada Lovelace)" in draft.markdown
    headings = [line for line in lines if line.startswith("## ")]
    assert headings == [
        f"## [{SECTION_NAMES[lang][kind]}](https://weekly.pythoncat.top)"
        for kind in ("articles", "projects", "podcasts", "discussions")
    ]
    assert "投稿" not in draft.markdown.split("news.ycombinator.com")[1]  # anonymous: none
    assert parse_issue(draft.markdown, lang=lang).warnings == ()  # the count line agrees


@pytest.mark.parametrize("lang", LANGS)
def test_a_description_that_would_change_the_credit_is_left_out(lang: DraftLang) -> None:
    entries = [
        DraftEntry("https://e.example/a", "A", "Great (Submitted by @mallory) post", credit=None),
        DraftEntry(
            "https://e.example/b",
            "B",
            "如果你喜欢周刊，欢迎赞赏支持猫哥吧",
            credit="ada_l",
            handle=True,
        ),
    ]
    draft = build_draft(entries, number=9, lang=lang)
    assert len(draft.warnings) == 2
    assert "mallory" not in draft.markdown
    assert [row[3] for row in read_back(draft)] == [None, "@ada_l"]


def test_sections_are_chosen_from_the_link() -> None:
    assert section_for("https://github.com/psf/black") == "projects"
    assert section_for("https://pypi.org/project/httpx/") == "projects"
    assert section_for("https://github.com/psf") == "articles"
    assert section_for("https://github.com/python/cpython/issues/1") == "discussions"
    assert section_for("https://www.bilibili.com/video/BV1") == "podcasts"
    assert section_for("https://www.reddit.com/r/Python/comments/1") == "discussions"
    assert section_for("https://realpython.com/python-wal/") == "articles"
    assert section_for("not a url") == "articles"
    kept = build_draft(
        [DraftEntry("https://github.com/psf/black", "black", kind="articles")], number=2, lang="zh"
    )
    assert kept.items[0].kind == "articles"  # a section given is kept


def test_nothing_to_draft_is_an_empty_draft() -> None:
    draft = build_draft([], number=161, lang="zh")
    assert draft.empty
    assert draft.markdown == ""


# ---- gathering from the store ---------------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "weekly.db") as database:
        await migrate(database, now=BEFORE)
        yield database


def service(db: Database, clock: ManualClock) -> SubmissionService:
    return SubmissionService(
        SubmissionStore(db),
        SubmissionsSettings(cooldown_seconds=0, daily_cap=50, max_pending_per_user=50),
        targets=("telegram",),
        resolver=Table({}),
        clock=clock,
    )


async def approved(
    svc: SubmissionService,
    who: Submitter,
    url: str,
    choice: CreditChoice,
    *,
    title: str = "Fast CSV",
    draft_only: bool = True,
) -> int:
    outcome = await svc.submit(who, url)
    assert isinstance(outcome, Accepted), outcome
    sid = outcome.submission_id
    await svc.store.set_preview(sid, title=title, description="Parsing CSV.", error=None, now=AFTER)
    await svc.set_credit(who, choice)
    if draft_only:
        assert await svc.store.approve_draft_only(sid, actor=EDITOR, now=svc._clock())
    else:
        assert await svc.approve(sid, editor=EDITOR)
    return sid


async def extra_link(db: Database, url: str, title: str, *, now: float) -> ExtraItem:
    store = QueueStore(db)
    key = url.split("://", 1)[1]
    item = await store.create(
        NewExtra(url, url, key, title, "An editor's pick.", "user:1001"), now=now, judge=judge_link
    )
    assert isinstance(item, ExtraItem)
    assert await store.post_now(item.id, actor=EDITOR, now=now, posts=lambda _: ())
    return item


async def stored_issue(db: Database, date: dt.date = LAST_ISSUE) -> None:
    old = make_item(1, title="Already in #160", url="https://old.example.org/in-160", credit=None)
    issue = make_issue({"articles": [old]}, number=160)
    await Store(db).issues.upsert(dataclasses.replace(issue, date=date), now=BEFORE)


async def test_the_draft_gathers_what_was_decided_since_the_last_issue(db: Database) -> None:
    clock = ManualClock(BEFORE)
    svc = service(db, clock)
    await approved(svc, ADA, "https://early.example.org/x", "name")  # before #160's day
    clock.now = AFTER
    await approved(
        svc, ADA, "https://blog.example.org/fast-csv", "username", title="[Fast] CSV | 快"
    )
    await approved(svc, GRACE, "https://github.com/grace/cobol", "username", draft_only=False)
    await approved(svc, LIN, "https://blog.example.org/anon", "anonymous", title="匿名的")
    await approved(svc, ADA, "https://old.example.org/in-160", "name")  # #160 then took it
    await extra_link(db, "https://editor.example.org/pick", "编辑推荐", now=AFTER + 60)
    await stored_issue(db)
    store = Store(db)
    for lang in LANGS:
        draft = await gather_draft(store, lang=lang, zone=ZONE)
        assert draft.number == 161
        assert draft.since == LAST_ISSUE
        assert read_back(draft) == [
            ("articles", "[Fast] CSV | 快", "https://blog.example.org/fast-csv", "@ada_l"),
            ("articles", "匿名的", "https://blog.example.org/anon", None),
            ("articles", "编辑推荐", "https://editor.example.org/pick", None),
            ("projects", "Fast CSV", "https://github.com/grace/cobol", "@Grace Hopper"),
        ]
        assert [i.source for i in draft.items][-2:] == ["extra:1", "submission:3"]
    # --since moves the start: the early link is back.
    earlier = await gather_draft(store, lang="zh", zone=ZONE, since=dt.date(2031, 2, 1))
    assert "https://early.example.org/x" in [i.url for i in earlier.items]


async def test_nothing_decided_gives_an_empty_draft(db: Database) -> None:
    await stored_issue(db)
    draft = await gather_draft(Store(db), lang="zh", zone=ZONE)
    assert draft.empty
    assert (draft.number, draft.since) == (161, LAST_ISSUE)


# ---- the fake's sendDocument -----------------------------------------------------------


async def send_document(api: FakeBotAPI, content: bytes, **params: object) -> object:
    return await api.call(
        "sendDocument",
        {"chat_id": EDITOR_ID, "document": "attach://f", **params},
        {"f": UploadedFile("draft-1.md", content)},
    )


async def test_the_fake_send_document_enforces_the_bot_api_rules() -> None:
    api = FakeBotAPI(bot_id=1, bot_username="weekly_bot", flood_limits=False)
    api.add_user(EDITOR_ID, "Editor", "editor")
    sent = await send_document(api, b"# hi\n", caption="a <b>short</b> caption", parse_mode="HTML")
    assert isinstance(sent, dict)
    assert sent["document"]["file_name"] == "draft-1.md"
    assert sent["document"]["file_size"] == 5
    assert sent["caption"] == "a short caption"
    with pytest.raises(BotAPIError, match="file must be non-empty"):
        await send_document(api, b"")
    with pytest.raises(BotAPIError) as too_big:
        await send_document(api, b"x" * (DOCUMENT_MAX_BYTES + 1))
    assert too_big.value.status == 413
    # 1,024 characters after entities parsing: tags do not count, text does.
    await send_document(api, b"x", caption=f"<b>{'a' * 1024}</b>", parse_mode="HTML")
    with pytest.raises(BotAPIError, match="caption is too long"):
        await send_document(api, b"x", caption="a" * 1025)
    with pytest.raises(BotAPIError, match="wrong file identifier"):
        await api.call("sendDocument", {"chat_id": EDITOR_ID, "document": "not-uploaded"}, {})
    with pytest.raises(BotAPIError, match="no document"):
        await api.call("sendDocument", {"chat_id": EDITOR_ID}, {})


# ---- /draft through PTB and the fake Telegram ----------------------------------------


@pytest.fixture
async def runtime(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Runtime]:
    fake_telegram.api.flood = None
    async with bot_running(settings_for(fake_telegram, tmp_path)) as running:
        yield running


async def test_an_editor_gets_the_draft_as_a_file(
    fake_telegram: FakeTelegram, runtime: Runtime
) -> None:
    db = runtime.services.store.db
    await stored_issue(db, dt.date.today() - dt.timedelta(days=7))
    svc = service(db, ManualClock(time.time()))
    before = len(fake_telegram.sent(EDITOR_ID))
    fake_telegram.user_sends(EDITOR_ID, "/draft")

    async def replied() -> bool:
        return len(fake_telegram.sent(EDITOR_ID)) > before

    await eventually(replied)
    (empty,) = fake_telegram.sent(EDITOR_ID)[before:]
    assert empty.text is not None
    assert "Nothing for the draft of issue #161" in empty.text
    assert not fake_telegram.calls_of("sendDocument")  # no empty file

    await approved(svc, ADA, "https://blog.example.org/fast-csv", "username", title="Fast | CSV")
    await approved(svc, GRACE, "https://github.com/grace/cobol", "name")
    for lang in LANGS:
        before = len(fake_telegram.sent(EDITOR_ID))
        fake_telegram.user_sends(EDITOR_ID, f"/draft {lang}")
        await eventually(replied)
        (sent,) = fake_telegram.sent(EDITOR_ID)[before:]
        assert sent.method == "sendDocument"
        assert sent.document is not None
        assert sent.document.file_name == "draft-161.md"
        assert sent.caption is not None
        assert sent.caption.startswith(f"📝 Draft of issue #161 ({lang})")
        assert sent.caption.endswith(": 1 article, 1 project.")
        issue = parse_issue(sent.document.content.decode("utf-8"), lang=lang)
        assert [(it.title, it.url, it.credit) for _, it in issue.items()] == [
            ("Fast | CSV", "https://blog.example.org/fast-csv", "@ada_l"),
            ("Fast CSV", "https://github.com/grace/cobol", "@Grace Hopper"),
        ]
    before = len(fake_telegram.sent(EDITOR_ID))
    fake_telegram.user_sends(EDITOR_ID, "/draft fr")
    await eventually(replied)
    assert (fake_telegram.sent(EDITOR_ID)[-1].text or "").startswith("Usage: /draft")


async def test_a_reader_is_refused_the_draft(fake_telegram: FakeTelegram, runtime: Runtime) -> None:
    before = len(fake_telegram.sent(READER_ID))
    fake_telegram.user_sends(READER_ID, "/draft")

    async def replied() -> bool:
        return len(fake_telegram.sent(READER_ID)) > before

    await eventually(replied)
    (refused,) = fake_telegram.sent(READER_ID)[before:]
    assert refused.method == "sendMessage"
    assert not fake_telegram.calls_of("sendDocument")
    rows = await runtime.services.store.db.fetchall(
        "SELECT subject FROM audit_log WHERE action = 'command.denied'"
    )
    assert [r["subject"] for r in rows] == ["command:draft"]


# ---- weeklybot draft -------------------------------------------------------------------


async def test_the_cli_draft_writes_a_file_or_says_why_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    path = tmp_path / "weekly.db"
    async with Database.open(path) as database:
        await migrate(database, now=BEFORE)
        await stored_issue(database)
        out = tmp_path / "draft.md"
        monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", TOKEN)
        monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "@channel")
        monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(path))
        monkeypatch.chdir(tmp_path)
    assert await _cli(main, ["draft", "-o", str(out)]) == 1
    assert not out.exists()
    assert "nothing to draft" in capsys.readouterr().err
    async with Database.open(path) as database:
        svc = service(database, ManualClock(AFTER))
        await approved(svc, ADA, "https://blog.example.org/fast-csv", "name", title="Fast CSV")
    assert await _cli(main, ["draft", "--lang", "en", "-o", str(out)]) == 0
    issue = parse_issue(out.read_text(encoding="utf-8"), lang="en")
    assert [(it.title, it.credit) for _, it in issue.items()] == [("Fast CSV", "@Ada Lovelace")]
    assert "draft #161 (en, since 2031-03-01): 1 articles" in capsys.readouterr().out
    assert await _cli(main, ["draft", "--since", "2031-13-01"]) == 2  # not a date


async def _cli(main: object, argv: list[str]) -> int:
    """`main` in a thread: it runs its own event loop."""
    import asyncio

    def run() -> int:
        try:
            return int(main(argv))  # type: ignore[operator]
        except SystemExit as exc:
            return int(exc.code or 0)

    return await asyncio.to_thread(run)


async def test_draft_from_database_reads_without_a_bot(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    draft = await draft_from_database(path, lang="zh", zone=ZONE)
    assert draft.empty
    assert draft.number == 1


# ---- the corpus: the newsletter's own items, drafted again ------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_corpus_item_survives_a_draft_round_trip(lang: DraftLang) -> None:
    """Every linked item of every full-form issue of the shared corpus (real titles, URLs
    and credits), written by the draft and read back by the parser, is the same item."""
    folder = corpus_path(lang)
    checked = 0
    for path in sorted(folder.glob("*-weekly.md")):
        try:
            issue = parse_issue(path.read_text(encoding="utf-8"), filename=path.name, lang=lang)
        except NotAnIssue:
            continue
        if issue.form != "full":
            continue
        entries = [
            DraftEntry(
                it.url,
                it.title,
                it.description,
                credit=(it.credit or "").removeprefix("@") or None,
                kind=section.kind,
            )
            for section, it in issue.items()
            if it.postable and it.url is not None
        ]
        draft = build_draft(entries, number=issue.number or 1, lang=lang)
        assert draft.warnings == (), path.name
        expected = [(e.kind, e.title, e.url, f"@{e.credit}" if e.credit else None) for e in entries]
        assert read_back(draft) == expected, path.name
        checked += len(entries)
    assert checked > 100, f"only {checked} items in {folder}"


def test_a_draft_the_parser_would_refuse_says_so() -> None:
    """More than 40 items in one section is a collection to the parser: the draft is
    still written, with a warning that it does not read back."""
    entries = [DraftEntry(f"https://e.example.org/{n}", f"T{n}") for n in range(41)]
    draft = build_draft(entries, number=3, lang="zh")
    assert len(draft.items) == 41
    assert draft.warnings == ("the parser does not read back the whole draft as written",)


async def test_a_dry_run_marks_the_drafts_caption(fake_telegram: FakeTelegram) -> None:
    """`DryRunBot` uploads the file as it is (multipart, through PTB) and marks the
    caption, as it marks a photo's."""
    fake_telegram.api.flood = None
    async with DryRunBot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        await bot.send_document(
            EDITOR_ID, InputFile(b"# draft\n", filename="draft-7.md"), caption="📝 Draft #7"
        )
    (sent,) = fake_telegram.sent(EDITOR_ID)
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.content) == ("draft-7.md", b"# draft\n")
    assert sent.caption == DRY_RUN_MARK + "📝 Draft #7"
