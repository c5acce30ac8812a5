"""Crash-safe file writes and the writer's lock, for the embedded ledger.

A file is written under a temporary name beside its final one, flushed to disk with
``fsync``, renamed over the final name, and its directory is then ``fsync``\\ ed so the
name itself survives a power cut. After a crash a final name therefore holds either
nothing or the complete new bytes; a leftover ``*.tmp`` file is garbage for the caller
to remove (`temp_path` names it).

POSIX only: ``fcntl.flock`` and directory ``fsync`` have no Windows equivalent here
(Windows would need ``msvcrt.locking`` and ``FlushFileBuffers`` on a file handle).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import platform
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, wait
from contextlib import contextmanager
from functools import partial
from pathlib import Path

SYNC_THREADS = 16
"""Threads worth giving `write_files`: ``fsync`` waits on the disk with the GIL released,
and the file system commits concurrent waits together (1,000 files of 2 KB on the ext4
test VM: 0.40 s one by one, 0.18 s on 16 threads)."""


SYNCFS_MIN_FILES = 64
"""Batches of at least this many files are made durable with two ``syncfs(2)`` calls
instead of one ``fsync`` per file and directory (Linux ≥ 5.8, one file system): the
file system commits everything in one journal transaction (1,000 files of 4 KB on the
ext4 test VM: 0.24 s with 16 fsync threads, 0.05 s by syncfs)."""


def _load_syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs`` if it reports write-back errors (Linux 5.8 on), else ``None``."""
    if platform.system() != "Linux":
        return None
    try:
        major, minor = (int(p) for p in platform.release().split(".")[:2])
        function: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (ValueError, OSError, AttributeError):
        return None
    return function if (major, minor) >= (5, 8) else None


_SYNCFS = _load_syncfs()


def temp_path(path: Path) -> Path:
    """Where `write_files` stages ``path`` before renaming it into place."""
    return path.with_name(path.name + ".tmp")


def write_files(files: Mapping[Path, bytes], pool: Executor | None = None) -> None:
    """Durably create or replace each file with its bytes, in parallel on ``pool``.

    Each file is written to `temp_path`, ``fsync``'d and renamed over its final name;
    then every directory that gained a name (including newly made parents) is
    ``fsync``'d. When this returns, all the files survive a crash or power cut; if it
    raises, each final name holds its old or its new bytes.
    """
    if not files:
        return
    directories: set[Path] = set()
    for path in files:
        directories.add(path.parent)
        _make_directories(path.parent, directories)
    if len(files) >= SYNCFS_MIN_FILES and _SYNCFS is not None:
        devices = {os.stat(d).st_dev for d in directories}
        if len(devices) == 1:
            _write_all_syncfs(files, next(iter(directories)))
            return
    _run_all((partial(_write_one, path, data) for path, data in files.items()), pool)
    _run_all((partial(_sync_directory, d) for d in directories), pool)


def _write_all_syncfs(files: Mapping[Path, bytes], directory: Path) -> None:
    """`write_files` for a big batch on one file system: write every temp file, syncfs,
    rename them all, syncfs again (the renames and new directories)."""
    for path, data in files.items():
        _write_one(path, data, sync=False, rename=False)
    _syncfs(directory)
    for path in files:
        os.replace(temp_path(path), path)
    _syncfs(directory)


def _syncfs(directory: Path) -> None:
    assert _SYNCFS is not None
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _SYNCFS(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncfs: {os.strerror(errno)}", str(directory))
    finally:
        os.close(fd)


def make_directories(directory: Path) -> None:
    """Durably ``mkdir -p`` ``directory``: each new directory's parent is ``fsync``'d."""
    parents: set[Path] = set()
    _make_directories(directory, parents)
    _run_all((partial(_sync_directory, d) for d in parents), None)


def remove_files(paths: Iterable[Path]) -> None:
    """Durably remove files (missing ones are fine), then ``fsync`` their directories."""
    directories: set[Path] = set()
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        directories.add(path.parent)
    _run_all((partial(_sync_directory, d) for d in directories), None)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock(2)`` on ``path`` (created if missing) for the block.

    The kernel drops the lock when its holder dies, so a killed writer never leaves a
    stale lock behind. Advisory: it excludes only processes that take it too.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _make_directories(directory: Path, created_in: set[Path]) -> None:
    """``mkdir -p``, noting the parent of every directory made (its entry must be synced)."""
    if directory.is_dir():
        return
    _make_directories(directory.parent, created_in)
    try:
        directory.mkdir()
    except FileExistsError:
        return
    created_in.add(directory.parent)


def _write_one(path: Path, data: bytes, *, sync: bool = True, rename: bool = True) -> None:
    staged = temp_path(path)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    if rename:
        os.replace(staged, path)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _run_all(jobs: Iterable[Callable[[], None]], pool: Executor | None) -> None:
    """Run every job, on ``pool`` if given; wait for all, then re-raise the first error."""
    if pool is None:
        for job in jobs:
            job()
        return
    futures = [pool.submit(job) for job in jobs]
    wait(futures)
    for future in futures:
        future.result()
