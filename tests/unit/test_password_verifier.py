"""The password verifier: scrypt on threads of its own, and a prompt refusal beyond its bound."""

from __future__ import annotations

import asyncio
import threading

import pytest

from cpms.aggregates.credentials import hash_password
from cpms.gateway.verifier import PasswordVerifier, VerifierBusy, verification_threads


async def _refused_at_once(verifier: PasswordVerifier) -> bool:
    """Whether a verification is refused before it waits for anything (and not queued, which
    would leave a test waiting on a blocked thread instead of failing)."""
    attempt = asyncio.create_task(verifier.verify("p", "h"))
    await asyncio.sleep(0)
    return attempt.done() and isinstance(attempt.exception(), VerifierBusy)


async def test_a_password_is_checked_against_its_scrypt_hash() -> None:
    verifier = PasswordVerifier()
    stored = hash_password("correct-horse-battery")
    try:
        assert await verifier.verify("correct-horse-battery", stored)
        assert not await verifier.verify("wrong-horse-battery", stored)
        assert verifier.verifications == 2
    finally:
        verifier.close()


async def test_verification_runs_on_its_own_threads_not_the_loops_executor() -> None:
    names: list[str] = []

    def verify(password: str, stored: str) -> bool:
        names.append(threading.current_thread().name)
        return True

    verifier = PasswordVerifier(threads=1, verify=verify)
    try:
        await asyncio.gather(*(verifier.verify("p", "h") for _ in range(5)))
    finally:
        verifier.close()
    assert len(set(names)) == 1 and names[0].startswith("cpms-verify")


async def test_beyond_the_bound_a_verification_is_refused_at_once_and_later_served() -> None:
    release = threading.Event()

    def verify(password: str, stored: str) -> bool:
        release.wait()
        return True

    verifier = PasswordVerifier(threads=1, max_queued=3, verify=verify)
    try:
        waiting = [asyncio.create_task(verifier.verify("p", "h")) for _ in range(4)]
        await asyncio.sleep(0)  # every task has taken its place
        assert await _refused_at_once(verifier)
        assert verifier.refused == 1
        release.set()
        assert await asyncio.gather(*waiting) == [True] * 4
        assert await verifier.verify("p", "h")
    finally:
        release.set()
        verifier.close()


async def test_a_cancelled_wait_keeps_its_place_until_the_thread_is_done() -> None:
    """A handshake that gives up must not let more scrypt run than the bound allows."""
    started, release = threading.Event(), threading.Event()

    def verify(password: str, stored: str) -> bool:
        started.set()
        release.wait()
        return True

    verifier = PasswordVerifier(threads=1, max_queued=0, verify=verify)
    try:
        task = asyncio.create_task(verifier.verify("p", "h"))
        await asyncio.to_thread(started.wait)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await _refused_at_once(verifier)
        release.set()
        for _ in range(1000):  # the slot frees when the thread finishes, whenever that is
            try:
                assert await verifier.verify("p", "h")
                break
            except VerifierBusy:
                await asyncio.sleep(0.01)
        else:
            pytest.fail("the slot was never freed")
    finally:
        release.set()
        verifier.close()


@pytest.mark.parametrize(("cores", "threads"), [(0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (64, 2)])
def test_verification_never_takes_every_core(cores: int, threads: int) -> None:
    assert verification_threads(cores) == threads
