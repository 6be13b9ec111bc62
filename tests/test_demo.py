"""`weeklybot demo` end to end, as a user runs it, at DEBUG: it works and leaks nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.ops.demo import CHANNEL_NAME, DEMO_TOKEN, GITHUB_REPO, GITHUB_TOKEN, X_KEYS, sample_issue


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WEEKLYBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--log-level", "DEBUG", "demo"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path_factory.mktemp("demo"),
        timeout=120,
        check=False,
    )


@pytest.mark.slow  # the whole demo, in a subprocess
def test_demo_exits_0(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert demo_run.returncode == 0, demo_run.stderr[-3000:]


def test_demo_never_prints_a_secret(demo_run: subprocess.CompletedProcess[str]) -> None:
    output = demo_run.stdout + demo_run.stderr
    assert "level=DEBUG" in output  # the run really logged at DEBUG
    for secret in (DEMO_TOKEN, GITHUB_TOKEN, *X_KEYS.values()):
        assert secret not in output
    assert DEMO_TOKEN.split(":", 1)[1] not in output


def test_transcript_shows_every_platform(demo_run: subprocess.CompletedProcess[str]) -> None:
    out = demo_run.stdout
    assert f"=== Telegram channel @{CHANNEL_NAME} ===" in out
    assert "=== X (@demo user) ===" in out
    assert "[user #1] /start" in out
    assert "/help - List the commands" in out
    zh, en = sample_issue("zh"), sample_issue("en")
    for section, item in zh.items():
        assert item.title in out, f"zh item {section.kind} {item.index} missing on the channel"
    x_part = out.split("=== X (@demo user) ===", 1)[1]
    for _, item in en.items():
        assert item.url is not None
        assert item.url in x_part
    assert "queued" not in out.split("outbox:", 1)[1].splitlines()[0]
    assert "flood-limit violations seen by the fake Telegram: 0" in out


def test_repository_act_previews_approves_and_announces_the_release(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    out = demo_run.stdout
    editor = out.split("=== Telegram private chat with the editor", 1)[1].split("=== ", 1)[0]
    assert "New issue #902" in editor
    assert "(before the decision): [Publish now] [Schedule as planned] [Edit] [Skip]" in editor
    assert "Published now by @cat_edits" in editor
    # The English file lands after the decision: X follows it, no second card; the card
    # (shown as it ends) no longer says X waits, it shows X's digest as queued.
    assert "X (en): digest in 2 posts at" in editor
    assert "X (en): waiting for the en file" not in editor
    assert "#902: x (en) arrived;" in editor
    assert "queued as published by @cat_edits" in editor
    assert editor.count("New issue #902") == 1
    channel = out.split("=== Telegram channel", 1)[1].split("=== X", 1)[0]
    # The channel's own digest of the summary issue: cover photo, banner, items ①②.
    assert "#Python潮流周刊" in channel
    assert "🐱🐱🐱🐱  第 902 期  🐱🐱🐱🐱" in channel
    assert "① slotplan" in channel
    assert "🐱频道 @pythontrendingweekly" in channel
    assert "#852 全文现已免费阅读" in channel
    x_part = out.split("=== X (@demo user) ===", 1)[1]
    assert "#852 is now free to read" in x_part
    assert "Python Trending Weekly #902" in x_part


def test_submission_act_shows_each_step(demo_run: subprocess.CompletedProcess[str]) -> None:
    steps = demo_run.stdout.split("=== Act 4: a reader's link, step by step ===", 1)[1]
    assert "bot: Received, #1: an editor will look at it." in steps
    assert "bot: Already submitted (#1), waiting for review." in steps
    assert "answer: Not allowed.; card edits: 0, channel posts of it: 0" in steps
    assert "answer: ✅ Approved by you." in steps
    assert f"Your link #1 is on the channel: https://t.me/{CHANNEL_NAME}/" in steps
    assert "reader: /mysubmissions  ->  bot: Your last 1 link(s), newest first:" in steps
    assert "#1 · 🎉 on the channel / " in steps
    assert f"On the channel: https://t.me/{CHANNEL_NAME}/" in steps
    channel = demo_run.stdout.split("=== Telegram channel", 1)[1].split("=== X", 1)[0]
    assert channel.count("Ten asyncio tips") == 1
    x_part = demo_run.stdout.split("=== X (@demo user) ===", 1)[1].split("=== GitHub", 1)[0]
    assert x_part.count("Ten asyncio tips") == 1


def test_a_zh_reader_is_answered_and_told_in_chinese(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    out = demo_run.stdout
    chat = out.split("=== Telegram private chat with the reader @xiaoming_reads", 1)[1]
    chat = chat.split("=== ", 1)[0]
    assert "你好！我是「Python潮流周刊」的机器人。" in chat
    assert "收到，编号 #2，编辑会尽快查看。" in chat
    assert (
        "buttons: [👥 适合谁] [🧩 解决什么问题] [🎓 难度：高级]"
        " [👤 @xiaoming_reads] [✅ 👤 署我的名字] [🙈 匿名]"
    ) in chat
    assert "🎉 你推荐的链接 #2 已发布到频道：https://t.me/" in chat
    assert "你最近的 1 个链接，最新的在前：" in chat
    assert "#2 · 🎉 已发布到频道" in chat
    # /follow before #902, then one keyword alert (zh, then en queued: still one).
    assert "✅ 已关注：git、排期。" in chat
    assert chat.count("🔔 第 902 期有条目提到你关注的词：") == 1
    assert "• 用 git 作为数据源：本地镜像与增量拉取 · git" in chat
    assert "• slotplan：在时间窗口里均匀排期 · 排期" in chat
    menus = out.split("=== The command menu per language (setMyCommands) ===", 1)[1]
    assert "default (en): /start What this bot is" in menus
    assert "zh: /start 介绍这个机器人" in menus


def test_the_approved_link_is_filed_once_as_a_github_issue(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    out = demo_run.stdout
    github = out.split(f"=== GitHub issues of {GITHUB_REPO} (fake) ===", 1)[1].split("===")[0]
    # Act 4's link, then act 5's: each approved link is one issue.
    assert github.count("[issue #") == 2
    assert "[issue #1 [submission]] Ten asyncio tips" in github
    assert "[issue #2 [submission]] Structural pattern matching in practice" in github
    assert github.count("<!-- weeklybot:submission:1 -->") == 1
    assert github.count("<!-- weeklybot:submission:2 -->") == 1
    assert "- **Level:** intermediate" in github
    filed = f"GitHub {GITHUB_REPO}: issue #1 'Ten asyncio tips' labels ['submission'] filed once"
    assert filed in out


def test_status_act_shows_the_editor_what_runs_and_refuses_a_reader(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    act = demo_run.stdout.split("=== Act 8: /status ===", 1)[1].split("outbox:", 1)[0]
    assert "Status at " in act
    source = next(line for line in act.splitlines() if "last poll " in line)
    assert source.endswith("; no error")  # the repository, polled once per act
    assert any(line.strip().startswith("• Telegram: ") for line in act.splitlines())
    assert "quota 15 min " in act  # X's headers, as the fake X sent them
    assert "Paused: none" in act
    assert "Extra-edition queue: " in act
    assert "reader: /status → This command is for editors." in act


def test_extra_act_takes_one_item_through_the_queue(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    steps = demo_run.stdout.split("=== Act 6: the extra edition's queue ===", 1)[1]
    assert "bot: This command is for editors." in steps
    assert "card: 🗞 Extra edition #1" in steps
    assert " / Telegram: / " in steps
    assert " / X: / " in steps
    assert "card buttons: xq:1:dr:1 xq:1:ed:1 xq:1:now:1 xq:1:q:1" in steps
    assert "answer: Queued #1, planned " in steps
    assert "1 queued, at most 3 a day per target" in steps
    assert "inside the posting window: True; rows: telegram, x, key extra:1" in steps
    assert "channel posts of it: 1, X posts of it: 1; left in the queue: 0" in steps


def test_the_roundup_act_previews_posts_once_and_reports_the_feed_that_is_down(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    out = demo_run.stdout
    channel = out.split("=== Telegram channel", 1)[1].split("=== X", 1)[0]
    assert channel.count("① PyCoder's Weekly Issue #712: async generators") == 1
    assert "Sponsor: a hosted notebook" not in channel  # the #N entry wins
    assert "② Django News Issue 310 - Django 6.1" in channel
    act = out.split("=== Act 7: the Sunday roundup, step by step ===", 1)[1]
    assert "editor: /roundup an hour before Sun" in act
    assert "• Data Science Weekly: the feed could not be read (HTTP 503)" in act


def test_draft_act_sends_the_next_issue_as_a_file(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    act = demo_run.stdout.split("=== Act 9: the next issue's draft ===", 1)[1]
    act = act.split("outbox:", 1)[0]
    assert "editor: /draft → file draft-903.md" in act
    assert "# Python 潮流周刊#903：" in act
    assert "（@Alice 投稿）" in act  # the reader's credit, as the newsletter writes it
    assert "The walrus operator, two years on" in act  # the extra-edition item
    assert "reader: /draft → This command is for editors." in act


def test_the_archive_act_searches_and_answers_inline(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    act = demo_run.stdout.split("=== Act 10: the archive: /search and an inline query ===", 1)[1]
    assert "reader: /search asyncio →" in act
    assert "1. Writing an asyncio outbox that never loses a message" in act
    assert "#901 · 2026-11-21 · Articles" in act
    assert "zh reader: @bot 异步 → 2 inline results (cache_time 300s):" in act
    assert "为什么你的异步代码需要超时 — 第 852 期 · 2025-12-13 · 文章&教程" in act
