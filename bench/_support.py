"""What several bench scripts wait and resolve with (one copy, not one per script)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any


async def until(condition: Callable[[], bool], *, within: float, step: float) -> None:
    """Poll `condition` every `step` seconds; TimeoutError after `within`."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("bench step timed out")
        await asyncio.sleep(step)


def refuse(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
    """The preview's resolver: no name resolves (the bench is offline), at once."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
