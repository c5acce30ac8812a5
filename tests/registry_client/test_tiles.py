"""C2SP tlog-tiles paths, tile sets, proofs from tiles and entry bundles.

Vector: ``shared/vectors/notes/tiles.json``, from the examples in C2SP ``tlog-tiles.md``
(CC-BY-4.0).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_vectors import load

from registry_client.errors import ProofError, RecordFormatError
from registry_client.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from registry_client.tiles import (
    MAX_ENTRY_SIZE,
    Tile,
    TileHashes,
    encode_index,
    format_entry_bundle,
    parse_entry_bundle,
    tile_data,
    tiles_for_consistency,
    tiles_for_inclusion,
    tiles_for_root,
    tree_tiles,
    verify_entry_bundle,
)

TILES = load("notes/tiles.json")


@pytest.mark.parametrize("case", TILES["index_encoding"], ids=lambda c: c["path_elem"])
def test_index_encoding(case: dict[str, object]) -> None:
    assert encode_index(case["n"]) == case["path_elem"]  # type: ignore[arg-type]
    tile = Tile.from_path(f"tile/0/{case['path_elem']}")
    assert tile == Tile(level=0, index=case["n"])  # type: ignore[arg-type]


def test_tree_of_70000_leaves() -> None:
    vector = TILES["tree_size_70000"]
    tiles = tree_tiles(70_000)
    full_level0 = [t for t in tiles if t.level == 0 and not t.is_partial]
    assert len(full_level0) == vector["full_level0"]
    assert [t.index for t in full_level0] == list(range(vector["full_level0"]))
    assert [t.path for t in tiles[len(full_level0) :]] == vector["partial_and_upper"]


def test_tree_of_256_leaves() -> None:
    assert [t.path for t in tree_tiles(256)] == TILES["tree_size_256"]
    assert tree_tiles(0) == ()


@pytest.mark.parametrize("path", TILES["entries_examples"])
def test_entries_paths(path: str) -> None:
    assert Tile.from_entries_path(path).entries_path == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",
        "tile/00/000",
        "tile/64/000",
        "tile/0/x000/001",
        "tile/0/x001",
        "tile/0/001/",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/017",
        "tile/0/001.p/",
        "tile/entries/x1/000",
        "tile/-1/000",
        "/tile/0/000",
        "tile/0/０００",
    ],
)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="tile|index|level"):
        Tile.from_path(path)


def test_only_level_zero_tiles_have_entry_bundles() -> None:
    assert Tile.from_path("tile/1/x001/002.p/3").path == "tile/1/x001/002.p/3"
    with pytest.raises(ValueError, match="level 1"):
        _ = Tile(level=1, index=0).entries_path
    with pytest.raises(ValueError, match="not an entry bundle path"):
        Tile.from_entries_path("tile/0/000")


@functools.cache
def _tree(size: int) -> MerkleTree:
    return MerkleTree(leaf_hash(i.to_bytes(4, "big")) for i in range(size))


def _published(size: int, tiles: Iterable[Tile]) -> dict[Tile, bytes]:
    tree = _tree(size)
    return {tile: tile_data(tree, tile) for tile in tiles}


SIZES = [1, 2, 255, 256, 257, 511, 4096, 65_535, 65_536, 70_000]


@pytest.mark.parametrize("size", SIZES)
def test_roots_from_tiles(size: int) -> None:
    tree = _tree(70_000)
    assert TileHashes(size, _published(size, tree_tiles(size))).root() == tree.root(size)
    assert TileHashes(size, _published(size, tiles_for_root(size))).root() == tree.root(size)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_inclusion_proofs_from_just_the_needed_tiles(data: st.DataObject) -> None:
    size = data.draw(st.sampled_from(SIZES) | st.integers(1, 70_000), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    tiles = TileHashes(size, _published(size, tiles_for_inclusion(index, size)))
    proof = tiles.inclusion_proof(index)
    assert proof == _tree(70_000).inclusion_proof(index, size)
    verify_inclusion(
        leaf_hash(index.to_bytes(4, "big")), index, size, proof, _tree(70_000).root(size)
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_consistency_proofs_from_just_the_needed_tiles(data: st.DataObject) -> None:
    size2 = data.draw(st.sampled_from(SIZES) | st.integers(1, 70_000), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    tiles = TileHashes(size2, _published(size2, tiles_for_consistency(size1, size2)))
    proof = tiles.consistency_proof(size1)
    tree = _tree(70_000)
    assert proof == tree.consistency_proof(size1, size2)
    verify_consistency(size1, size2, proof, tree.root(size1), tree.root(size2))


def test_a_full_tile_stands_in_for_a_partial_one() -> None:
    published = _published(300, tree_tiles(300))
    assert Tile(level=0, index=1, width=44) in published
    del published[Tile(level=0, index=1, width=44)]
    published[Tile(level=0, index=1)] = tile_data(_tree(70_000), Tile(level=0, index=1))
    assert TileHashes(300, published).root() == _tree(70_000).root(300)


def test_missing_and_malformed_tiles() -> None:
    needed = [t for t in tree_tiles(300) if t.path != "tile/0/001.p/44"]
    with pytest.raises(LookupError, match="tile/0/001.p/44"):
        TileHashes(300, _published(300, needed)).root()
    with pytest.raises(ProofError, match="tile/0/000 is 31 bytes, want 8192"):
        TileHashes(300, {Tile(level=0, index=0): bytes(31)})


def _flip_bit(published: dict[Tile, bytes], tile: Tile) -> None:
    flipped = bytearray(published[tile])
    flipped[10] ^= 0x10
    published[tile] = bytes(flipped)


def test_a_flipped_tile_bit_is_caught_by_the_trusted_root() -> None:
    root = _tree(70_000).root(1000)
    published = _published(1000, tree_tiles(1000))
    _flip_bit(published, Tile(level=0, index=1))
    tiles = TileHashes(1000, published)
    assert tiles.root() == root  # full level-0 tiles do not feed the root directly...
    proof = tiles.inclusion_proof(300)
    with pytest.raises(ProofError):  # ...but a proof built from them fails against it
        verify_inclusion(leaf_hash((300).to_bytes(4, "big")), 300, 1000, proof, root)
    _flip_bit(published, Tile(level=1, index=0, width=3))
    assert TileHashes(1000, published).root() != root


entries_st = st.lists(st.binary(max_size=300), min_size=1, max_size=256)


@settings(max_examples=50, deadline=None)
@given(entries=entries_st)
def test_entry_bundles_round_trip_and_match_their_tile(entries: list[bytes]) -> None:
    tile = Tile(level=0, index=7, width=len(entries))
    bundle = format_entry_bundle(entries)
    hashes = b"".join(leaf_hash(e) for e in entries)
    assert verify_entry_bundle(bundle, tile, hashes) == tuple(entries)
    with pytest.raises(ProofError, match=f"entry {7 * 256}"):
        verify_entry_bundle(bundle, tile, bytes(32) + hashes[32:])


@pytest.mark.parametrize(
    ("bundle", "width", "reason"),
    [
        (b"\x00", 1, "truncated length prefix at byte 0"),
        (b"\x00\x05abc", 1, "entry 0 ends at byte 7, bundle has 5"),
        (b"\x00\x01a\x00\x01b", 1, "2 entries, want 1"),
        (b"", 1, "0 entries, want 1"),
    ],
)
def test_malformed_entry_bundles(bundle: bytes, width: int, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason):
        parse_entry_bundle(bundle, Tile(level=0, index=0, width=width))


def test_entry_bundle_limits() -> None:
    format_entry_bundle([bytes(MAX_ENTRY_SIZE)])
    with pytest.raises(ValueError, match="65536 bytes, want ≤ 65535"):
        format_entry_bundle([bytes(MAX_ENTRY_SIZE + 1)])
    with pytest.raises(ValueError, match="257 entries"):
        format_entry_bundle([b""] * 257)
