"""Station passwords verified on threads of their own, with a bound on how many may wait.

scrypt costs ~50 ms of CPU and 16 MB per check. On the loop's default executor a burst of
guesses would take every core and crowd out the node's other blocking work (presence writes,
read-model queries); here it gets one or two threads, and beyond the bound a handshake is refused
at once rather than queued for longer than a charger waits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from cpms.aggregates.credentials import verify_password

log = logging.getLogger(__name__)

MAX_QUEUED = 32  # ~1.6 s of scrypt on one thread: well within a charger's handshake timeout


class VerifierBusy(Exception):
    """More verifications are waiting than the bound allows; the caller should refuse now."""


def verification_threads(cores: int | None = None) -> int:
    """One thread on machines of up to three cores, two above: guessing never takes them all."""
    cores = os.cpu_count() if cores is None else cores
    return 2 if (cores or 1) >= 4 else 1


class PasswordVerifier:
    def __init__(
        self,
        *,
        threads: int = 1,
        max_queued: int = MAX_QUEUED,
        verify: Callable[[str, str], bool] = verify_password,
    ) -> None:
        self._verify = verify
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cpms-verify")
        # Released when the work itself ends (not when its awaiter gives up), so a handshake
        # that times out cannot leave scrypt running beyond the bound.
        self._slots = threading.BoundedSemaphore(threads + max_queued)
        self._lock = threading.Lock()
        self._saturated = False
        self.verifications = 0  # scrypt checks actually run
        self.refused = 0  # refused because the bound was reached

    async def verify(self, password: str, stored: str) -> bool:
        """Whether `password` matches the `stored` hash; raises VerifierBusy when full."""
        if not self._slots.acquire(blocking=False):
            self.refused += 1
            if not self._saturated:  # once per episode, not once per refused handshake
                log.warning("password verification is saturated; refusing handshakes with 503")
            self._saturated = True
            raise VerifierBusy
        self._saturated = False
        try:
            future = self._executor.submit(self._run, password, stored)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, password: str, stored: str) -> bool:
        with self._lock:
            self.verifications += 1
        return self._verify(password, stored)

    def _done(self, _: Future[bool]) -> None:
        self._slots.release()
