"""Admission: a worker process works on a few requests at once; the others wait, cheaply, in line."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

# Health and metrics answer even when the worker is busy: that is when they are asked.
UNLIMITED = ("/healthz", "/readyz", "/metrics")


class Admission:
    """Bound the requests in progress per worker process.

    The bound is on whole requests, not on worker threads: a request that holds a database
    lock must never wait for a thread that a request waiting for that lock holds.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop: test clients may run the same app on several loops in turn.
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(self.limit))
        return self._gate[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wait for a turn, then handle the request."""
        if scope["type"] != "http" or scope["path"] in UNLIMITED:
            await self.app(scope, receive, send)
            return
        async with self._semaphore():
            await self.app(scope, receive, send)
