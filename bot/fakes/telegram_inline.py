"""Inline mode in the fake Telegram: a user's `@bot words` and the bot's answerInlineQuery.

The rules answerInlineQuery documents (core.telegram.org/bots/api#answerinlinequery,
#inlinequeryresultarticle), checked as Telegram answers them:

- the query id must be one Telegram sent and not answered yet;
- no more than 50 results;
- each result has a `type` and an `id` of 1-64 bytes, unique within the answer;
- an article has a `title` and an `input_message_content` whose `message_text` is a
  message Telegram would send (1-4096 characters after entities are parsed);
- `next_offset` is at most 64 bytes; `cache_time` a non-negative integer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.fakes.telegram_model import JSON, FakeUser, bad_request
from bot.fakes.telegram_params import message_text
from bot.fakes.telegram_updates import UpdateQueue

INLINE_RESULTS_MAX = 50
INLINE_ID_MAX_BYTES = 64
INLINE_OFFSET_MAX_BYTES = 64
INLINE_QUERY_MAX_CHARS = 256  # what a client sends of the text after @bot
_TYPES = frozenset(
    {
        "article",
        "photo",
        "gif",
        "mpeg4_gif",
        "video",
        "audio",
        "voice",
        "document",
        "location",
        "venue",
        "contact",
        "game",
        "sticker",
    }
)


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """An answerInlineQuery the fake accepted."""

    inline_query_id: str
    user_id: int
    query: str
    offset: str
    results: tuple[JSON, ...]
    cache_time: int
    is_personal: bool
    next_offset: str
    # Each article's message as Telegram would post it (text after parsing).
    messages: tuple[str, ...] = field(default=())


class InlineQueries:
    def __init__(self, updates: UpdateQueue) -> None:
        self.updates = updates
        self.answers: list[InlineAnswer] = []
        self._pending: dict[str, tuple[int, str, str]] = {}
        self._ids = itertools.count(1)

    def push(self, user: FakeUser, query: str, offset: str = "", chat_type: str = "sender") -> str:
        """The user types `@bot query` (or scrolls to `offset`); returns the query id."""
        query_id = str(next(self._ids) * 104729 + 7 * 10**15)
        query = query[:INLINE_QUERY_MAX_CHARS]
        self._pending[query_id] = (user.id, query, offset)
        self.updates.push(
            "inline_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "query": query,
                "offset": offset,
                "chat_type": chat_type,
            },
        )
        return query_id

    def answer(self, params: JSON) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._pending:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > INLINE_RESULTS_MAX:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        messages: list[str] = []
        for result in results:
            messages += _check_result(result, seen)
        next_offset = str(params.get("next_offset") or "")
        if len(next_offset.encode()) > INLINE_OFFSET_MAX_BYTES:
            raise bad_request("NEXT_OFFSET_INVALID")
        cache_time = params.get("cache_time", 300)
        if isinstance(cache_time, bool) or not isinstance(cache_time, int) or cache_time < 0:
            raise bad_request("CACHE_TIME_INVALID")
        user_id, query, offset = self._pending.pop(query_id)  # a query is answered once
        self.answers.append(
            InlineAnswer(
                query_id,
                user_id,
                query,
                offset,
                tuple(results),
                cache_time,
                params.get("is_personal") in (True, "true"),
                next_offset,
                tuple(messages),
            )
        )
        return True


def _check_result(result: Any, seen: set[str]) -> list[str]:
    if not isinstance(result, dict):
        raise bad_request("can't parse inline query result JSON object")
    if result.get("type") not in _TYPES:
        raise bad_request("RESULT_TYPE_INVALID")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= INLINE_ID_MAX_BYTES:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    if result["type"] != "article":
        return []
    if not result.get("title"):
        raise bad_request("RESULT_TITLE_EMPTY")
    content = result.get("input_message_content")
    if not isinstance(content, dict) or "message_text" not in content:
        raise bad_request("input_message_content of an article must have a message_text")
    parsed = message_text({**content, "text": content.get("message_text")})
    return [parsed.text]
