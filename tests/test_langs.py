"""The reader's language, end to end: the running bot (real PTB) on the fake Telegram.

A reader whose client says zh-hans is answered in Chinese, one whose client says en (or
nothing) in English; `/lang` switches and the choice survives a restart; the notice of
a publication or an expiry (sent without an update of theirs) is in the submitter's
language, and so are the submitter's own tools (/mysubmissions, /withdraw, /credit,
/forgetme, the pointer to the private chat); /forgetme deletes the stored language; the
command menu is set per language and read back from the fake.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

import pytest
import telegram

from bot.domain.urls import EXAMPLE_URL, Rule
from bot.fakes.telegram import ChatMessage, FakeTelegram
from bot.texts import text
from data.db import Database
from data.langs import UserLangStore
from data.migrations import migrate
from handlers.commands import COMMANDS, reader_menu
from handlers.reminders import REMINDER_JOB
from handlers.submissions import REFUSED_TEXTS
from tests.conftest import CHANNEL_USERNAME, EDITOR_ID, READER_ID, ManualClock
from tests.test_submissions_bot import (
    READERS_GROUP,
    World,
    has_cards,
    labels,
    until,
    world_with,
)

ZH_ID = 2001  # a reader whose Telegram is in Simplified Chinese
EN_ID = 2002  # a reader whose Telegram is in English
ZH_ACCEPTED = "收到，编号 #"


@pytest.fixture
async def world(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    fake_telegram.add_user(ZH_ID, "小明", "xiaoming", language_code="zh-hans")
    fake_telegram.add_user(EN_ID, "Ann", "ann", language_code="en")
    async with world_with(fake_telegram, tmp_path) as started:
        yield started


async def lang_press(world: World, user_id: int, message: ChatMessage, data: str) -> str | None:
    answers = len(world.tg.answers)
    await until(lambda: data in world.tg.message(user_id, message.message_id).callback_data())
    world.tg.press(user_id, user_id, message.message_id, data)
    await until(lambda: len(world.tg.answers) > answers)
    return world.tg.answers[answers].text


async def test_a_zh_client_is_answered_in_chinese_an_en_or_unknown_one_in_english(
    world: World,
) -> None:
    zh = await world.say(ZH_ID, "/start")
    assert zh.text == text("start.welcome", "zh")
    assert (zh.text or "").startswith("你好！我是「Python潮流周刊」的机器人。")
    en = await world.say(EN_ID, "/start")
    assert en.text == text("start.welcome", "en")
    none = await world.say(READER_ID, "/start")  # the fake's reader sends no language_code
    assert none.text == text("start.welcome", "en")

    help_zh = await world.say(ZH_ID, "/help")
    assert (help_zh.text or "").splitlines()[0] == "可用命令："
    assert "/submit - 向频道推荐链接：/submit <链接> [备注]" in (help_zh.text or "")
    assert "/outbox" not in (help_zh.text or "")  # not an editor
    help_en = await world.say(EN_ID, "/help")
    assert (help_en.text or "").splitlines()[0] == "Commands:"


async def test_a_zh_readers_submission_its_buttons_and_the_notices_are_chinese(
    world: World,
) -> None:
    url = world.page("zh-csv")
    receipt = await world.say(ZH_ID, f"/submit {url}")
    assert (receipt.text or "").startswith(ZH_ACCEPTED), receipt.text
    assert (receipt.text or "").endswith("，编辑会尽快查看。")
    sid = int((receipt.text or "").split("#")[1].split("，")[0])
    assert labels(receipt) == [
        "👥 适合谁",
        "🧩 解决什么问题",
        "🎓 难度",
        "👤 @xiaoming",
        "✅ 👤 署我的名字",
        "🙈 匿名",
    ]
    await has_cards(world, sid)
    card = world.card(sid).text or ""
    assert "📥 Submitted link" in card  # the editors' card stays in English

    answers = len(world.tg.answers)
    world.tg.press(ZH_ID, ZH_ID, receipt.message_id, f"rd:1:cr:username:{sid}")
    await until(lambda: len(world.tg.answers) > answers)
    assert world.tg.answers[answers].text == (
        "已保存，对你所有的链接生效：发布时会注明来自 @xiaoming。"
    )
    await until(lambda: "✅ 👤 @xiaoming" in labels(world.tg.message(ZH_ID, receipt.message_id)))

    answers = len(world.tg.answers)
    world.tg.press(ZH_ID, ZH_ID, receipt.message_id, f"rd:1:lv:{sid}")
    await until(lambda: len(world.tg.answers) > answers)
    assert world.tg.answers[answers].text == "请选择难度。"
    await until(
        lambda: "入门" in labels(world.tg.message(ZH_ID, receipt.message_id))  # the level menu
    )
    assert labels(world.tg.message(ZH_ID, receipt.message_id)) == ["入门", "进阶", "高级", "返回"]

    # Approved: the notice after the channel post is sent runs without any update of
    # the reader's, so it reads the stored language.
    assert await world.press(EDITOR_ID, sid, "ap") == "✅ Approved by you."
    await until(lambda: len(world.channel_posts()) == 1)
    post = world.channel_posts()[0]
    link = f"https://t.me/{CHANNEL_USERNAME}/{post.message_id}"
    told = f"🎉 你推荐的链接 #{sid} 已发布到频道：{link}"
    await until(lambda: any(m.text == told for m in world.tg.sent(ZH_ID)))


async def test_a_refused_link_is_explained_in_chinese(world: World) -> None:
    reply = await world.say(ZH_ID, "/submit ftp://example.com/file")
    assert (
        reply.text
        == f"没能收下（scheme）：只接受以 https:// 或 http:// 开头的链接，例如 {EXAMPLE_URL}"
    )
    english = await world.say(EN_ID, "/submit ftp://example.com/file")
    assert english.text is not None
    assert english.text.startswith("Not accepted (scheme): Only http:// and https:// links")
    assert "(got ftp:)" in english.text  # the rules' own detailed reason, in English


def test_every_refusal_rule_has_its_text() -> None:
    assert set(REFUSED_TEXTS) == {*get_args(Rule), "note"}


async def test_a_rejection_reaches_the_zh_reader_with_the_reason_in_chinese(
    world: World,
) -> None:
    receipt = await world.say(ZH_ID, f"/submit {world.page('zh-off')}")
    sid = int((receipt.text or "").split("#")[1].split("，")[0])
    await has_cards(world, sid)
    await world.press(EDITOR_ID, sid, "rj")
    await world.press(EDITOR_ID, sid, "rj:off_topic")
    told = f"你推荐的链接 #{sid} 这次没有被采用：和周刊的主题不太相关。感谢推荐！"
    await until(lambda: any(m.text == told for m in world.tg.sent(ZH_ID)))
    # The card gives the reason in English.
    await until(lambda: "Reason: it is off-topic for the weekly" in (world.card(sid).text or ""))


async def test_lang_switches_by_argument_and_by_button_and_wins_over_the_client(
    world: World,
) -> None:
    assert (
        await world.say(ZH_ID, "/lang en")
    ).text == "OK, I'll write to you in English from now on."
    assert (await world.say(ZH_ID, "/start")).text == text("start.welcome", "en")  # client: zh
    assert (await world.say(ZH_ID, "/lang fr")).text == text("lang.unknown", "en")

    ask = await world.say(EN_ID, "/lang")
    assert ask.text == "Which language should I use with you?"
    assert labels(ask) == ["中文", "English"]
    assert await lang_press(world, EN_ID, ask, "lang:1:zh:0") == "好的，之后我会用中文和你交流。"
    await until(lambda: world.tg.message(EN_ID, ask.message_id).text == text("lang.set", "zh"))
    assert not world.tg.message(EN_ID, ask.message_id).callback_data()  # the buttons are gone
    reply = await world.say(EN_ID, f"/submit {world.page('en-choice')}")
    assert (reply.text or "").startswith(ZH_ACCEPTED), reply.text


async def test_the_choice_persists_across_a_restart(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.add_user(ZH_ID, "小明", "xiaoming", language_code="zh-hans")
    async with world_with(fake_telegram, tmp_path) as world:
        assert (await world.say(ZH_ID, "/lang en")).text == text("lang.set", "en")
    async with world_with(fake_telegram, tmp_path) as world:
        assert (await world.say(ZH_ID, "/help")).text == (
            "\n".join(
                [
                    "Commands:",
                    *(f"/{c.name} - {c.description('en')}" for c in COMMANDS if not c.editors_only),
                ]
            )
        )
        stored = await world.runtime.services.store.langs.get(ZH_ID)
        assert stored is not None
        assert (stored.lang, stored.chosen) == ("en", True)


async def test_without_a_choice_the_language_follows_the_client(world: World) -> None:
    assert (await world.say(EN_ID, "/start")).text == text("start.welcome", "en")
    world.tg.api.users[EN_ID].language_code = "zh-hant"  # the reader switched their app
    assert (await world.say(EN_ID, "/start")).text == text("start.welcome", "zh")
    stored = await world.runtime.services.store.langs.get(EN_ID)
    assert stored is not None
    assert (stored.lang, stored.chosen) == ("zh", False)


async def test_the_command_menu_is_set_per_language(world: World) -> None:
    async with telegram.Bot(world.tg.token, base_url=world.tg.base_url) as bot:
        default = await bot.get_my_commands()
        zh = await bot.get_my_commands(language_code="zh")
    assert [(c.command, c.description) for c in default] == reader_menu("en")
    assert [(c.command, c.description) for c in zh] == reader_menu("zh")
    assert [c.command for c in zh] == [
        "start",
        "help",
        "submit",
        "cancel",
        "mysubmissions",
        "withdraw",
        "credit",
        "forgetme",
        "lang",
        "search",
        "follow",
        "following",
        "unfollow",
        "latest",
        "issue",
    ]
    assert zh[2].description == "向频道推荐链接：/submit <链接> [备注]"
    assert zh[7].description == "从机器人中删除你的名字、用户名、语言和备注"
    assert "outbox" not in {c.command for c in default}  # editors-only: not in the menu


async def test_the_stored_language_a_choice_wins_over_what_the_client_says(
    tmp_path: Path,
) -> None:
    async with Database.open(tmp_path / "weekly.db") as db:
        await migrate(db, now=time.time())
        langs = UserLangStore(db)
        assert await langs.get(7) is None
        await langs.observe(7, "zh", now=1.0)
        await langs.observe(7, "zh", now=2.0)  # unchanged: the row keeps its time
        found = await langs.get(7)
        assert found is not None
        assert (found.lang, found.chosen, found.set_at) == ("zh", False, 1.0)
        await langs.choose(7, "en", now=3.0)
        await langs.observe(7, "zh", now=4.0)  # the client's language no longer overrides
        found = await langs.get(7)
        assert found is not None
        assert (found.lang, found.chosen, found.set_at) == ("en", True, 3.0)


async def zh_submitted(world: World, name: str) -> int:
    receipt = await world.say(ZH_ID, f"/submit {world.page(name)}")
    assert (receipt.text or "").startswith(ZH_ACCEPTED), receipt.text
    sid = int((receipt.text or "").split("#")[1].split("，")[0])
    await has_cards(world, sid)
    return sid


async def test_the_submitters_tools_answer_a_zh_reader_in_chinese(world: World) -> None:
    waiting = await zh_submitted(world, "zh-wait")
    rejected = await zh_submitted(world, "zh-rej")
    await world.press(EDITOR_ID, rejected, "rj")
    assert await world.press(EDITOR_ID, rejected, "rj:paywalled") == "❌ Rejected by you."
    told = f"你推荐的链接 #{rejected} 这次没有被采用：需要付费才能阅读。感谢推荐！"
    await until(lambda: any(m.text == told for m in world.tg.sent(ZH_ID)))

    mine = (await world.say(ZH_ID, "/mysubmissions")).text or ""
    blocks = mine.split("\n\n")
    assert blocks[0] == "你最近的 2 个链接，最新的在前："
    assert blocks[1].startswith(f"#{rejected} · ❌ 未被采用\n")
    assert blocks[1].endswith("原因：需要付费才能阅读")
    assert blocks[2].startswith(f"#{waiting} · ⏳ 等待审核\n")

    assert (await world.say(ZH_ID, "/withdraw")).text == text("withdraw.usage", "zh")
    assert (await world.say(ZH_ID, "/withdraw 99999")).text == (
        "你没有编号为 #99999 的链接。/mysubmissions 会列出你的链接。"
    )
    assert (await world.say(ZH_ID, f"/withdraw {rejected}")).text == (
        f"#{rejected} 已经不能撤回了：它已被拒绝。"
    )
    assert (await world.say(ZH_ID, f"/withdraw {waiting}")).text == (
        f"↩️ #{waiting} 已撤回：编辑不会再审核它。"
    )

    menu = await world.say(ZH_ID, "/credit")
    assert menu.text == text("credit.ask", "zh")
    assert labels(menu) == ["👤 @xiaoming", "✅ 👤 署我的名字", "🙈 匿名"]
    assert await lang_press(world, ZH_ID, menu, f"cr:1:anonymous:{ZH_ID}") == (
        "已保存，对你所有的链接生效：发布时不会出现你的名字。"
    )
    # Someone else's press is refused in the presser's language.
    answers = len(world.tg.answers)
    world.tg.press_forged(EN_ID, ZH_ID, menu.message_id, f"cr:1:name:{ZH_ID}")
    await until(lambda: len(world.tg.answers) > answers)
    assert world.tg.answers[answers].text == "Not allowed."

    # In a group: a pointer to the private chat, in their language.
    for line in ("/mysubmissions", "/withdraw 1", "/credit", "/forgetme"):
        reply = await world.say(ZH_ID, line, READERS_GROUP)
        assert reply.text == "请私聊问我：这涉及你自己推荐的链接。"


async def test_forgetme_in_chinese_deletes_the_stored_language(world: World) -> None:
    await zh_submitted(world, "zh-forget")
    assert (await world.say(ZH_ID, "/lang zh")).text == text("lang.set", "zh")
    langs = world.runtime.services.store.langs
    assert await langs.get(ZH_ID) is not None
    ask = await world.say(ZH_ID, "/forgetme")
    assert (ask.text or "").startswith("这会删除机器人保存的关于你的信息")
    assert "其中仍在等待审核的 1 个会被撤回" in (ask.text or "")
    assert labels(ask) == ["🗑 删除我的信息", "取消"]
    (ok,) = [d for d in ask.callback_data() if d.startswith("fg:1:ok:")]
    assert await lang_press(world, ZH_ID, ask, ok) == "已完成。"
    done = text("forget.done", "zh", withdrawn=1)
    await until(lambda: world.tg.message(ZH_ID, ask.message_id).text == done)
    assert await langs.get(ZH_ID) is None  # the choice is forgotten with the rest
    # A later message is answered in the language their app sends, stored anew as seen.
    assert (await world.say(ZH_ID, "/start")).text == text("start.welcome", "zh")
    again = await langs.get(ZH_ID)
    assert again is not None
    assert (again.lang, again.chosen) == ("zh", False)


async def test_the_expiry_notice_reads_the_stored_language(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.add_user(ZH_ID, "小明", "xiaoming", language_code="zh-hans")
    clock = ManualClock(1_750_000_000.0)
    async with world_with(fake_telegram, tmp_path, clock=clock, expire_days=3) as world:
        sid = await zh_submitted(world, "zh-expire")
        app = world.runtime.application
        assert app.job_queue is not None
        (job,) = app.job_queue.get_jobs_by_name(REMINDER_JOB)
        clock.now += 3 * 24 * 3600 + 3600
        await job.run(app)  # a job: no update of the reader's
        assert (await world.row(sid)).state == "expired"
        told = f"⌛ 你推荐的链接 #{sid} 等待审核太久，已经过期。感谢推荐，你可以重新发送。"
        await until(lambda: any(m.text == told for m in world.tg.sent(ZH_ID)))
