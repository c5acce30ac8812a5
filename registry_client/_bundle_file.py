"""The bundle file: a length-prefixed container of named members, read and written safely.

Layout (all integers big-endian)::

    MAGIC                                   b"hallmark-bundle/v1\\n"
    member*                                 u16 name length, ASCII name, u32 length, bytes
    manifest                                last: the signed manifest note

`read_members` checks every name and size against its kind's limit before reading the
data, refuses duplicates and trailing bytes, and hashes everything between the magic
and the manifest; `Writer` writes the same layout; `atomic_file` replaces a file only
once it is complete and on disk. Members read live in memory only.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from registry_client.errors import (
    RecordFormatError,
)
from registry_client.merkle import HASH_SIZE
from registry_client.policy import MAX_POLICY_SIZE
from registry_client.records import (
    MAX_ENVELOPE_SIZE,
    MAX_TEMPLATE_SIZE,
)
from registry_client.tiles import (
    Tile,
)

MAGIC = b"hallmark-bundle/v1\n"
"""The first bytes of every bundle file."""
MAX_BUNDLE_SIZE = 4 * 1024**3
"""Largest bundle file read, in bytes."""
MAX_MEMBERS = 4_000_000
"""Most members a bundle may hold."""
MAX_NAME_SIZE = 128
"""Longest member name, in bytes."""
MAX_MANIFEST_SIZE = 16 * 1024 * 1024
"""Largest manifest note, in bytes (an item list may be long)."""
MAX_CHECKPOINT_SIZE = 64 * 1024
"""Largest checkpoint note, in bytes."""
CHECKPOINT = "checkpoint"
POLICY = "policy"
MANIFEST = "manifest"
ENTRY_PREFIX = "entry/"
BLOB_PREFIX = "blob/"
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
HEX_DIGITS = frozenset("0123456789abcdef")


class BundleFormatError(RecordFormatError):
    """The file is not a well-formed bundle: foreign, truncated, over a limit, or its
    members disagree with the manifest (``field`` names the member when there is one)."""


@dataclass(slots=True)
class Members:
    """A bundle's members by kind, as read (nothing verified yet)."""

    checkpoint: bytes | None = None
    policy: bytes | None = None
    tiles: dict[Tile, bytes] = field(default_factory=dict)
    entries: dict[int, bytes] = field(default_factory=dict)
    blobs: dict[bytes, bytes] = field(default_factory=dict)
    manifest: bytes = b""
    content_sha256: bytes = b""


def _member_limit(name: str) -> int:
    """The largest size a member called ``name`` may have; `BundleFormatError` if unknown."""
    if name in (CHECKPOINT, MANIFEST):
        return MAX_CHECKPOINT_SIZE if name == CHECKPOINT else MAX_MANIFEST_SIZE
    if name == POLICY:
        return MAX_POLICY_SIZE
    if name.startswith(ENTRY_PREFIX):
        entry_index(name)
        return MAX_ENVELOPE_SIZE
    if name.startswith(BLOB_PREFIX):
        blob_digest(name)
        return MAX_TEMPLATE_SIZE
    try:
        return Tile.from_path(name).width * HASH_SIZE
    except ValueError as exc:
        raise BundleFormatError(f"unknown member name {name!r}") from exc


def entry_index(name: str) -> int:
    digits = name.removeprefix(ENTRY_PREFIX)
    if not digits.isascii() or not digits.isdigit() or (digits != "0" and digits[0] == "0"):
        raise BundleFormatError(f"member {name!r}: want entry/<decimal leaf index>")
    return int(digits)


def blob_digest(name: str) -> bytes:
    digits = name.removeprefix(BLOB_PREFIX)
    if len(digits) != 2 * HASH_SIZE or not set(digits) <= HEX_DIGITS:
        raise BundleFormatError(f"member {name!r}: want blob/<64 lowercase hex digits>")
    return bytes.fromhex(digits)


def _read_exactly(file: BinaryIO, size: int, what: str, offset: int) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise BundleFormatError(
            f"truncated: {what} at byte {offset} needs {size} bytes, the file has {len(data)} more"
        )
    return data


def read_members(path: Path) -> Members:
    """Split a bundle file into its members, checking every size before reading."""
    members = Members()
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_BUNDLE_SIZE:
            raise BundleFormatError(f"file is {size} bytes, want at most {MAX_BUNDLE_SIZE}")
        magic = file.read(len(MAGIC))
        if magic != MAGIC:
            raise BundleFormatError(f"not a Hallmark bundle: starts {magic!r}, want {MAGIC!r}")
        digest = hashlib.sha256()
        offset, count = len(MAGIC), 0
        while True:
            head = file.read(_U16.size)
            if not head:
                raise BundleFormatError(f"truncated: the file ends at byte {offset}, no manifest")
            if len(head) < _U16.size:
                raise BundleFormatError(f"truncated: member header at byte {offset}")
            (name_size,) = _U16.unpack(head)
            if not 1 <= name_size <= MAX_NAME_SIZE:
                raise BundleFormatError(
                    f"member name at byte {offset} is {name_size} bytes, want 1 to {MAX_NAME_SIZE}"
                )
            raw_name = _read_exactly(file, name_size, "member name", offset)
            try:
                name = raw_name.decode("ascii")
            except UnicodeDecodeError as exc:
                raise BundleFormatError(f"member name at byte {offset} is not ASCII") from exc
            raw_size = _read_exactly(file, _U32.size, f"size of {name}", offset)
            (data_size,) = _U32.unpack(raw_size)
            limit = _member_limit(name)
            if data_size > limit or (name.startswith("tile/") and data_size != limit):
                want = f"exactly {limit}" if name.startswith("tile/") else f"at most {limit}"
                raise BundleFormatError(f"{data_size} bytes, want {want}", field=name)
            data = _read_exactly(file, data_size, name, offset)
            if name == MANIFEST:
                if trailing := file.read(1):
                    raise BundleFormatError(f"bytes after the manifest: {trailing!r}…")
                members.manifest, members.content_sha256 = data, digest.digest()
                return members
            digest.update(head + raw_name + raw_size + data)
            _add_member(members, name, data)
            offset += len(head) + name_size + len(raw_size) + data_size
            count += 1
            if count > MAX_MEMBERS:
                raise BundleFormatError(f"more than {MAX_MEMBERS} members")


def _add_member(members: Members, name: str, data: bytes) -> None:
    if name == CHECKPOINT and members.checkpoint is None:
        members.checkpoint = data
    elif name == POLICY and members.policy is None:
        members.policy = data
    elif name.startswith(ENTRY_PREFIX) and entry_index(name) not in members.entries:
        members.entries[entry_index(name)] = data
    elif name.startswith(BLOB_PREFIX) and blob_digest(name) not in members.blobs:
        members.blobs[blob_digest(name)] = data
    elif name.startswith("tile/") and Tile.from_path(name) not in members.tiles:
        members.tiles[Tile.from_path(name)] = data
    else:
        raise BundleFormatError("member appears twice", field=name)


class Writer:
    """Writes members after the magic, hashing them for the manifest."""

    __slots__ = ("_digest", "_file")

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._digest = hashlib.sha256()
        file.write(MAGIC)

    def add(self, name: str, data: bytes) -> None:
        raw = name.encode("ascii")
        chunk = _U16.pack(len(raw)) + raw + _U32.pack(len(data))
        self._file.write(chunk)
        self._file.write(data)
        self._digest.update(chunk)
        self._digest.update(data)

    def content_sha256(self) -> bytes:
        return self._digest.digest()

    def finish(self, manifest: bytes) -> None:
        raw = MANIFEST.encode("ascii")
        self._file.write(_U16.pack(len(raw)) + raw + _U32.pack(len(manifest)) + manifest)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file that replaces ``path`` only once fully written and ``fsync``'d."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("wb", buffering=1 << 20) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
