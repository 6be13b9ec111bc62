"""Post templates: the defaults are today's posts, an editor's file changes them, a broken
one is told once and the default posts, and the sandbox keeps Python's insides out."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.app import bot_running
from bot.cli import main
from bot.domain.issue import Issue, IssuePages
from bot.domain.parser import parse_issue
from bot.domain.roundup import Roundup, RoundupEntry
from bot.editors.kit import EditorChats
from bot.editors.template_notices import TemplateNotices
from bot.fakes.telegram import FakeTelegram
from bot.ops.render import SHOWN_BY, sample_issue, sample_roundup
from bot.platforms import PLATFORMS, TELEGRAM
from bot.weekly.planning import plan_release
from publishers.format_common import NotPostable
from publishers.format_roundup import format_roundup_telegram
from publishers.format_submission import (
    SubmittedLinkPost,
    format_submission_telegram,
    format_submission_x,
)
from publishers.format_telegram import (
    ChannelStyle,
    format_digest_telegram,
    format_item_telegram,
    format_release_telegram,
)
from publishers.format_x import format_digest_x, format_item_x, format_release_x
from publishers.limits import TELEGRAM_TEXT_MAX, telegram_length
from publishers.posts import TelegramPhoto, TelegramText
from publishers.templates import (
    TEMPLATES,
    PostTemplates,
    TemplateProblem,
    bundled_source,
    bundled_templates,
    load_templates,
)
from tests.conftest import CHANNEL_ID, EDITOR_ID, settings_for
from tests.delivery_support import eventually, telegram_bot

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "bot" / "samples"
# The posts of every bundled sample issue as the formatters made them before templates
# (generated with the code of commit 11da0ce by `posts_of` below): the defaults must
# give these byte for byte.
GOLDEN = Path(__file__).parent / "fixtures" / "templates" / "golden.json"
ISSUE_URL = "https://e.com/i"
PAGES = IssuePages("https://github.com/chinesehuazhou/python-weekly")
BARE = ChannelStyle(photo_url=None, channel=None, subscribe_links=(), collection_links=())


def posts_of(issue: Issue, lang: Any, templates: PostTemplates | None = None) -> dict[str, Any]:
    """Every kind of post the formatters make of `issue`, as outbox payloads."""

    def payloads(posts: Any) -> list[dict[str, Any]]:
        return [p.to_payload() for p in posts]

    t = templates
    found: dict[str, Any] = {
        "tgdTrue": payloads(
            format_digest_telegram(issue, issue_url=ISSUE_URL, lang=lang, templates=t)
        ),
        "tgdFalse": payloads(
            format_digest_telegram(issue, issue_url=ISSUE_URL, lang=lang, style=BARE, templates=t)
        ),
        "tgd_nourl": payloads(
            format_digest_telegram(issue, issue_url=None, lang=lang, templates=t)
        ),
        "xd": payloads(format_digest_x(issue, issue_url=ISSUE_URL, lang=lang, templates=t)),
        "tgr": format_release_telegram(issue, url="https://e.com/r", templates=t).to_payload(),
        "xr": format_release_x(issue, url="https://e.com/r", templates=t).to_payload(),
    }
    items: list[Any] = []
    for section, item in issue.items():
        for formatter in (format_item_telegram, format_item_x):
            for url in (ISSUE_URL, None):
                try:
                    post = formatter(
                        item,
                        section_kind=section.kind,
                        issue=issue,
                        issue_url=url,
                        lang=lang,
                        templates=t,
                    )
                    items.append(post.to_payload())
                except NotPostable as exc:
                    items.append(str(exc))
        if item.url:
            link = SubmittedLinkPost(
                url=item.url, title=item.title, comment=item.description, credit=item.credit
            )
            items.append(format_submission_telegram(link, templates=t).to_payload())
            items.append(
                format_submission_telegram(link, title="", comment="", templates=t).to_payload()
            )
            try:
                items.append(format_submission_x(link, templates=t).to_payload())
            except NotPostable as exc:
                items.append(str(exc))
    found["items"] = items
    return found


def _sample(name: str) -> tuple[Issue, str]:
    lang = name.split("/")[0]
    path = SAMPLES / name
    return parse_issue(path.read_text(encoding="utf-8"), filename=path.name, lang=lang), lang


# ---- the defaults are today's posts -------------------------------------------------


@pytest.mark.parametrize("name", sorted(json.loads(GOLDEN.read_text(encoding="utf-8"))))
def test_the_defaults_give_todays_posts_byte_for_byte(name: str) -> None:
    """Each sample issue, zh and en, summary and full: digests, items, releases, links."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    issue, lang = _sample(name)
    assert posts_of(issue, lang) == golden
    # A folder with no files is the defaults too.
    assert posts_of(issue, lang, load_templates(None)) == golden


def test_every_template_has_a_default_in_zh_and_en_and_a_showcase() -> None:
    for name in TEMPLATES:
        for lang in ("zh", "en"):
            assert bundled_source(f"{name}.{lang}") or bundled_source(name), (name, lang)
        assert name in SHOWN_BY, f"{name}: add it to bot.ops.render.SHOWN_BY"
    assert set(SHOWN_BY) == set(TEMPLATES)


# ---- an editor's template changes the post ------------------------------------------


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(source, encoding="utf-8")
    return folder


def test_a_changed_template_changes_the_post_and_the_formatter_still_fits_it(
    tmp_path: Path,
) -> None:
    folder = _folder(
        tmp_path,
        {
            "telegram.item.j2": "🆕 <b>{{ link(url, title) }}</b>\n\n{{ description }}",
            "x.release.en.j2": '{{ ["FREE: " ~ issue_label, title, url] | select | join("\\n") }}',
        },
    )
    problems: list[TemplateProblem] = []
    templates = load_templates(folder, report=problems.append)
    issue, _ = _sample("en/2026-11-21-weekly.md")
    section, item = next((s, i) for s, i in issue.items() if i.postable)
    long_item = type(item)(**{**_fields(item), "description": "word " * 2000})
    post = format_item_telegram(
        long_item,
        section_kind=section.kind,
        issue=issue,
        issue_url=None,
        lang="en",
        templates=templates,
    )
    (part,) = post.parts[-1:]
    html = part.html if isinstance(part, TelegramText) else part.caption_html
    assert html.startswith("🆕 <b><a href=")
    assert html.endswith("…")  # cut by the formatter, within Telegram's limit
    assert telegram_length(html) <= TELEGRAM_TEXT_MAX
    assert format_release_x(issue, url="https://e.com/r", templates=templates).text.startswith(
        "FREE: Python Trending Weekly #"
    )
    # The zh release has no override: still the bundled one.
    zh, _ = _sample("zh/2026-11-21-weekly.md")
    assert format_release_x(zh, url="https://e.com/r", templates=templates).text.startswith("🔓")
    assert problems == []


def _fields(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}


def test_values_reach_a_telegram_template_escaped(tmp_path: Path) -> None:
    """A title's `<`, `&` stay text in the channel: autoescape, by the formatters' rule."""
    folder = _folder(tmp_path, {"telegram.link.j2": "<i>{{ title }}</i> {{ link(url, comment) }}"})
    post = SubmittedLinkPost(url="https://e.com/a?x=1&y=2", title="<script>&", comment='"q"')
    html = format_submission_telegram(post, templates=load_templates(folder)).parts[0]
    assert isinstance(html, TelegramText)
    assert html.html == '<i>&lt;script&gt;&amp;</i> <a href="https://e.com/a?x=1&amp;y=2">"q"</a>'


# ---- a broken template: told once, the default posts --------------------------------


def test_a_syntax_error_is_reported_at_load_and_the_default_used(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {"telegram.release.j2": "{% if %}broken", "nonsense.j2": "hello", "notes.txt": "x"},
    )
    problems: list[TemplateProblem] = []
    templates = load_templates(folder, report=problems.append)
    issue, _ = _sample("zh/2026-11-21-weekly.md")
    assert format_release_telegram(issue, url="https://e.com/r", templates=templates) == (
        format_release_telegram(issue, url="https://e.com/r")
    )
    assert [p.name for p in problems] == ["nonsense", "telegram.release"]
    assert "no template has this name" in problems[0].error
    assert problems[1].error.startswith("TemplateSyntaxError")
    assert len(problems[1].digest) == 12


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("{{ title }} {{ no_such_value }}", "UndefinedError"),
        ("<b>{{ title }}", "HTMLParseError"),  # Telegram would refuse the HTML
        ("{{ 1 // 0 }}", "ZeroDivisionError"),
    ],
)
def test_a_render_error_is_reported_once_and_the_default_used(
    tmp_path: Path, source: str, error: str
) -> None:
    folder = _folder(tmp_path, {"telegram.item.zh.j2": source})
    problems: list[TemplateProblem] = []
    templates = load_templates(folder, report=problems.append)
    issue, lang = _sample("zh/2026-11-21-weekly.md")
    notices = TemplateNotices()
    templates = load_templates(folder, report=notices.report)
    assert posts_of(issue, lang, templates) == posts_of(issue, lang)  # many renders
    assert problems == []  # nothing at load: it compiles
    (problem,) = notices.reported  # once, for all those renders
    assert problem.name == "telegram.item.zh"
    assert error in problem.error


@pytest.mark.parametrize(
    ("files", "target"),
    [
        ({"telegram.item.j2": "{{ link(url, title) }}" + " padding" * 600}, "telegram"),
        ({"x.item.j2": "{{ title }} {{ url }}" + " 长" * 200}, "x"),
        ({"telegram.digest_line.j2": "{{ mark }} {{ title }}" + " 长" * 5000}, "telegram"),
    ],
)
def test_an_override_whose_post_cannot_fit_is_told_and_the_default_posts(
    tmp_path: Path, files: dict[str, str], target: str
) -> None:
    """The formatters cut what they are given; a template's own text too long for the
    platform, however cut, is the template's fault: told, and the default posts."""
    problems: list[TemplateProblem] = []
    platforms = PLATFORMS.with_templates(
        load_templates(_folder(tmp_path, files), report=problems.append)
    )
    issue, _ = _sample("zh/2026-11-21-weekly.md")
    section, item = next((s, i) for s, i in issue.items() if i.postable)
    if "digest_line" in next(iter(files)):
        made = platforms[target].format_digest(issue, None, None)
        assert made == PLATFORMS[target].format_digest(issue, None, None)
    else:
        made_item = platforms[target].format_item(item, section.kind, issue, None)
        assert made_item == PLATFORMS[target].format_item(item, section.kind, issue, None)
    (problem,) = {p.key: p for p in problems}.values()
    assert problem.name == next(iter(files)).removesuffix(".j2")
    assert "the default" in problem.error or "cannot be made" in problem.error, problem.error


# ---- the sandbox --------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ title.__class__ }}",
        "{{ link.__globals__ }}",
        "{{ link.__code__.co_consts }}",
        "{{ (1).__class__.__base__.__subclasses__() }}",
        "{{ extras.append('x') }}{{ extras }}",  # a value it was given: not writable
        "{% set d = {} %}{{ d.update(a=1) }}",
        "{{ extras.__setitem__(0, 'x') }}",
        "{{ self.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ lipsum.__globals__['os'].system('true') }}",
    ],
)
def test_a_template_cannot_reach_python_internals_nor_write(tmp_path: Path, source: str) -> None:
    folder = _folder(tmp_path, {"x.item.j2": source})
    problems: list[TemplateProblem] = []
    templates = load_templates(folder, report=problems.append)
    issue, lang = _sample("en/2026-11-21-weekly.md")
    section, item = next((s, i) for s, i in issue.items() if i.postable)

    def post(t: PostTemplates | None) -> str:
        return format_item_x(
            item, section_kind=section.kind, issue=issue, issue_url=None, lang=lang, templates=t
        ).text

    assert post(templates) == post(None)
    assert problems, "the template was used"
    assert any(word in problems[0].error for word in ("SecurityError", "UndefinedError")), problems[
        0
    ].error
    assert "<class" not in post(templates)


# ---- the bot: the run's templates, the editors told once ----------------------------


async def test_the_running_bot_posts_with_its_templates_and_tells_the_editors_once(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    folder = _folder(
        tmp_path,
        {
            "telegram.release.zh.j2": "📖 {{ link(url, title) }} — {{ issue_label }}",
            "telegram.digest_header.zh.j2": "{% for %}",
            "telegram.item.j2": "{{ missing }}",
        },
    )
    settings = settings_for(fake_telegram, tmp_path, publishing={"templates_dir": folder})
    issue, _ = _sample("zh/2026-11-21-weekly.md")
    async with bot_running(settings) as runtime:
        svc = runtime.services

        def problem_notices() -> list[str]:
            return [
                m.text or ""
                for m in fake_telegram.sent(EDITOR_ID)
                if "Post template" in (m.text or "")
            ]

        async def told(n: int) -> bool:
            return len(problem_notices()) >= n

        # Both at start: the syntax error at load, the undefined name on the samples.
        await eventually(lambda: told(2))
        for _ in range(3):  # three issues' worth of item posts: no more notices
            for section, item in issue.items():
                if item.postable:
                    svc.platforms[TELEGRAM].format_item(item, section.kind, issue, None)
        row = plan_release(issue, TELEGRAM, pages=settings.repo.pages, platforms=svc.platforms)
        assert row is not None
        row_id = await svc.store.outbox.enqueue(
            idempotency_key=row.idempotency_key,
            target=TELEGRAM,
            kind=row.kind,
            payload=row.payload,
            now=0,
        )
        assert row_id is not None
        svc.delivery.wake()

        async def posted() -> bool:
            return any((m.text or "").startswith("📖") for m in fake_telegram.sent(CHANNEL_ID))

        await eventually(posted)
    notices = problem_notices()
    assert len(notices) == 2
    assert "telegram.digest_header.zh" in notices[0]
    assert "TemplateSyntaxError" in notices[0]
    assert "telegram.item" in notices[1]
    assert "UndefinedError" in notices[1]
    assert "built-in default" in notices[1]
    (release,) = [m for m in fake_telegram.sent(CHANNEL_ID) if (m.text or "").startswith("📖")]
    assert (release.text or "").endswith("— Python 潮流周刊 #901")


async def test_notices_wait_for_the_bot_and_go_once_per_file_content(
    fake_telegram: FakeTelegram,
) -> None:
    notices = TemplateNotices()
    one = TemplateProblem("telegram.item", "abc123abc123", "UndefinedError: 'x' is undefined")
    notices.report(one)
    notices.report(one)
    notices.report(TemplateProblem("telegram.item", "def456def456", "UndefinedError: again"))
    async with telegram_bot(fake_telegram) as bot:
        notices.attach(EditorChats(bot, (EDITOR_ID,)))
        notices.report(one)
        await notices.drain()
    texts = [m.text or "" for m in fake_telegram.sent(EDITOR_ID)]
    assert len(texts) == 2
    assert "abc123abc123" in texts[0]
    assert "def456def456" in texts[1]


# ---- weeklybot render ---------------------------------------------------------------


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("WEEKLYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def test_render_prints_what_a_template_produces(
    no_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample's digest as the formatter makes it: photo, header and all."""
    assert main(["render", "telegram.digest_header", "--templates-dir", str(no_settings)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# telegram.digest_header from telegram.digest_header.zh.j2 (bundled)")
    issue = sample_issue("zh")
    digest = format_digest_telegram(issue, issue_url=PAGES.url("zh", issue.date), lang="zh")
    photo = digest[0].parts[0]
    assert isinstance(photo, TelegramPhoto)
    assert f"[photo {photo.photo_url}]\n{photo.caption_html}" in out
    for post in digest[1:]:
        (part,) = post.parts
        assert isinstance(part, TelegramText)
        assert part.html in out
    assert "🐱🐱🐱🐱  第 901 期  🐱🐱🐱🐱" in out


def test_render_an_issue_file_with_an_editors_template(
    no_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (no_settings / "x.item.j2").write_text("{{ title }} → {{ url }}", encoding="utf-8")
    issue_file = SAMPLES / "en" / "2026-11-21-weekly.md"
    argv = ["render", "x.item", "--issue", str(issue_file), "--templates-dir", str(no_settings)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("# x.item from x.item.j2\n")
    issue = parse_issue(issue_file.read_text(encoding="utf-8"), filename=str(issue_file))
    first = next(i for _, i in issue.items() if i.postable and i.url)
    assert f"{first.title} → {first.url}" in out


def test_render_says_when_a_template_is_broken(
    no_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (no_settings / "x.release.j2").write_text("{{ nope }}", encoding="utf-8")
    assert main(["render", "x.release", "--templates-dir", str(no_settings)]) == 1
    captured = capsys.readouterr()
    assert "🔓 Python 潮流周刊 #901 全文现已免费阅读" in captured.out  # the default's
    assert "template x.release (" in captured.err
    assert "UndefinedError" in captured.err


def test_render_refuses_an_unknown_name_listing_the_names(
    no_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "telegram.itme", "--templates-dir", str(no_settings)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown template 'telegram.itme'; the templates are: ")
    assert all(name in err for name in TEMPLATES)


def test_render_refuses_a_file_that_is_no_issue(
    no_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stray = no_settings / "README.md"
    stray.write_text("# hello\n", encoding="utf-8")
    argv = ["render", "x.item", "--issue", str(stray), "--templates-dir", str(no_settings)]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: {stray}: ")


def test_bundled_templates_are_read_once() -> None:
    assert bundled_templates().defaults is bundled_templates().defaults
    assert PLATFORMS.with_templates(bundled_templates()).names == PLATFORMS.names


# ---- the Sunday roundup -------------------------------------------------------------

# The roundups below as `publishers.format_roundup` made them before templates (the
# code of commit 1ec75bd): the defaults must give these byte for byte.
ROUNDUP_GOLDEN = Path(__file__).parent / "fixtures" / "templates" / "roundup_golden.json"
AT = dt.datetime(2026, 12, 12, 9, 30, tzinfo=dt.UTC)


def roundup_cases() -> dict[str, tuple[Roundup, Any, str | None]]:
    """Frozen roundups (short, escaped, untitled, split) in every language, with and
    without the channel: what the roundup formatter made of them before templates."""
    week = (dt.date(2026, 12, 13), dt.date(2026, 12, 7), dt.date(2026, 12, 13))
    few = (
        RoundupEntry(
            "PyCoder's Weekly",
            'PyCoder\'s Weekly #712: <tips> & "tricks"',
            "https://pycoders.com/issues/712?a=1&b=2",
            AT,
            "#712",
            712,
        ),
        RoundupEntry("Python Weekly", "", "https://www.pythonweekly.com/p/issue-726", AT, "u1"),
        RoundupEntry(
            "Real Python",
            "Real Python: " + "a very long title " * 20,
            "https://realpython.com/podcasts/rpp/281/",
            AT,
            "#281",
            281,
        ),
    )
    many = tuple(
        RoundupEntry(
            "Alpha", f"Alpha #{n}: " + "long title " * 15, f"https://a.example/{n}", AT, f"#{n}", n
        )
        for n in range(1, 46)
    )
    cases: dict[str, tuple[Roundup, Any, str | None]] = {}
    for lang in ("zh", "en", "ja"):
        for channel in ("@pythontrendingweekly", None):
            tag = f"{lang}-{'channel' if channel else 'bare'}"
            cases[f"{tag}-few"] = (Roundup(*week, few), lang, channel)
    cases["zh-channel-split"] = (Roundup(*week, many), "zh", "@pythontrendingweekly")
    cases["en-bare-split"] = (Roundup(*week, many), "en", None)
    return cases


@pytest.mark.parametrize("case", sorted(roundup_cases()))
def test_the_roundup_defaults_give_todays_roundup_byte_for_byte(case: str) -> None:
    golden = json.loads(ROUNDUP_GOLDEN.read_text(encoding="utf-8"))[case]
    roundup, lang, channel = roundup_cases()[case]
    made = format_roundup_telegram(roundup, lang=lang, channel=channel)
    assert [p.to_payload() for p in made] == golden
    via = PLATFORMS.with_templates(load_templates(None))[TELEGRAM].format_roundup
    assert via is not None
    assert [p.to_payload() for p in via(roundup, lang, channel)] == golden


def test_a_changed_template_changes_the_roundup(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "telegram.roundup_header.en.j2": "<b>Elsewhere</b> {{ start }} → {{ end }}",
            "telegram.roundup_entry.j2": "{{ mark }} {{ newsletter }}: {{ link(url, title) }}",
        },
    )
    problems: list[TemplateProblem] = []
    platforms = PLATFORMS.with_templates(load_templates(folder, report=problems.append))
    roundup = sample_roundup(dt.date(2026, 11, 21))
    formatter = platforms[TELEGRAM].format_roundup
    assert formatter is not None
    (post,) = formatter(roundup, "en", "@pythontrendingweekly")
    html = post.parts[0].html  # type: ignore[union-attr]
    assert html.startswith(
        "<b>Elsewhere</b> 2026.11.16 → 2026.11.22\n\n① PyCoder's Weekly: <a href="
    )
    assert "&amp; &lt;Async&gt;" in html
    assert html.endswith("🐱 Channel @pythontrendingweekly")
    # zh has no header override: the bundled one, with the changed entry.
    (zh,) = formatter(roundup, "zh", None)
    assert zh.parts[0].html.startswith("Python 社区中")  # type: ignore[union-attr]
    assert "① PyCoder" in zh.parts[0].html  # type: ignore[union-attr]
    assert problems == []


def test_render_shows_the_sample_roundup(
    no_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (no_settings / "telegram.roundup_entry.j2").write_text(
        "{{ mark }} {{ newsletter }}", encoding="utf-8"
    )
    assert main(["render", "telegram.roundup_entry", "--templates-dir", str(no_settings)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# telegram.roundup_entry from telegram.roundup_entry.j2\n")
    assert "时间：2026.11.16 - 2026.11.22" in out
    assert "④ Django News" in out
