"""Ed25519 answers, remembered, and batches of them checked ahead on a thread pool.

`signature_valid` answers one check with PyNaCl and remembers it: the answer depends
only on the three byte strings, so remembering checks nothing less. `CheckedAhead`
runs a batch's checks on a pool, in chunks that each make one GIL-free call
(`_ed25519.verify_many`), while the caller's thread does the batch's other work; its
answers land in the same memory, where the caller's own checks find them.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import nacl.exceptions
import nacl.signing

log = logging.getLogger(__name__)

Job = tuple[bytes, bytes, bytes]
"""One check: ``(public_key, message, signature)``."""

REMEMBERED = 16_384
"""Answers kept, the oldest forgotten first."""
CHUNK = 64
"""Checks in one pool task."""
AHEAD = 16
"""Chunks queued beyond the one waited for: work for every core, well inside memory."""

_answers: OrderedDict[Job, bool] = OrderedDict()
_answers_lock = threading.Lock()
_pool_lock = threading.Lock()
_pool: list[ThreadPoolExecutor] = []


def signature_valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` by the Ed25519 ``public_key`` covers ``message`` (RFC 8032)."""
    job = (public_key, message, signature)
    answer = _answers.get(job)
    if answer is None:
        try:
            _verify_key(public_key).verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            answer = False
        else:
            answer = True
        _remember([job], [answer])
    return answer


def forget() -> None:
    """Forget every remembered answer (benchmarks measure cold checks)."""
    with _answers_lock:
        _answers.clear()


class CheckedAhead:
    """A batch's checks running ahead on the pool, in order; ``None`` jobs are skipped.

    ``wait(n)`` returns once the answers of the first ``n`` jobs are remembered, so the
    caller's own `signature_valid` finds them ready instead of checking again. At most
    `AHEAD` chunks run beyond the one waited for. A batch of one or two chunks is not
    worth the hand-off: nothing runs ahead, and the caller checks in turn.
    """

    def __init__(self, jobs: Sequence[Job | None]) -> None:
        few = len(jobs) < 2 * CHUNK
        self._chunks = [] if few else [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]
        self._futures: list[Future[None]] = []
        self._done = 0
        self._submit(AHEAD)

    def wait(self, n: int) -> None:
        """Block until the checks of the first ``n`` jobs are done.

        A chunk the pool failed to check (the batch kernel would not compile, say) is
        logged and left to the caller, whose own checks are the ones that count.
        """
        need = min(-(-n // CHUNK), len(self._chunks))
        self._submit(need + AHEAD)
        for future in self._futures[self._done : need]:
            if (error := future.exception()) is not None:
                log.warning("signatures not checked ahead, checked in turn: %r", error)
        self._done = max(self._done, need)

    def _submit(self, count: int) -> None:
        for chunk in self._chunks[len(self._futures) : count]:
            self._futures.append(_executor().submit(_check_chunk, chunk))


def warm() -> threading.Thread:
    """Compile the batch kernel, or load it from Numba's cache, on a daemon thread:
    seconds cold, which the first large batch would otherwise wait for, and which a
    process stopping meanwhile need not (the pool's threads are joined at exit). Returns
    the thread, started."""
    key = nacl.signing.SigningKey(bytes(32))
    job = (bytes(key.verify_key), b"", key.sign(b"").signature)
    thread = threading.Thread(target=_check_chunk, args=([job],), name="warm-ed25519", daemon=True)
    thread.start()
    return thread


def _check_chunk(chunk: Sequence[Job | None]) -> None:
    from numba import config  # Numba: imported only for batches

    if config.DISABLE_JIT:  # type: ignore[attr-defined]  # the kernel needs machine code
        return  # the caller checks in turn
    from registry_client._ed25519 import verify_many

    jobs = [job for job in chunk if job is not None]
    _remember(jobs, verify_many(jobs))


def _remember(jobs: Sequence[Job], answers: Sequence[bool]) -> None:
    with _answers_lock:
        _answers.update(zip(jobs, answers, strict=True))
        while len(_answers) > REMEMBERED:
            _answers.popitem(last=False)


def _executor() -> ThreadPoolExecutor:
    with _pool_lock:
        if not _pool:
            workers = max(2, min(8, os.cpu_count() or 2))
            _pool.append(ThreadPoolExecutor(workers, thread_name_prefix="record-verify"))
        return _pool[0]


@functools.lru_cache(maxsize=256)
def _verify_key(public_key: bytes) -> nacl.signing.VerifyKey:
    return nacl.signing.VerifyKey(public_key)
