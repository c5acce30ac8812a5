"""The embedded ledger: layout, reads, proofs against the reference tree, tampering.

Crash windows and SIGKILL recovery are in ``test_ledger_crash.py``.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_client.audit import audit
from registry_client.checkpoint import Checkpoint, verify_checkpoint
from registry_client.errors import (
    CheckpointError,
    LedgerCorruptError,
    ProofError,
    SignatureError,
    VerificationError,
)
from registry_client.ledger import Ledger, NewEntry
from registry_client.ledger_files import CHECKPOINT, INDEX
from registry_client.merkle import (
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from registry_client.note import KeyType, Note, SignerKey
from registry_client.tiles import (
    TILE_WIDTH,
    format_entry_bundle,
    tile_data,
    tiles_for_root,
    tree_tiles,
)

SIGNER = SignerKey(name="ledger.test/log", key_type=KeyType.ED25519, seed=bytes(range(32)))
LOG_KEY = SIGNER.verifier


def entry(i: int) -> bytes:
    """Entry ``i`` of every test log: distinct, with varied lengths."""
    return f"entry {i} ".encode() * (1 + i % 3)


def template(i: int) -> bytes:
    return f"template of item {i}".encode()


def new_entries(start: int, count: int, *, blobs: bool = True) -> list[NewEntry]:
    """Entries ``start`` onwards, each under its serial; every tenth with a template blob."""
    return [
        NewEntry(
            data=entry(i),
            keys=[("serial", f"S{i}"), ("batch", f"B{i // 100}")],
            blobs=[template(i)] if blobs and i % 10 == 0 else [],
        )
        for i in range(start, start + count)
    ]


def grow(ledger: Ledger, *batches: int, blobs: bool = True) -> None:
    for count in batches:
        ledger.append(new_entries(ledger.size, count, blobs=blobs))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.create(tmp_path / "log", SIGNER) as ledger:
        yield ledger


def flip(path: Path, offset: int = 0, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 1 << bit
    path.write_bytes(bytes(data))


# Round trips ---------------------------------------------------------------------------


def test_append_then_read_back_read_only(ledger: Ledger) -> None:
    assert ledger.append(new_entries(0, 10)) == range(0, 10)
    assert ledger.append(new_entries(10, 300)) == range(10, 310)

    with Ledger.open(ledger.path, LOG_KEY) as reader:
        assert not reader.writable
        assert reader.size == 310
        assert reader.checkpoint == ledger.checkpoint
        verified = verify_checkpoint(reader.checkpoint_note, LOG_KEY)
        assert verified.checkpoint.size == 310
        assert reader.entries(0, 310) == tuple(entry(i) for i in range(310))
        assert reader.entry(257) == entry(257)
        assert reader.find("serial", "S257") == (257,)
        assert reader.find("batch", "B1") == tuple(range(100, 200))
        assert reader.find("serial", "S310") == ()
        assert reader.indexes_of(entry(42)) == (42,)
        assert reader.indexes_of(b"never appended") == ()
        assert reader.blob(hashlib.sha256(template(30)).digest()) == template(30)
        with pytest.raises(LookupError):
            reader.blob(hashlib.sha256(template(31)).digest())
        with pytest.raises(ValueError, match="SignerKey"):
            reader.append(new_entries(310, 1))


def test_checkpoint_file_is_the_note(ledger: Ledger) -> None:
    grow(ledger, 5)
    on_disk = (ledger.path / CHECKPOINT).read_text()
    assert on_disk == ledger.checkpoint_note == ledger.read(CHECKPOINT).decode()
    assert Checkpoint.parse(Note.parse(on_disk).text) == ledger.checkpoint


def test_duplicate_entries_and_shared_blobs(ledger: Ledger) -> None:
    blob = b"one template, two records"
    ledger.append(
        [NewEntry(data=b"same", keys=[("serial", "A")], blobs=[blob, blob])] * 2
        + [NewEntry(data=b"other", keys=[("serial", "A"), ("serial", "A")], blobs=[blob])]
    )
    assert ledger.indexes_of(b"same") == (0, 1)
    assert ledger.find("serial", "A") == (0, 1, 2)
    assert ledger.blob(hashlib.sha256(blob).digest()) == blob


def test_other_origin_must_be_named_on_open(tmp_path: Path) -> None:
    Ledger.create(tmp_path / "log", SIGNER, origin="hallmark.example/ledger").close()
    with pytest.raises(CheckpointError, match="origin"):
        Ledger.open(tmp_path / "log", LOG_KEY)
    with Ledger.open(tmp_path / "log", LOG_KEY, origin="hallmark.example/ledger") as ledger:
        assert ledger.checkpoint.origin == "hallmark.example/ledger"
    assert audit(tmp_path / "log", LOG_KEY, origin="hallmark.example/ledger").leaves == 0


def test_open_with_another_key_fails_closed(ledger: Ledger) -> None:
    other = SignerKey(name=SIGNER.name, key_type=KeyType.ED25519, seed=bytes(32))
    with pytest.raises(SignatureError):
        Ledger.open(ledger.path, other.verifier)
    with pytest.raises(SignatureError):
        Ledger.open(ledger.path, other)


def test_create_refuses_a_used_folder_and_a_witness_key(tmp_path: Path) -> None:
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        Ledger.create(tmp_path / "log", SIGNER)
    witness = SignerKey.generate("witness", KeyType.COSIGNATURE_V1)
    with pytest.raises(ValueError, match="want ED25519"):
        Ledger.create(tmp_path / "other", witness)
    with pytest.raises(FileNotFoundError):
        Ledger.open(tmp_path / "nothing", LOG_KEY)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lg: lg.append([]), "batch has 0 entries, want at least 1"),
        (lambda lg: lg.entry(20), "leaf index is 20, want 0 ≤ index < 20"),
        (lambda lg: lg.entries(5, 21), r"entry range is 5:21, want 0 ≤ start ≤ stop ≤ 20"),
        (lambda lg: lg.inclusion_proof(0, 21), "tree size is 21, want 0 ≤ size ≤ 20"),
        (lambda lg: lg.inclusion_proof(7, 7), "leaf index is 7, want 0 ≤ index < 7"),
        (lambda lg: lg.consistency_proof(0, 5), "sizes are 0 → 5, want 0 < size1 ≤ size2 ≤ 20"),
        (lambda lg: lg.consistency_proof(6, 5), "sizes are 6 → 5"),
        (lambda lg: lg.blob(b"short"), "blob hash is 5 bytes, want 32"),
        (lambda lg: lg.read("tile/0/1"), "not a tile path"),
    ],
)
def test_preconditions_say_what_they_want(ledger: Ledger, call: object, message: str) -> None:
    grow(ledger, 20)
    with pytest.raises(ValueError, match=message):
        call(ledger)  # type: ignore[operator]


def test_new_entry_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="entry is 65536 bytes, want ≤ 65535"):
        NewEntry(data=bytes(65536))
    with pytest.raises(ValueError, match="want two non-empty strings"):
        NewEntry(data=b"x", keys=[("serial", "")])
    assert NewEntry(data=b"x", keys=[["serial", "1"]]).keys == (("serial", "1"),)  # type: ignore[list-item]


# Against the reference tree ------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    batches=st.lists(st.integers(1, 600), min_size=1, max_size=5),
    picks=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=8, max_size=8),
)
def test_random_batches_agree_with_the_reference_tree(
    batches: list[int], picks: list[tuple[float, float]]
) -> None:
    reference = MerkleTree()
    sizes: list[int] = []
    with tempfile.TemporaryDirectory() as folder, Ledger.create(Path(folder), SIGNER) as ledger:
        for count in batches:
            old = ledger.checkpoint
            grow(ledger, count, blobs=False)  # blobs only slow this test down
            reference.extend(leaf_hash(entry(i)) for i in range(old.size, ledger.size))
            new = ledger.checkpoint
            assert new.root_hash == reference.root()
            if old.size:
                proof = ledger.consistency_proof(old.size)
                verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
            sizes.append(new.size)
        size = ledger.size
        for a, b in picks:
            tree_size = 1 + int(a * (size - 1))
            index = int(b * (tree_size - 1))
            proof = ledger.inclusion_proof(index, tree_size)
            assert proof == reference.inclusion_proof(index, tree_size)
            verify_inclusion(
                leaf_hash(entry(index)), index, tree_size, proof, reference.root(tree_size)
            )
            older = 1 + int(b * (tree_size - 1))
            assert ledger.consistency_proof(older, tree_size) == reference.consistency_proof(
                older, tree_size
            )
        for checkpointed in sizes:  # every tile each checkpoint published is still served
            for tile in tree_tiles(checkpointed):
                assert ledger.read(tile.path) == tile_data(reference, tile)
                if tile.level == 0:
                    first = tile.index * TILE_WIDTH
                    want = format_entry_bundle([entry(i) for i in range(first, first + tile.width)])
                    assert ledger.read(tile.entries_path) == want
        assert tile_files(ledger.path) == expected_tile_files(sizes)
        assert audit(ledger.path, LOG_KEY).leaves == size


def tile_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in (root / "tile").rglob("*") if p.is_file()}


def expected_tile_files(sizes: list[int]) -> set[str]:
    """Full tiles of the last size, and the partial tiles of every checkpointed size that
    are not yet full (tlog-tiles §Partial Tiles: kept until the full tile exists)."""
    final = tree_tiles(sizes[-1])
    full = {(t.level, t.index) for t in final if not t.is_partial}
    tiles = {t for size in sizes for t in tree_tiles(size) if (t.level, t.index) not in full}
    tiles |= {t for t in final if not t.is_partial}
    paths = {t.path for t in tiles} | {t.entries_path for t in tiles if t.level == 0}
    return paths


@given(st.integers(0, 2**40))
def test_the_root_comes_from_the_partial_tiles_alone(size: int) -> None:
    """The ledger keeps only the partial tiles to extend the tree and compute its root."""
    partial = {t for t in tree_tiles(size) if t.is_partial} if size < 2**20 else None
    assert partial is None or tiles_for_root(size) == partial
    assert all(t.is_partial for t in tiles_for_root(size))
    assert len(tiles_for_root(size)) == sum(1 for level in range(6) if (size >> 8 * level) % 256)


def test_partial_tiles_of_older_checkpoints_stay_readable(ledger: Ledger) -> None:
    grow(ledger, 10)
    hashes_at_10 = ledger.read("tile/0/000.p/10")
    bundle_at_10 = ledger.read("tile/entries/000.p/10")
    grow(ledger, 290)
    assert not (ledger.path / "tile/0/000.p").exists()  # tile 0 is full: partials deleted
    assert ledger.read("tile/0/000.p/10") == hashes_at_10 == ledger.read("tile/0/000")[:320]
    assert ledger.read("tile/entries/000.p/10") == bundle_at_10
    assert ledger.read("tile/0/001.p/7") == ledger.read("tile/0/001.p/44")[: 7 * 32]
    with pytest.raises(LookupError, match="wider"):
        ledger.read("tile/0/001.p/45")
    with pytest.raises(LookupError, match="past a tree of size 300"):
        ledger.read("tile/0/002.p/1")


def test_empty_log(ledger: Ledger) -> None:
    assert ledger.size == 0
    assert ledger.entries(0, 0) == ()
    assert ledger.find("serial", "S0") == ()
    report = audit(ledger.path, LOG_KEY)
    assert (report.leaves, report.tiles, report.bundles, report.blobs) == (0, 0, 0, 0)


# Several handles on one folder ---------------------------------------------------------


def test_reader_refreshes_and_writers_take_turns(ledger: Ledger) -> None:
    grow(ledger, 100)
    with Ledger.open(ledger.path, LOG_KEY) as reader, Ledger.open(ledger.path, SIGNER) as other:
        grow(other, 200)  # another writer appends behind the first one's back
        batch = new_entries(1000, 50)  # the first writer adopts that checkpoint, then appends
        assert ledger.append(batch) == range(300, 350)
        assert reader.size == 100
        assert reader.find("serial", "S120") == ()
        assert reader.refresh().size == 350
        assert reader.entries(0, 300) == tuple(entry(i) for i in range(300))
        assert reader.entries(300, 350) == tuple(e.data for e in batch)
        assert reader.find("serial", "S120") == (120,)
        assert reader.find("serial", "S1049") == (349,)
    assert audit(ledger.path, LOG_KEY).leaves == 350


def signed(checkpoint: Checkpoint) -> bytes:
    text = checkpoint.format()
    return Note(text=text, signatures=(SIGNER.sign(text),)).format().encode()


def test_refresh_refuses_a_shrunk_log(ledger: Ledger) -> None:
    grow(ledger, 30)
    with Ledger.open(ledger.path, LOG_KEY) as reader:
        older = Checkpoint(origin=SIGNER.name, size=20, root_hash=ledger.inclusion_proof(0, 20)[0])
        (ledger.path / CHECKPOINT).write_bytes(signed(older))
        with pytest.raises(CheckpointError, match="from 30 to 20"):
            reader.refresh()


def test_refresh_refuses_a_checkpoint_that_forks_the_log(ledger: Ledger) -> None:
    """Split view: a validly signed checkpoint whose tree does not extend the one held."""
    grow(ledger, 30)
    with Ledger.open(ledger.path, LOG_KEY) as reader:
        grow(ledger, 10)
        forked = Checkpoint(origin=SIGNER.name, size=40, root_hash=bytes(32))
        (ledger.path / CHECKPOINT).write_bytes(signed(forked))
        with pytest.raises(ProofError):
            reader.refresh()
        assert reader.size == 30


# Tampering on disk ---------------------------------------------------------------------


@pytest.fixture
def grown(ledger: Ledger) -> Ledger:
    grow(ledger, 250, 60)  # full level-0 tile 000, partial 001.p/54, level-1 partial 000.p/1
    return ledger


def test_flipped_level0_tile_is_caught_by_reads_and_audit(grown: Ledger) -> None:
    flip(grown.path / "tile/0/000", offset=3 * 32)
    with pytest.raises(LedgerCorruptError, match="entry 3 hashes to") as caught:
        grown.entry(3)
    assert caught.value.path == "tile/entries/000"
    assert isinstance(caught.value.__cause__, ProofError)
    with pytest.raises(LedgerCorruptError) as caught:
        audit(grown.path, LOG_KEY)
    assert caught.value.path == "tile/0/000"


def test_flipped_entry_bundle_is_caught_by_reads_and_audit(grown: Ledger) -> None:
    flip(grown.path / "tile/entries/001.p/54", offset=100)
    with pytest.raises(LedgerCorruptError):
        grown.entries(256, 310)
    with pytest.raises(LedgerCorruptError):
        audit(grown.path, LOG_KEY)


def test_truncated_entry_bundle_is_caught(grown: Ledger) -> None:
    bundle = grown.path / "tile/entries/000"
    bundle.write_bytes(bundle.read_bytes()[:-1])
    with pytest.raises(LedgerCorruptError, match="ends at byte") as caught:
        grown.entry(0)
    assert caught.value.path == "tile/entries/000"


def test_flipped_upper_tile_breaks_proofs_and_audit(grown: Ledger) -> None:
    flip(grown.path / "tile/1/000.p/1")
    proof = grown.inclusion_proof(300)  # needs the hash of leaves 0–255, from tile/1/000.p/1
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(entry(300)), 300, grown.size, proof, grown.checkpoint.root_hash)
    with pytest.raises(LedgerCorruptError) as caught:
        audit(grown.path, LOG_KEY)
    assert caught.value.path == "tile/1/000.p/1"


def test_writer_refuses_to_extend_a_corrupt_right_edge(tmp_path: Path) -> None:
    with Ledger.create(tmp_path / "log", SIGNER) as ledger:
        grow(ledger, 300)
    flip(tmp_path / "log/tile/0/001.p/44", offset=40)
    with Ledger.open(tmp_path / "log", SIGNER) as ledger:
        with pytest.raises(LedgerCorruptError, match="entry 257 hashes to"):
            grow(ledger, 1)
        assert ledger.size == 300


def _blob_place(ledger: Ledger, sha: bytes) -> tuple[Path, int, int]:
    """The pack file, offset and length of a stored blob, read from the index."""
    with sqlite3.connect(f"file:{ledger.path / INDEX}?mode=ro", uri=True) as db:
        pack, offset, length = db.execute(
            "SELECT pack, offset, length FROM blobs WHERE sha256 = ?", (sha,)
        ).fetchone()
    return ledger.path / "blobs" / "pack" / str(pack), offset, length


def test_flipped_blob_is_refused(grown: Ledger) -> None:
    sha = hashlib.sha256(template(10)).digest()
    pack, offset, length = _blob_place(grown, sha)
    flip(pack, offset + length // 2)
    with pytest.raises(LedgerCorruptError, match="blob hashes to") as caught:
        grown.blob(sha)
    assert caught.value.path == str(pack.relative_to(grown.path))
    with pytest.raises(LedgerCorruptError, match=sha.hex()):
        audit(grown.path, LOG_KEY)


def test_blobs_of_a_batch_share_one_pack_and_are_stored_once(ledger: Ledger) -> None:
    shared, own = b"stored before" * 10, b"new" * 10
    ledger.append([NewEntry(data=b"first", blobs=[shared])])
    ledger.append([NewEntry(data=b"a", blobs=[shared, own]), NewEntry(data=b"b", blobs=[own])])
    first, _, _ = _blob_place(ledger, hashlib.sha256(shared).digest())
    second, offset, length = _blob_place(ledger, hashlib.sha256(own).digest())
    assert first != second and (offset, length) == (0, len(own))
    assert second.read_bytes() == own  # neither the earlier blob nor the repeat again
    assert ledger.blob(hashlib.sha256(shared).digest()) == shared


def test_truncated_pack_is_refused(grown: Ledger) -> None:
    sha = hashlib.sha256(template(10)).digest()
    pack, offset, _ = _blob_place(grown, sha)
    pack.write_bytes(pack.read_bytes()[: offset + 1])
    with pytest.raises(LedgerCorruptError, match="cut short"):
        grown.blob(sha)
    pack.unlink()
    with pytest.raises(LedgerCorruptError, match="pack is missing"):
        grown.blob(sha)


def test_flipped_checkpoint_is_refused(grown: Ledger) -> None:
    flip(grown.path / CHECKPOINT, offset=20)
    with pytest.raises(VerificationError):
        Ledger.open(grown.path, LOG_KEY)
    with pytest.raises(VerificationError):
        audit(grown.path, LOG_KEY)


def test_tampered_index_is_caught_by_audit(grown: Ledger) -> None:
    with sqlite3.connect(grown.path / INDEX) as db:
        db.execute("UPDATE leaves SET hash = ? WHERE leaf = 7", (bytes(32),))
    with pytest.raises(LedgerCorruptError, match="leaf hashes of tile/entries/000") as caught:
        audit(grown.path, LOG_KEY)
    assert caught.value.path == INDEX


def test_writer_refuses_an_index_behind_the_checkpoint(grown: Ledger) -> None:
    with sqlite3.connect(grown.path / INDEX) as db:
        db.execute("UPDATE meta SET size = 100")
    with pytest.raises(LedgerCorruptError, match="covers 100 leaves, checkpoint has 310"):
        Ledger.open(grown.path, SIGNER)
    with pytest.raises(LedgerCorruptError, match="covers 100 leaves"):
        grow(grown, 1)


def test_tampered_partial_kept_for_an_older_checkpoint_is_caught(grown: Ledger) -> None:
    grow(grown, 1)  # 001.p/54 stays, for the checkpoint of size 310
    flip(grown.path / "tile/0/001.p/54", offset=9)
    with pytest.raises(LedgerCorruptError, match="prefix") as caught:
        audit(grown.path, LOG_KEY)
    assert caught.value.path == "tile/0/001.p/54"


def test_missing_tile_is_named(grown: Ledger) -> None:
    (grown.path / "tile/0/000").unlink()
    with pytest.raises(LedgerCorruptError, match="missing") as caught:
        grown.inclusion_proof(0)
    assert caught.value.path == "tile/0/000"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small log to copy: three batches, kept partial tiles and a few blobs."""
    root = tmp_path_factory.mktemp("pristine") / "log"
    with Ledger.create(root, SIGNER) as ledger:
        grow(ledger, 40, 230, 3)
    return root


@settings(max_examples=40, deadline=None)
@given(pick=st.integers(0, 2**32), offset=st.integers(0, 2**32), bit=st.integers(0, 7))
def test_any_flipped_bit_in_a_data_file_fails_the_audit(
    pristine: Path, pick: int, offset: int, bit: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(shutil.copytree(pristine, Path(folder) / "log"))
        files = sorted(p for p in (root / "tile").rglob("*") if p.is_file())
        files += sorted(p for p in (root / "blobs").rglob("*") if p.is_file())
        flip(files[pick % len(files)], offset, bit)
        with pytest.raises(LedgerCorruptError):
            audit(root, LOG_KEY)
