"""The hologram template and its versioned, deterministic byte format.

A separate blob from the microtexture template (``fingerprint.template``); its SHA-256
is what ``ProductRecord.hologram_sha256`` records on the ledger.

Layout (little-endian), format version 2::

    magic  b"HMHG"          4 bytes
    version                 u16
    patch size S            u16
    frames registered       u16
    sectors K, seen         u8, u16 (bit k set: tilt sector k seen)
    code text length L      u16, then L bytes of UTF-8
    measures                4 × f32 (max tilt °, OVD share, hue range, moiré)
    MIDV-Holo map           S × S u8   (value × 255, rounded, clipped)
    orientation field       S × S × 2 i8 (cos 2θ, sin 2θ times c, × 127, rounded)
    OVD mask                ⌈S·S / 8⌉ bytes (numpy.packbits, row-major)

Nothing else follows; the same burst always gives the same bytes. Version 1 held a
chromatic edge map and ORB keypoints instead of the orientation field; its bytes are
refused (``TemplateFormatError``): enrol the item again.
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
VERSION = 2
SCHEME = "hallmark-hologram"
MAX_BYTES = 1 << 20
FIELD_SCALE = 127
"""The orientation field's components, in [−1, 1], are stored times this as int8."""

_HEADER = struct.Struct("<4sHHHBHH")
_MEASURES = struct.Struct("<4f")


@dataclass(frozen=True, slots=True, kw_only=True)
class HologramTemplate:
    """An item's hologram: its maps, and how the burst that made it went.

    ``midv`` (S, S) uint8 is the quantised MIDV-Holo map; ``orientation`` (S, S, 2) int8
    the quantised grating orientation field (``FIELD_SCALE``·c·(cos 2θ, sin 2θ));
    ``mask`` (S, S) bool the optically variable area; ``sectors`` the tilt sectors seen;
    ``frames`` how many frames were registered.
    """

    code_text: str
    frames: int
    sectors: tuple[bool, ...]
    max_tilt_deg: float
    ovd_share: float
    hue_range: float
    moire: float
    midv: NDArray[np.uint8] = field(repr=False)
    orientation: NDArray[np.int8] = field(repr=False)
    mask: NDArray[np.bool_] = field(repr=False)

    def __post_init__(self) -> None:
        size = self.midv.shape[0]
        shapes = (self.midv.shape, self.orientation.shape, self.mask.shape)
        if shapes != ((size, size), (size, size, 2), (size, size)):
            raise ValueError(f"want maps (S, S), (S, S, 2), (S, S), got {shapes}")
        for array in (self.midv, self.orientation, self.mask):
            array.flags.writeable = False

    @property
    def patch_size(self) -> int:
        return int(self.midv.shape[0])

    def orientation_field(self) -> NDArray[np.complex64]:
        """The grating orientation field ``c·e^{2iθ}`` back in its own units, (S, S)."""
        scaled = self.orientation.astype(np.float32) / np.float32(FIELD_SCALE)
        return (scaled[..., 0] + 1j * scaled[..., 1]).astype(np.complex64)

    @staticmethod
    def quantise(field: NDArray[np.complex64]) -> NDArray[np.int8]:
        """The stored form (S, S, 2) int8 of an orientation field (S, S)."""
        parts = np.stack([field.real, field.imag], axis=-1) * FIELD_SCALE
        return np.clip(np.rint(parts), -FIELD_SCALE, FIELD_SCALE).astype(np.int8)

    def to_bytes(self) -> bytes:
        code = self.code_text.encode("utf-8")
        seen = sum(1 << k for k, s in enumerate(self.sectors) if s)
        header = _HEADER.pack(
            MAGIC,
            VERSION,
            self.patch_size,
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
                self.orientation.tobytes(),
                np.packbits(self.mask).tobytes(),
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
        _, version, size, frames, count, seen, code_len = _HEADER.unpack_from(data)
        if version != VERSION:
            again = " (version 1 has no orientation field: enrol again)" if version == 1 else ""
            raise TemplateFormatError(
                f"hologram template format version {version}, this reads {VERSION}{again}"
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
        orientation = reader.array("i1", (size, 2 * size)).reshape(size, size, 2)
        packed = np.frombuffer(reader.take((size * size + 7) // 8), np.uint8)
        mask = np.unpackbits(packed, count=size * size).reshape(size, size).astype(bool)
        reader.finish()
        if not all(np.isfinite(measures)):
            raise TemplateFormatError("hologram template holds non-finite numbers")
        if int(np.abs(orientation.astype(np.int16)).max(initial=0)) > FIELD_SCALE:
            raise TemplateFormatError(f"hologram orientation field beyond ±{FIELD_SCALE}")
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
            orientation=orientation,
            mask=mask,
        )
