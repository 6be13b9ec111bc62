"""Inline mode: `@bot words` answered within Telegram's limits, paged by next_offset, and
the fake's answerInlineQuery refusing what Telegram refuses."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from bot.fakes.telegram import FakeTelegram
from bot.fakes.telegram_inline import InlineAnswer
from tests.archive_support import PAGER, archive_bot, archive_template, until
from tests.conftest import READER_ID, TOKEN

ZH_READER = 2201


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return archive_template(tmp_path_factory.mktemp("archive"))


async def inline(tg: FakeTelegram, user_id: int, query: str, offset: str = "") -> InlineAnswer:
    before = len(tg.inline_answers)
    query_id = tg.inline_query(user_id, query, offset)
    await until(lambda: len(tg.inline_answers) > before)
    answer = tg.inline_answers[before]
    assert answer.inline_query_id == query_id
    return answer


def within_limits(answer: InlineAnswer) -> None:
    ids = [r["id"] for r in answer.results]
    assert len(answer.results) <= 50
    assert len(set(ids)) == len(ids)
    assert all(1 <= len(i.encode()) <= 64 for i in ids)
    assert len(answer.next_offset.encode()) <= 64
    assert answer.cache_time > 0


async def test_inline_results_page_by_next_offset_within_telegrams_limits(
    fake_telegram: FakeTelegram, tmp_path: Path, template: Path
) -> None:
    fake_telegram.add_user(ZH_READER, "小明", "xiaoming", language_code="zh-hans")
    async with archive_bot(fake_telegram, tmp_path, template):
        first = await inline(fake_telegram, ZH_READER, "分页测试")
        within_limits(first)
        assert first.next_offset == "20"
        second = await inline(fake_telegram, ZH_READER, "分页测试", first.next_offset)
        within_limits(second)
        assert second.next_offset == ""  # the end
        ids = [r["id"] for r in first.results + second.results]
        assert len(ids) == len(set(ids)) == PAGER
        article = first.results[0]
        assert article["type"] == "article"
        assert article["title"].startswith("pager-")
        assert article["description"] == "第 400 期 · 2032-01-03 · 项目&资源"
        assert article["input_message_content"]["parse_mode"] == "HTML"
        # What the reader shares: the linked title and where it appeared, as posted.
        assert (
            first.messages[0]
            == f"{article['title']}\nPython潮流周刊 第 400 期 · 2032-01-03 · 项目&资源"
        )
        assert first.is_personal

        english = await inline(fake_telegram, READER_ID, "crawler lang:en")
        assert [r["title"] for r in english.results] == [
            "crawlkit: a light crawler framework",
            "How database indexes work",
        ]
        assert english.results[0]["url"] == "https://github.com/example/crawlkit"
        assert english.results[0]["description"] == "#301 · 2030-03-02 · Projects"

        for hostile in ('"zzq', "NEAR(zzq", "*", "", "   ", "zzq AND -", "{title}:zzq^"):
            answer = await inline(fake_telegram, READER_ID, hostile)
            assert answer.results == ()
            assert answer.next_offset == ""
        # An operator's name is a word like any other: `AND` finds "and".
        words = await inline(fake_telegram, READER_ID, "AND crawler")
        assert [r["title"] for r in words.results] == ["How database indexes work"]
        forged = await inline(fake_telegram, READER_ID, "分页测试", "not-a-number")
        assert forged.results == ()
        assert fake_telegram.violations == []


async def test_the_fake_refuses_what_telegram_refuses(fake_telegram: FakeTelegram) -> None:
    def article(result_id: str) -> dict[str, object]:
        return {
            "type": "article",
            "id": result_id,
            "title": "t",
            "input_message_content": {"message_text": "hello"},
        }

    async with httpx.AsyncClient(base_url=f"{fake_telegram.base_url}{TOKEN}") as http:

        async def answer(**params: object) -> dict[str, object]:
            query_id = fake_telegram.inline_query(READER_ID, "x")
            body = {"inline_query_id": query_id, **params}
            reply = await http.post("/answerInlineQuery", json=body)
            parsed: dict[str, object] = reply.json()
            return parsed

        def refused(reply: dict[str, object], why: str) -> None:
            assert reply["ok"] is False
            assert why in str(reply["description"])

        refused(await answer(results=[article(str(i)) for i in range(51)]), "RESULTS_TOO_MUCH")
        refused(await answer(results=[article("a"), article("a")]), "RESULT_ID_DUPLICATE")
        refused(await answer(results=[article("")]), "RESULT_ID_INVALID")
        refused(await answer(results=[article("x" * 65)]), "RESULT_ID_INVALID")
        refused(await answer(results=[], next_offset="9" * 65), "NEXT_OFFSET_INVALID")
        empty_text = {**article("a"), "input_message_content": {"message_text": ""}}
        refused(await answer(results=[empty_text]), "message text is empty")
        ok = await answer(results=[article(str(i)) for i in range(50)], next_offset="9" * 64)
        assert ok == {"ok": True, "result": True}
        # Answered once: a second answer to the same query is too late.
        query_id = fake_telegram.inline_query(READER_ID, "y")
        for expected in (True, False):
            reply = await http.post(
                "/answerInlineQuery",
                content=json.dumps({"inline_query_id": query_id, "results": []}),
                headers={"content-type": "application/json"},
            )
            assert reply.json()["ok"] is expected
