"""A reader's messages answered in the order they came, though some are handled as tasks.

The link path of `/submit` runs as an Application task (`handlers.submissions`), so a
burst of readers' links shares one group commit; PTB then dispatches the next updates
before that task has replied. A handler takes its `Turn` in the chat when PTB hands it
the update (`ChatTurns.take`: synchronous, so in the order PTB dispatches: the
updates' order), and enters it before it replies: entering waits until every turn
taken before in that chat is over. Other chats never wait for each other.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class ChatTurns:
    """Per chat, the turns not over yet: only the last one taken is kept."""

    def __init__(self) -> None:
        self._last: dict[int, asyncio.Future[None]] = {}

    def take(self, chat_id: int) -> Turn:
        """The place after every turn taken before in `chat_id` (call it before any await
        of the update's handling, or in a blocking handler: the dispatch order)."""
        over = asyncio.get_running_loop().create_future()
        before = self._last.get(chat_id)
        self._last[chat_id] = over
        return Turn(self, chat_id, before, over)

    def waiting(self, chat_id: int) -> bool:
        """A turn of `chat_id` is taken and not over (tests)."""
        return chat_id in self._last

    def _forget(self, chat_id: int, over: asyncio.Future[None]) -> None:
        if not over.done():
            over.set_result(None)
        if self._last.get(chat_id) is over:
            del self._last[chat_id]


class Turn:
    """`async with turn:` waits for the turns before it; leaving it (or `end`) lets the
    next one in. A turn ended before the ones before it (a task cancelled before it
    started, a wait cancelled) still lets the next one in only after them."""

    def __init__(
        self,
        turns: ChatTurns,
        chat_id: int,
        before: asyncio.Future[None] | None,
        over: asyncio.Future[None],
    ) -> None:
        self._turns = turns
        self._chat_id = chat_id
        self._before = before
        self._over = over

    async def __aenter__(self) -> None:
        if self._before is None or self._before.done():
            return
        try:
            await asyncio.wait([self._before])  # never cancels the one before
        except BaseException:
            self.end()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end()

    def end(self) -> None:
        """Over; idempotent."""
        if self._over.done():
            return
        before = self._before
        if before is not None and not before.done():
            before.add_done_callback(lambda _: self._turns._forget(self._chat_id, self._over))
            return
        self._turns._forget(self._chat_id, self._over)
