"""1:N identification: which enrolled item is this window? An index over `bitcode` codes.

`Index` holds one code per enrolled item, with an opaque ``label`` (the caller's item
key) and the SHA-256 of its template. `Index.search` finds the codes nearest a probe's
within a Hamming radius, by multi-index hashing [1]_ (default) or by a brute-force
POPCNT scan; both give exactly the same answer. A probe without a printed code (one
code per rotation × scale hypothesis) is searched by hashing first (`Method.HASHED_FIRST`):
the first rounds of multi-index hashing for its codes, the scan only if they find no
entry close enough to settle the answer. The candidates are then re-ranked with
the full matcher (`rerank`), since a code only narrows the search: the verdict is
``fingerprint.match``'s.

`Index.save` / `Index.load` keep an index in a file (format below), so a registry of a
million items is scanned once, not at every start.

File layout (little-endian), format version 1::

    magic  b"HMIX"          4 bytes
    version                 u16
    code bits B             u16
    entries N               u64
    source length L         u32, then L bytes of UTF-8 (what the index was built from)
    codes                   N × B/8 bytes
    template SHA-256s       N × 32 bytes
    label ends              N × u64 (cumulative byte offsets), then the UTF-8 labels
    SHA-256 of all the above

References
----------
.. [1] M. Norouzi, A. Punjani and D. J. Fleet, "Fast search in Hamming space with
   multi-index hashing", Proc. CVPR 2012, pp. 3108-3115. :DOI:`10.1109/CVPR.2012.6248043`
"""

from __future__ import annotations

import enum
import hashlib
import os
import struct
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
from numpy.typing import NDArray

from fingerprint import _identify_kernels as kernels
from fingerprint.bitcode import WORD_BITS, bitcode, probe_codes
from fingerprint.errors import FingerprintError, TemplateFormatError
from fingerprint.match import Decision, Match, match
from fingerprint.template import Template

MAGIC = b"HMIX"
VERSION = 1
DIGEST_SIZE = 32
RADIUS_FRACTION = 0.246
"""Default search radius, as a share of the code's bits: 63 of 256, where the fourth
round of multi-index hashing ends (16 tables × 4 − 1). Same-item MEDIUM captures differ
in at most 13.7% of 256 bits on 40 items (`fingerprint.bitcode`); in `bench_identify`
(1,000 items) 5 of 1,000 lay at 47-65 bits, missed at the first radius, 18% (46);
other items lie at least 37.5% (96 bits) away."""
NO_CODE_ANGLES = tuple(float(a) for a in range(0, 180, 3))
"""Rotations tried for a probe without a code (whole image = window), degrees."""
NO_CODE_SCALES = tuple(round(0.6 + 0.05 * i, 2) for i in range(13))
"""Magnifications tried for it: 0.6-1.2, a close-up framing the window loosely."""
NO_CODE_RADIUS_FRACTION = 0.33
"""Search radius for such a probe: its best hypothesis lay 14-33% of 256 bits from its
own item (15 MEDIUM close-ups, 5% margin) and at least 32% from 14 other items."""
SHORTCUT_RADIUS_FRACTION = 0.25
"""`Index.shortcut` answers without a scan once an entry lies within this share of the
bits (64 of 256) of one of the probe's codes. Set on training seed 11 (300 MEDIUM
close-ups, 1,000,000 codes; docs/identify.md): hashing settled 189 (all right) of the 193
own items this close; the nearest other entry to any close-up lay 70 bits away (of
999,700 distractor codes; 74 of 299 other real items)."""
SHORTCUT_CHECK_FRACTION = 0.375
"""A code that a bucket of one of the probe's codes holds within this share of the bits
(96 of 256) of that code is measured against all of them: the own item, reached through
a hypothesis next to the best, may lie this far from it (seed 11: 189 of 300 settled
with 96, 181 with 64; 4 more own items were reached only through hypotheses 100-147 bits
away)."""
LANES_FROM = 16
"""Queries from which a scan compares each code with all of them at once
(`_identify_kernels.scan_lanes`: about 2× faster for 780 queries, 2× slower for 1-5)."""
PENDING_LIMIT = 65_536
"""Codes added since the hash tables were built that a search scans by brute force;
beyond this (or an eighth of the index) the tables are rebuilt."""

_HEADER = struct.Struct("<4sHHQI")


class IndexFormatError(FingerprintError, ValueError):
    """Index file bytes are corrupt, truncated or of a foreign format or version."""


class Method(enum.StrEnum):
    MIH = "mih"
    """Multi-index hashing [1]_."""
    SCAN = "scan"
    """Brute-force POPCNT over every code."""
    HASHED_FIRST = "hashed-first"
    """For many codes of one probe and k = 1: `Index.shortcut`, else the scan."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An enrolled item whose code lies ``distance`` bits from the probe's."""

    label: str
    template_sha256: bytes
    distance: int


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate and the full matcher's verdict on the probe against its template."""

    candidate: Candidate
    match: Match


class Index:
    """Codes of ``n_bits`` bits, each with a label and a template SHA-256.

    ``source`` says what the entries came from (e.g. a registry checkpoint), so a saved
    index can be checked against its registry before use. Adds and the first search
    after them (which merges them and may rebuild the hash tables) need one thread;
    later searches may run concurrently (the kernels release the GIL).
    """

    def __init__(self, n_bits: int = 256, *, source: str = "") -> None:
        if not (isinstance(n_bits, int) and n_bits % WORD_BITS == 0 and 64 <= n_bits < 1 << 16):
            raise ValueError(f"n_bits must be a positive multiple of {WORD_BITS}, got {n_bits!r}")
        self._n_bits = n_bits
        self.source = source
        self._codes = np.zeros((0, n_bits // 8), np.uint8)
        self._digests = np.zeros((0, DIGEST_SIZE), np.uint8)
        self._labels: list[str] = []
        self._chunks: list[tuple[NDArray[np.uint8], NDArray[np.uint8]]] = []
        self._tables: _Tables | None = None

    @property
    def n_bits(self) -> int:
        return self._n_bits

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def codes(self) -> NDArray[np.uint8]:
        """The packed codes (N, n_bits // 8), in the order added (read-only view)."""
        self._merge()
        view = self._codes.view()
        view.flags.writeable = False
        return view

    def add(self, code: NDArray[np.uint8], label: str, template_sha256: bytes) -> None:
        """Enrol one packed code (n_bits // 8,) uint8."""
        self.add_many(code.reshape(1, -1), [label], [template_sha256])

    def add_many(
        self, codes: NDArray[np.uint8], labels: Sequence[str], digests: Iterable[bytes]
    ) -> None:
        """Enrol packed codes (N, n_bits // 8) uint8 with their labels and SHA-256s."""
        rows = np.frombuffer(b"".join(_check_digest(d) for d in digests), np.uint8)
        self._append(codes, labels, rows.reshape(-1, DIGEST_SIZE))

    def _append(
        self, codes: NDArray[np.uint8], labels: Sequence[str], digests: NDArray[np.uint8]
    ) -> None:
        self._check_codes(codes, "codes")
        if not (len(codes) == len(labels) == len(digests)):
            raise ValueError(
                f"got {len(codes)} codes, {len(labels)} labels and {len(digests)} digests"
            )
        for label in labels:
            _check_label(label)
        self._chunks.append((np.array(codes, np.uint8), np.array(digests, np.uint8)))
        self._labels.extend(labels)

    def search(
        self,
        codes: NDArray[np.uint8],
        k: int = 5,
        radius: int | None = None,
        method: Method = Method.MIH,
    ) -> tuple[Candidate, ...]:
        """The up to ``k`` entries nearest ``codes`` within ``radius`` bits, nearest first.

        ``codes`` is one packed code (n_bits // 8,) or several (H, n_bits // 8) of one
        probe (`bitcode.probe_codes`); an entry's distance is then to the nearest of
        them. ``radius`` defaults to `RADIUS_FRACTION` of the bits; ties go to the entry
        added first. `Method.MIH` and `Method.SCAN` give the same answer; so does
        `Method.HASHED_FIRST` whenever at most one entry lies within the shortcut radius
        (`SHORTCUT_RADIUS_FRACTION`, or ``radius`` if smaller) of ``codes`` (else it
        answers one of those entries, with its distance, not necessarily the nearest:
        in practice two captures of one item).
        """
        queries, limit = self._query(codes, radius, RADIUS_FRACTION)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        return self._candidates(*self._nearest(queries, k, limit, method))

    def shortcut(self, codes: NDArray[np.uint8], radius: int | None = None) -> Candidate | None:
        """The entry that hashing finds first within ``radius`` bits of ``codes``, or None
        (`Method.HASHED_FIRST` then scans).

        Round 0, then round 1 of multi-index hashing [1]_ for ``codes`` in the order
        given (`_identify_kernels.first_within`): an entry a bucket holds within
        `SHORTCUT_CHECK_FRACTION` of the bits of the code that probed it is measured
        against all of them, and the first found within ``radius`` (default
        `SHORTCUT_RADIUS_FRACTION` of the bits) ends the search. Codes added since the
        hash tables were built are scanned first. By pigeonhole an entry within 31 bits
        of a code (16 tables × 2 − 1) shares a substring within one bit with it, so None
        means none lies that close; farther entries are found when some substring
        happens to be that close (docs/identify.md).
        """
        queries, limit = self._query(codes, radius, SHORTCUT_RADIUS_FRACTION)
        found = self._hashed(queries, limit)
        return self._candidates(*found)[0] if found is not None else None

    def _query(
        self, codes: NDArray[np.uint8], radius: int | None, fraction: float
    ) -> tuple[NDArray[np.uint64], int]:
        """Checked query words (H, W) and radius (default ``fraction`` of the bits)."""
        queries = codes.reshape(1, -1) if codes.ndim == 1 else codes
        self._check_codes(queries, "codes")
        limit = round(fraction * self._n_bits) if radius is None else radius
        if not 0 <= limit <= self._n_bits:
            raise ValueError(f"radius must be in 0..{self._n_bits}, got {radius!r}")
        self._merge()
        return _words(queries), limit

    def _candidates(
        self, rows: NDArray[np.int32], distances: NDArray[np.int32]
    ) -> tuple[Candidate, ...]:
        return tuple(
            Candidate(
                label=self._labels[row],
                template_sha256=self._digests[row].tobytes(),
                distance=int(d),
            )
            for row, d in zip(rows.tolist(), distances.tolist(), strict=True)
        )

    def _nearest(
        self, queries: NDArray[np.uint64], k: int, radius: int, method: Method
    ) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        if method is Method.HASHED_FIRST and k == 1:
            shortcut = round(SHORTCUT_RADIUS_FRACTION * self._n_bits)
            hit = self._hashed(queries, min(radius, shortcut))
            if hit is not None:
                return hit
        words = _words(self._codes)
        if method is not Method.MIH or len(self) == 0:
            return _scan(words, queries, k, radius)
        tables = self._hash_tables()
        # Codes added since the tables were built are scanned; each query's MIH answer
        # is exact, so the union's k best are too (row order breaks ties).
        found = []
        if tables.size < len(self):
            rows, distances = _scan(words[tables.size :], queries, k, radius)
            found.append((rows + tables.size, distances))
        for query in queries:
            rows, distances, _ = kernels.mih_search(
                words[: tables.size], tables.offsets, tables.rows, query, k, radius
            )
            found.append((rows, distances))
        all_rows = np.concatenate([r for r, _ in found])
        all_d = np.concatenate([d for _, d in found])
        order = np.lexsort((all_rows, all_d))
        _, first = np.unique(all_rows[order], return_index=True)
        keep = order[np.sort(first)][:k]
        return all_rows[keep], all_d[keep]

    def _hashed(
        self, queries: NDArray[np.uint64], accept: int
    ) -> tuple[NDArray[np.int32], NDArray[np.int32]] | None:
        """`shortcut`'s (row, distance) as arrays of one, or None."""
        if len(self) == 0:
            return None
        words = _words(self._codes)
        tables = self._hash_tables()
        if tables.size < len(self):
            rows, distances = _scan(words[tables.size :], queries, 1, accept)
            if rows.size:
                return rows + tables.size, distances
        check = round(SHORTCUT_CHECK_FRACTION * self._n_bits)
        for flips in (0, 1):
            row, distance = kernels.first_within(
                words[: tables.size],
                (tables.offsets, tables.rows),
                queries,
                flips,
                check,
                accept,
                numba.get_num_threads(),
            )
            if row >= 0:
                return np.array([row], np.int32), np.array([distance], np.int32)
        return None

    def _merge(self) -> None:
        if self._chunks:
            self._codes = np.concatenate([self._codes, *(c for c, _ in self._chunks)])
            self._digests = np.concatenate([self._digests, *(d for _, d in self._chunks)])
            self._chunks.clear()

    def _hash_tables(self) -> _Tables:
        tables = self._tables
        pending = len(self) - (tables.size if tables is not None else 0)
        if tables is None or pending > max(PENDING_LIMIT, tables.size // 8):
            keys = np.ascontiguousarray(self._codes).view("<u2")
            offsets, rows = kernels.build_tables(keys)
            tables = self._tables = _Tables(size=len(self), offsets=offsets, rows=rows)
        return tables

    def entry(self, row: int) -> tuple[str, bytes]:
        """The label and template SHA-256 of the ``row``-th entry added."""
        self._merge()
        return self._labels[row], self._digests[row].tobytes()

    def _check_codes(self, codes: NDArray[np.uint8], name: str) -> None:
        if codes.dtype != np.uint8 or codes.ndim != 2 or codes.shape[1] != self._n_bits // 8:
            raise ValueError(
                f"{name} must be (N, {self._n_bits // 8}) uint8 packed codes, "
                f"got {codes.dtype} {codes.shape}"
            )

    # --- Persistence ------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The index in its file format (module docstring)."""
        self._merge()
        source = self.source.encode("utf-8")
        labels = [label.encode("utf-8") for label in self._labels]
        ends = np.cumsum([len(b) for b in labels], dtype="<u8") if labels else np.zeros(0, "<u8")
        body = b"".join(
            (
                _HEADER.pack(MAGIC, VERSION, self._n_bits, len(self), len(source)),
                source,
                self._codes.tobytes(),
                self._digests.tobytes(),
                ends.astype("<u8").tobytes(),
                b"".join(labels),
            )
        )
        return body + hashlib.sha256(body).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> Index:
        """Decode an index file's bytes; `IndexFormatError` names what is wrong."""
        if len(data) < _HEADER.size + DIGEST_SIZE or data[:4] != MAGIC:
            raise IndexFormatError(f"not a Hallmark index: starts {data[:4]!r}, want {MAGIC!r}")
        body, digest = data[:-DIGEST_SIZE], data[-DIGEST_SIZE:]
        _, version, n_bits, count, source_len = _HEADER.unpack_from(body)
        if version != VERSION:
            raise IndexFormatError(f"index format version {version}, this reads {VERSION}")
        if hashlib.sha256(body).digest() != digest:
            raise IndexFormatError("index checksum mismatch: the file is corrupt or truncated")
        try:
            index = cls(n_bits)
        except ValueError as exc:
            raise IndexFormatError(f"index header: {exc}") from exc
        fixed = source_len + count * (n_bits // 8 + DIGEST_SIZE + 8)
        if _HEADER.size + fixed > len(body):
            raise IndexFormatError(f"index of {count} entries needs more than {len(body)} bytes")
        at = _HEADER.size
        index.source = _utf8(body[at : at + source_len], "source")
        at += source_len
        codes = np.frombuffer(body, np.uint8, count * (n_bits // 8), at)
        at += codes.size
        digests = np.frombuffer(body, np.uint8, count * DIGEST_SIZE, at)
        at += digests.size
        ends = np.frombuffer(body, "<u8", count, at).astype(np.int64)
        at += 8 * count
        blob = body[at:]
        total = int(ends[-1]) if count else 0
        if np.any(np.diff(ends) < 0) or total != len(blob):
            raise IndexFormatError("index label table is inconsistent with its length")
        starts = np.concatenate([[0], ends[:-1]]) if count else ends
        labels = [_utf8(blob[s:e], "label") for s, e in zip(starts, ends, strict=True)]
        try:
            index._append(
                codes.reshape(count, n_bits // 8), labels, digests.reshape(count, DIGEST_SIZE)
            )
        except ValueError as exc:  # an entry the index refuses (an empty label, say)
            raise IndexFormatError(f"index entries: {exc}") from exc
        return index

    def save(self, path: Path) -> None:
        """Write the index to ``path`` atomically (`write_atomically`)."""
        write_atomically(path, self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> Index:
        """Read an index written by `save`."""
        return cls.from_bytes(path.read_bytes())


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: written to a new temporary file beside
    it, flushed to disk, then renamed over it. Readers, and writers in other threads or
    processes, see the old file or a new one whole, never a mix; after a crash the file
    may be an older one, which the checksum and source checks tell apart."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class Query:
    """How to search for one probe: its codes, the radius and the method."""

    codes: NDArray[np.uint8] = field(repr=False)
    radius: int
    method: Method


def enrolled_code(template: bytes, n_bits: int = 256) -> NDArray[np.uint8] | None:
    """The packed code of a registered template's bytes, or None if they do not decode
    (registries store templates without decoding them: one bad one must not stop a search)."""
    try:
        decoded = Template.from_bytes(template)
    except TemplateFormatError:
        return None
    return bitcode(decoded.features.residual, n_bits).bits


def query_for(probe: Template, n_bits: int = 256) -> Query:
    """The search for ``probe``: one code if a printed code located its window (the
    code gives the position even when its serial is unknown or not registered), else
    one per rotation × scale of `NO_CODE_ANGLES` × `NO_CODE_SCALES`, coarse to fine
    (`coarse_to_fine`), hashed first."""
    residual = probe.features.residual
    if probe.located_by_code:
        code = bitcode(residual, n_bits).bits.reshape(1, -1)
        return Query(codes=code, radius=round(RADIUS_FRACTION * n_bits), method=Method.MIH)
    codes = probe_codes(residual, n_bits, angles_deg=NO_CODE_ANGLES, scales=NO_CODE_SCALES)
    order = coarse_to_fine(len(NO_CODE_ANGLES), len(NO_CODE_SCALES))
    return Query(
        codes=codes[order],
        radius=round(NO_CODE_RADIUS_FRACTION * n_bits),
        method=Method.HASHED_FIRST,
    )


def coarse_to_fine(n_angles: int, n_scales: int) -> NDArray[np.intp]:
    """An order of the angle-major grid's ``n_angles × n_scales`` hypotheses that visits
    every 8th angle and 4th scale first, then each grid twice as fine, the points of a
    level spread by the bit-reversed (van der Corput) order of their indexes; so that a
    search stopping at the first hit has probed near every pose early."""

    def level(i: int) -> int:
        return 3 - min(3, (i & -i).bit_length() - 1) if i else 0

    def spread(i: int) -> int:
        return int(f"{i:016b}"[::-1], 2)

    return np.array(
        sorted(
            range(n_angles * n_scales),
            key=lambda h: (
                max(level(h // n_scales), level(h % n_scales)),
                spread(h // n_scales),
                spread(h % n_scales),
            ),
        ),
        np.intp,
    )


def rerank(
    probe: Template,
    candidates: Iterable[Candidate],
    template_of: Callable[[Candidate], Template],
    matcher: Callable[[Template, Template], Match] = match,
) -> tuple[Ranked, ...]:
    """The full matcher's verdict on ``probe`` against each candidate's template, best
    first: genuine before retake before counterfeit, then by score."""
    order = {Decision.GENUINE: 0, Decision.RETAKE: 1, Decision.COUNTERFEIT: 2}
    ranked = [Ranked(candidate=c, match=matcher(template_of(c), probe)) for c in candidates]
    return tuple(sorted(ranked, key=lambda r: (order[r.match.decision], -r.match.score)))


@dataclass(frozen=True, slots=True)
class _Tables:
    size: int
    offsets: NDArray[np.int64] = field(repr=False)
    rows: NDArray[np.int32] = field(repr=False)


def _scan(
    words: NDArray[np.uint64], queries: NDArray[np.uint64], k: int, radius: int
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """The brute-force scan, in SIMD lanes across queries when there are many."""
    kernel = kernels.scan_lanes if len(queries) >= LANES_FROM else kernels.scan
    return kernel(words, queries, k, radius)


def _words(codes: NDArray[np.uint8]) -> NDArray[np.uint64]:
    """Packed codes viewed as little-endian uint64 words (copied if not aligned)."""
    words: NDArray[np.uint64] = np.ascontiguousarray(codes).view("<u8")
    return words if words.flags.aligned else words.copy()


def _check_digest(digest: bytes) -> bytes:
    if not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE:
        raise ValueError(f"template SHA-256 must be {DIGEST_SIZE} bytes, got {digest!r:.80}")
    return digest


def _check_label(label: str) -> None:
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string, got {label!r}")


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IndexFormatError(f"index {what} is not UTF-8") from exc
