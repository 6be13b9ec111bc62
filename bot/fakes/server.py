"""What every loopback fake shares: an aiohttp app on a loopback port, and a clock.

A fake says which routes it serves (`_add_routes`); starting, the base URL, closing,
`async with` and the clock a test moves forward (`advance`, on top of the injected
clock, so quotas and resets can be crossed without sleeping) are the same for all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Self

from aiohttp import web


class LoopbackServer:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        client_max_size: int = 1024**2,
    ) -> None:
        self._clock = clock
        self._offset = 0.0
        self._host, self._port = host, port
        self._client_max_size = client_max_size
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> str:
        """Start serving; return the base URL (``http://127.0.0.1:<port>``)."""
        app = web.Application(client_max_size=self._client_max_size)
        self._add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (on top of the injected clock)."""
        self._offset += seconds
