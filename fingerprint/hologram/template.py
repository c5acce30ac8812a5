"""The hologram template and its versioned, deterministic byte format.

A separate blob from the microtexture template (``fingerprint.template``); its SHA-256
is what ``ProductRecord.hologram_sha256`` records on the ledger.

Layout (little-endian), format version 1::

    magic  b"HMHG"          4 bytes
    version                 u16
    patch size S            u16
    keypoints N             u16
    frames registered       u16
    sectors K, seen         u8, u16 (bit k set: tilt sector k seen)
    code text length L      u16, then L bytes of UTF-8
    measures                4 × f32 (max tilt °, OVD share, hue range, moiré)
    MIDV-Holo map           S × S u8   (value × 255, rounded, clipped)
    chromatic edge map      S × S u16  (value × 65535 / EDGE_FULL_SCALE, rounded, clipped)
    OVD mask                ⌈S·S / 8⌉ bytes (numpy.packbits, row-major)
    keypoints               N × 2 f32 (patch coordinates)
    descriptors             N × 32 u8 (ORB)

Nothing else follows; the same burst always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import TemplateFormatError
from fingerprint.template import FieldReader

MAGIC = b"HMHG"
VERSION = 1
SCHEME = "hallmark-hologram"
MAX_BYTES = 1 << 20
EDGE_FULL_SCALE = 0.5
"""Chromatic edge energy stored at full scale (the gradient of a chromaticity in [−1, 1])."""

_HEADER = struct.Struct("<4sHHHHBHH")
_MEASURES = struct.Struct("<4f")


@dataclass(frozen=True, slots=True, kw_only=True)
class HologramTemplate:
    """An item's hologram: its maps and keypoints, and how the burst that made it went.

    ``midv`` (S, S) uint8 and ``edges`` (S, S) uint16 are the quantised MIDV-Holo and
    chromatic edge maps; ``mask`` (S, S) bool the optically variable area; ``keypoints``
    (N, 2) float32 and ``descriptors`` (N, 32) uint8 are ORB on the edge map;
    ``sectors`` the tilt sectors seen; ``frames`` how many frames were registered.
    """

    code_text: str
    frames: int
    sectors: tuple[bool, ...]
    max_tilt_deg: float
    ovd_share: float
    hue_range: float
    moire: float
    midv: NDArray[np.uint8] = field(repr=False)
    edges: NDArray[np.uint16] = field(repr=False)
    mask: NDArray[np.bool_] = field(repr=False)
    keypoints: NDArray[np.float32] = field(repr=False)
    descriptors: NDArray[np.uint8] = field(repr=False)

    def __post_init__(self) -> None:
        for array in (self.midv, self.edges, self.mask, self.keypoints, self.descriptors):
            array.flags.writeable = False

    @property
    def patch_size(self) -> int:
        return int(self.midv.shape[0])

    def edge_map(self) -> NDArray[np.float32]:
        """The chromatic edge map back in its own units, (S, S) float32."""
        return self.edges.astype(np.float32) * np.float32(EDGE_FULL_SCALE / 65535)

    def to_bytes(self) -> bytes:
        code = self.code_text.encode("utf-8")
        seen = sum(1 << k for k, s in enumerate(self.sectors) if s)
        header = _HEADER.pack(
            MAGIC,
            VERSION,
            self.patch_size,
            len(self.keypoints),
            self.frames,
            len(self.sectors),
            seen,
            len(code),
        )
        measures = _MEASURES.pack(self.max_tilt_deg, self.ovd_share, self.hue_range, self.moire)
        return b"".join(
            (
                header,
                code,
                measures,
                self.midv.tobytes(),
                self.edges.astype("<u2").tobytes(),
                np.packbits(self.mask).tobytes(),
                self.keypoints.astype("<f4").tobytes(),
                self.descriptors.tobytes(),
            )
        )

    def digest(self) -> str:
        """SHA-256 of the template bytes, lower-case hex (``bytes.fromhex`` for a record)."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes) -> HologramTemplate:
        """Decode template bytes, checking every length; raise TemplateFormatError if bad."""
        if len(data) > MAX_BYTES:
            raise TemplateFormatError(
                f"hologram template is {len(data)} bytes; the limit is {MAX_BYTES}"
            )
        if len(data) < _HEADER.size or data[:4] != MAGIC:
            raise TemplateFormatError(
                f"not a Hallmark hologram template: starts {data[:4]!r}, want {MAGIC!r}"
            )
        _, version, size, n, frames, count, seen, code_len = _HEADER.unpack_from(data)
        if version != VERSION:
            raise TemplateFormatError(
                f"hologram template format version {version}, this reads {VERSION}"
            )
        if not 1 <= count <= 16 or seen >> count:
            raise TemplateFormatError(f"bad tilt sectors: {count} sectors, mask {seen:#x}")
        if size < 8:
            raise TemplateFormatError(f"hologram template patch size {size} is below 8")
        reader = FieldReader(data, _HEADER.size)
        try:
            code = reader.take(code_len).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateFormatError("hologram template code text is not UTF-8") from exc
        measures = _MEASURES.unpack(reader.take(_MEASURES.size))
        midv = reader.array("u1", (size, size))
        edges = reader.array("<u2", (size, size)).astype(np.uint16)
        packed = np.frombuffer(reader.take((size * size + 7) // 8), np.uint8)
        mask = np.unpackbits(packed, count=size * size).reshape(size, size).astype(bool)
        keypoints = reader.array("<f4", (n, 2)).astype(np.float32)
        descriptors = reader.array("u1", (n, 32))
        reader.finish()
        if not (np.all(np.isfinite(keypoints)) and all(np.isfinite(measures))):
            raise TemplateFormatError("hologram template holds non-finite numbers")
        max_tilt, share, hue, moire = measures
        return cls(
            code_text=code,
            frames=frames,
            sectors=tuple(bool(seen >> k & 1) for k in range(count)),
            max_tilt_deg=max_tilt,
            ovd_share=share,
            hue_range=hue,
            moire=moire,
            midv=midv,
            edges=edges,
            mask=mask,
            keypoints=keypoints,
            descriptors=descriptors,
        )
