"""Telling the editors of a post template that is not used, once.

`publishers.templates` falls back to the bundled default whenever an override cannot be
compiled or rendered, and reports a `TemplateProblem` to `TemplateNotices.report`. A
problem is told to the editors once per (file, content hash) a run, through
`EditorChats`: a fixed file (a new hash) that breaks again is told again; the same
broken file rendering a hundred posts is one message. Problems found before the bot can
send (at load) wait for `attach`. A restart tells them again: the file is still broken.
"""

from __future__ import annotations

import asyncio
import html
import logging

from bot.editors.kit import EditorChats
from bot.texts import text
from publishers.templates import TemplateProblem

log = logging.getLogger(__name__)


class TemplateNotices:
    """The `report` callback of the run's `PostTemplates`, and its sender."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._heard: list[TemplateProblem] = []
        self._pending: list[TemplateProblem] = []
        self._chats: EditorChats | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def reported(self) -> tuple[TemplateProblem, ...]:
        """Every problem heard once (for tests and the CLI)."""
        return tuple(self._heard)

    def report(self, problem: TemplateProblem) -> None:
        """Called by the formatters (sync): record it, log it, send it soon."""
        if problem.key in self._seen:
            return
        self._seen.add(problem.key)
        self._heard.append(problem)
        log.warning(
            "post template not used",
            extra={"template": problem.name, "digest": problem.digest, "error": problem.error},
        )
        self._pending.append(problem)
        self._send_soon()

    def attach(self, chats: EditorChats) -> None:
        """From now on problems go to `chats`; those heard so far go now."""
        self._chats = chats
        self._send_soon()

    async def drain(self) -> None:
        """Wait until every problem heard has been sent (or failed to be)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _send_soon(self) -> None:
        if self._chats is None or not self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a CLI render): the log line is what is told
            return
        task = loop.create_task(self._send(), name="template-notices")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self) -> None:
        chats = self._chats
        assert chats is not None
        while self._pending:
            problem = self._pending.pop(0)
            await chats.send(
                text(
                    "template.problem",
                    name=html.escape(problem.name),
                    digest=html.escape(problem.digest or "-"),
                    error=html.escape(problem.error),
                ),
                best_effort=True,
                what="a template problem",
            )
