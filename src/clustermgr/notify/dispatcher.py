"""The dispatcher: sends the outbox's due rows, beside the watcher, never inside it.

Each pass claims rows (:func:`clustermgr.notify.outbox.claim`, committed first),
sends each channel's rows in order, the channels at once, with no database
transaction open while a message travels, then settles each row.  A channel
whose send fails stops for this pass: its row waits for its back-off and the
rows behind it are given back.  A slow receiver holds up its own channel only,
for at most ``notify_timeout`` per network operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from datetime import timedelta
from itertools import groupby

from clustermgr.core.manager import Manager
from clustermgr.errors import ClustermgrError
from clustermgr.notify import outbox
from clustermgr.notify.deliver import deliver
from clustermgr.notify.outbox import Delivery

log = logging.getLogger(__name__)

#: Seconds between two passes when nothing was sent.
POLL = 1.0
#: Seconds between two prunings of sent rows.
PRUNE_EVERY = 3600.0


class Dispatcher:
    def __init__(self, manager: Manager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._pruned = 0.0

    @property
    def lease_seconds(self) -> float:
        """How long a claim lasts: enough for every send of one pass of one channel."""
        return 60.0 + 4 * self.settings.notify_timeout * self.settings.notify_per_minute

    async def once(self) -> int:
        """One pass: claim, send, settle; how many messages went out."""
        claimed = await outbox.claim(
            self.manager,
            self.holder,
            lease_seconds=self.lease_seconds,
            per_minute=self.settings.notify_per_minute,
            link_base=self.settings.notify_link_base,
        )
        per_channel = [list(rows) for _, rows in groupby(claimed, key=lambda d: d.channel)]
        sent = await asyncio.gather(*(self._channel(rows) for rows in per_channel))
        return sum(sent)

    async def _channel(self, rows: Sequence[Delivery]) -> int:
        sent = 0
        for index, row in enumerate(rows):
            error = await self._send(row)
            await outbox.settle(self.manager, row, self.holder, error)
            if error is not None:
                log.warning("notify: channel %s: %s", row.channel_name, error)
                await outbox.release(self.manager, rows[index + 1 :], self.holder)
                break
            sent += 1
        return sent

    async def _send(self, row: Delivery) -> str | None:
        try:
            await deliver(
                self.manager,
                name=row.channel_name,
                kind=row.kind,
                config=row.config,
                ciphertext=row.ciphertext,
                notice=row.notice,
            )
        except ClustermgrError as exc:
            return exc.message
        except Exception as exc:  # a bad row must not stop the others
            log.exception("notify: sending through %s failed", row.channel_name)
            return f"{type(exc).__name__}"
        return None

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; a failing pass is logged, the next runs."""
        while not stop.is_set():
            sent = 0
            try:
                sent = await self.once()
                await self._prune()
            except ClustermgrError as exc:
                log.warning("notify: %s", exc.message)
            except Exception:  # a long-running loop: say what broke, try again
                log.exception("notify: a dispatch pass failed")
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL)

    async def _prune(self) -> None:
        if time.monotonic() - self._pruned <= PRUNE_EVERY and self._pruned:
            return
        self._pruned = time.monotonic()
        days = self.settings.monitor_retention_days
        await outbox.prune(self.manager, older_than=timedelta(days=days))


class BackgroundDispatch:
    """The dispatcher as a task of a long-running process (beside the watcher)."""

    def __init__(self, manager: Manager) -> None:
        self.dispatcher = Dispatcher(manager)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="notify-dispatcher")

    async def _run(self) -> None:
        try:
            await self.dispatcher.run(self._stop)
        except Exception:  # never take the process down
            log.exception("notify: the dispatcher stopped")

    async def stop(self, timeout: float = 10.0) -> None:
        """Let the current pass finish (cancel it after ``timeout``)."""
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.warning("notify: the dispatcher did not stop within %g s: cancelled", timeout)
