"""The ledger survives SIGKILL at any point of hundreds of appends, and crash windows.

The SIGKILL test runs this file as a child script that opens the ledger with the log's
signer (undoing whatever the previous child left half done) and appends batches of 1–40
entries forever, writing ``A <size>`` to stdout each time `Ledger.append` returns. The
parent reads a random number of those acknowledgements, then kills the child with
SIGKILL; the pipe is the only clock, there are no sleeps. In *stepped* rounds the child
also writes ``P`` before every ``fsync`` and waits for a byte on stdin, so the parent
kills it at an exact point of the write path: after the index commit, between files,
before or after the checkpoint's rename, or in the middle of a recovery.

After each kill the parent opens the folder read-only (repairing nothing) and checks that
the checkpoint verifies with the log key, that `audit` recomputes every tile and the root
from the entries, that no acknowledged entry is lost or changed, and that the index
finds every entry and nothing past the checkpoint.
"""

from __future__ import annotations

import os
import random
import sys
import threading
from pathlib import Path

from registry_client.ledger import Ledger, NewEntry
from registry_client.note import KeyType, SignerKey

SIGNER = SignerKey(name="crash.test/log", key_type=KeyType.ED25519, seed=bytes(range(32, 64)))
LOG_KEY = SIGNER.verifier


def crash_entry(i: int) -> NewEntry:
    """Entry ``i`` of the crash log, whichever child appends it."""
    return NewEntry(
        data=b"crash entry %d " % i * (1 + i % 4),
        keys=[("serial", f"S{i}")],
        blobs=[b"template %d" % i] if i % 7 == 0 else [],
    )


def child(folder: str, seed: int, stepped: bool) -> None:
    """Append batches to ``folder`` until killed, acknowledging each on stdout."""
    if stepped:
        real_fsync, turn = os.fsync, threading.Lock()

        def paused_fsync(fd: int) -> None:
            with turn:
                sys.stdout.buffer.write(b"P\n")
                sys.stdout.buffer.flush()
                if not sys.stdin.buffer.read(1):  # the parent is gone
                    os._exit(3)
            real_fsync(fd)

        os.fsync = paused_fsync  # type: ignore[assignment]
    rng = random.Random(seed)
    with Ledger.open(folder, SIGNER) as ledger:
        while True:
            start = ledger.size
            ledger.append([crash_entry(i) for i in range(start, start + rng.randint(1, 40))])
            sys.stdout.buffer.write(b"A %d\n" % ledger.size)
            sys.stdout.buffer.flush()


if __name__ == "__main__":  # the child: kept above the test imports so it starts fast
    child(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "stepped")

import hashlib  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from concurrent.futures import Executor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import IO  # noqa: E402

import pytest  # noqa: E402

import registry_client.ledger  # noqa: E402
from registry_client._durable import write_files  # noqa: E402
from registry_client.audit import audit  # noqa: E402
from registry_client.checkpoint import verify_checkpoint  # noqa: E402
from registry_client.ledger_files import CHECKPOINT, INDEX  # noqa: E402
from registry_client.merkle import leaf_hash, root_hash  # noqa: E402
from registry_client.tiles import Tile, tree_tiles  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@dataclass(kw_only=True)
class Tally:
    acknowledged: int = 0
    batches: int = 0
    kills: int = 0
    recoveries: int = 0
    """Kills that left a batch cut short (index ahead of the checkpoint)."""


def kill_round(folder: Path, rng: random.Random, tally: Tally, *, stepped: bool) -> None:
    """Start a child, let it acknowledge 0–12 appends, then pass 1–20 fsyncs, SIGKILL it.

    In free rounds the child does not stop at fsyncs: it dies wherever the kill finds it.
    """
    args = [sys.executable, __file__, str(folder), str(rng.getrandbits(32))]
    acks, fsyncs = rng.randint(0 if stepped else 1, 12), rng.randint(1, 20)
    with (
        (folder.parent / "child.err").open("w+b") as errors,
        subprocess.Popen(
            [*args, "stepped" if stepped else "free"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        ) as proc,
    ):
        assert proc.stdin is not None and proc.stdout is not None
        while acks or (stepped and fsyncs):
            line = proc.stdout.readline()
            if not line:
                proc.wait()
                pytest.fail(f"child exited with {proc.returncode}: {_tail(errors)}")
            if line.startswith(b"A "):
                tally.acknowledged = max(tally.acknowledged, int(line[2:]))
                tally.batches += 1
                acks = max(acks - 1, 0)
            elif line == b"P\n":
                if not acks:
                    fsyncs -= 1
                    if not fsyncs:
                        break
                proc.stdin.write(b".")
                proc.stdin.flush()
        proc.kill()
        proc.wait()
    tally.kills += 1


def _tail(errors: IO[bytes]) -> str:
    errors.seek(0)
    return errors.read().decode(errors="replace")[-2000:]


def check_after_kill(folder: Path, tally: Tally) -> None:
    """Everything acknowledged is there, verified, and the index points nowhere past it."""
    with Ledger.open(folder, LOG_KEY) as ledger:
        size = ledger.size
        assert size >= tally.acknowledged
        assert verify_checkpoint(ledger.checkpoint_note, LOG_KEY).checkpoint.size == size
        assert audit(folder, LOG_KEY).checkpoint == ledger.checkpoint
        entries = ledger.entries(0, size)
        assert entries == tuple(crash_entry(i).data for i in range(size))
        assert root_hash([leaf_hash(e) for e in entries]) == ledger.checkpoint.root_hash
        for i in (
            *range(max(size - 50, 0), size),
            *random.Random(size).sample(range(size), min(size, 30)),
        ):
            assert ledger.find("serial", f"S{i}") == (i,)
            assert ledger.indexes_of(entries[i]) == (i,)
        for i in range(size, size + 40):  # where a cut-short batch would have gone
            assert ledger.find("serial", f"S{i}") == ()
            assert ledger.indexes_of(crash_entry(i).data) == ()
        last_blob = (size - 1) // 7 * 7
        if size:
            assert ledger.blob(hashlib.sha256(b"template %d" % last_blob).digest())
        with pytest.raises(LookupError):
            ledger.blob(hashlib.sha256(b"template %d" % (last_blob + 7)).digest())
    with sqlite3.connect(f"file:{folder / INDEX}?mode=ro", uri=True) as db:
        (indexed,) = db.execute("SELECT size FROM meta").fetchone()
    tally.recoveries += indexed > size


def check_tidy(folder: Path) -> None:
    """After a writer's recovery: no staged files, no tiles or rows past the checkpoint."""
    with Ledger.open(folder, SIGNER) as ledger:
        size = ledger.size
    assert not [p for p in folder.rglob("*.tmp")]
    published = {(t.level, t.index): t for t in tree_tiles(size)}
    for path in (folder / "tile").rglob("*"):
        if path.is_dir():
            continue
        name = str(path.relative_to(folder))
        tile = (Tile.from_entries_path if name.startswith("tile/entries/") else Tile.from_path)(
            name
        )
        now = published.get((tile.level, tile.index))
        assert now is not None and tile.width <= now.width, f"{name} is past size {size}"
        assert now.is_partial or not tile.is_partial, f"{name} outlived its full tile"
    with sqlite3.connect(folder / INDEX) as db:
        assert db.execute("SELECT size, previous_size FROM meta").fetchone()[0] == size
        assert db.execute("SELECT count(*), max(leaf) FROM leaves").fetchone() == (size, size - 1)
        assert db.execute("SELECT count(*) FROM lookup WHERE leaf >= ?", (size,)).fetchone() == (0,)
        packs = {str(pack) for (pack,) in db.execute("SELECT DISTINCT pack FROM blobs")}
    assert {p.name for p in (folder / "blobs").rglob("*") if p.is_file()} == packs


def run_kills(tmp_path: Path, kills: int, seed: int) -> Tally:
    folder = tmp_path / "log"
    Ledger.create(folder, SIGNER).close()
    rng, tally = random.Random(seed), Tally()
    for round_number in range(kills):
        kill_round(folder, rng, tally, stepped=round_number % 2 == 1)
        check_after_kill(folder, tally)
    check_tidy(folder)
    with Ledger.open(folder, SIGNER) as ledger:  # and the log goes on
        start = ledger.size
        assert ledger.append([crash_entry(start)]) == range(start, start + 1)
    assert audit(folder, LOG_KEY).leaves == start + 1
    return tally


def test_sigkill_at_random_points_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    tally = run_kills(tmp_path, kills=40, seed=20261125)
    assert tally.kills == 40
    assert tally.batches >= 150
    assert tally.recoveries >= 5  # the stepped kills do land between index and checkpoint


@pytest.mark.slow
def test_sigkill_many_more_times(tmp_path: Path) -> None:
    tally = run_kills(tmp_path, kills=120, seed=7)
    assert tally.batches >= 500


# Crash windows, in process -------------------------------------------------------------


def fail_writes_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    """Make `write_files` raise from its ``calls + 1``-th call on, as a crash would stop it:
    call 1 writes the batch's tiles, bundles and blobs, call 2 the checkpoint."""
    real = write_files
    seen: list[Mapping[Path, bytes]] = []

    def failing(files: Mapping[Path, bytes], pool: Executor | None = None) -> None:
        seen.append(files)
        if len(seen) > calls:
            raise OSError("disk gone")
        real(files, pool)

    monkeypatch.setattr(registry_client.ledger, "write_files", failing)


@pytest.mark.parametrize("calls", [0, 1], ids=["before-tiles", "before-checkpoint"])
def test_batch_cut_short_is_invisible_then_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: int
) -> None:
    folder = tmp_path / "log"
    with Ledger.create(folder, SIGNER) as ledger:
        ledger.append([crash_entry(i) for i in range(300)])
        checkpoint = ledger.checkpoint
        fail_writes_after(monkeypatch, calls)
        with pytest.raises(OSError, match="disk gone"):
            ledger.append([crash_entry(i) for i in range(300, 530)])
        monkeypatch.undo()
        assert ledger.checkpoint == checkpoint
        if calls:
            assert (folder / "tile/0/002.p/18").exists()  # written, but never committed

        with Ledger.open(folder, LOG_KEY) as reader:  # the batch is invisible to readers
            assert reader.checkpoint == checkpoint
            assert reader.find("serial", "S300") == ()
            with pytest.raises(LookupError):
                reader.blob(hashlib.sha256(b"template 301").digest())
            with pytest.raises(LookupError, match="wider"):
                reader.read("tile/0/001.p/200")
        assert audit(folder, LOG_KEY).checkpoint == checkpoint

        with Ledger.open(folder, SIGNER):  # a writer undoes it
            pass
        assert not (folder / "tile/0/002.p/18").exists()
        assert not (folder / "tile/0/001").exists()
        check_tidy(folder)

        assert ledger.append([crash_entry(i) for i in range(300, 310)]) == range(300, 310)
        assert ledger.find("serial", "S301") == (301,)
    assert audit(folder, LOG_KEY).leaves == 310


def test_failed_append_is_undone_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger.create(tmp_path / "log", SIGNER) as ledger:
        ledger.append([crash_entry(0)])
        fail_writes_after(monkeypatch, 1)
        with pytest.raises(OSError, match="disk gone"):
            ledger.append([crash_entry(i) for i in range(1, 400)])
        monkeypatch.undo()
        assert ledger.append([crash_entry(1), crash_entry(2)]) == range(1, 3)
        assert ledger.entries(0, 3) == tuple(crash_entry(i).data for i in range(3))
    check_tidy(tmp_path / "log")


def test_checkpoint_left_behind_by_a_crashed_rename_is_discarded(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    with Ledger.create(folder, SIGNER) as ledger:
        ledger.append([crash_entry(0)])
    (folder / (CHECKPOINT + ".tmp")).write_text("half a checkpoint")
    with sqlite3.connect(folder / INDEX) as db:  # as if the batch 1..5 had committed its rows
        db.execute("UPDATE meta SET size = 5, previous_size = 1")
    with Ledger.open(folder, SIGNER) as ledger:
        assert ledger.size == 1
    check_tidy(folder)
