"""The fingerprint template and its versioned, deterministic byte format.

Layout (little-endian), format version 1::

    magic  b"HMFP"          4 bytes
    version                 u16
    patch size S            u16
    keypoints N             u16
    LBP cells C, bins B     u16, u16
    flags                   u8   (bit 0: window located by a code)
    code text length L      u16, then L bytes of UTF-8
    quality measures        7 × f32 (QualityMeasures field order)
    keypoints               N × 2 f32
    descriptors             N × 32 u8
    LBP histograms          C × B u16
    residual                S × S i8

Nothing else follows. The same capture always gives the same bytes, so the SHA-256 of
the bytes is the fingerprint hash registered on the ledger.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import TemplateFormatError
from fingerprint.features import Features
from fingerprint.quality import QualityMeasures

MAGIC = b"HMFP"
VERSION = 1
SCHEME = "hallmark-microtexture"
MAX_BYTES = 1 << 20

_HEADER = struct.Struct("<4sHHHHHBH")
_MEASURES = struct.Struct("<7f")
_MEASURE_NAMES = tuple(f.name for f in fields(QualityMeasures))


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """An item's fingerprint: features of its window plus how the capture was."""

    features: Features
    quality: QualityMeasures
    code_text: str
    located_by_code: bool

    @property
    def patch_size(self) -> int:
        return int(self.features.residual.shape[0])

    def to_bytes(self) -> bytes:
        f = self.features
        code = self.code_text.encode("utf-8")
        header = _HEADER.pack(
            MAGIC,
            VERSION,
            self.patch_size,
            len(f.keypoints),
            f.lbp.shape[0],
            f.lbp.shape[1],
            int(self.located_by_code),
            len(code),
        )
        measures = _MEASURES.pack(*(getattr(self.quality, n) for n in _MEASURE_NAMES))
        return b"".join(
            (
                header,
                code,
                measures,
                f.keypoints.astype("<f4").tobytes(),
                f.descriptors.tobytes(),
                f.lbp.astype("<u2").tobytes(),
                f.residual.tobytes(),
            )
        )

    def digest(self) -> str:
        """SHA-256 of the template bytes, lower-case hex."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes) -> Template:
        """Decode template bytes, checking every length; raise TemplateFormatError if bad."""
        if len(data) > MAX_BYTES:
            raise TemplateFormatError(f"template is {len(data)} bytes; the limit is {MAX_BYTES}")
        if len(data) < _HEADER.size or data[:4] != MAGIC:
            raise TemplateFormatError(
                f"not a Hallmark template: starts {data[:4]!r}, want {MAGIC!r}"
            )
        _, version, size, n, cells, bins, flags, code_len = _HEADER.unpack_from(data)
        if version != VERSION:
            raise TemplateFormatError(f"template format version {version}, this reads {VERSION}")
        if flags > 1:
            raise TemplateFormatError(f"unknown template flags {flags:#x}")
        reader = FieldReader(data, _HEADER.size)
        try:
            code = reader.take(code_len).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateFormatError("template code text is not UTF-8") from exc
        values = _MEASURES.unpack(reader.take(_MEASURES.size))
        keypoints = reader.array("<f4", (n, 2)).astype(np.float32)
        descriptors = reader.array("u1", (n, 32))
        lbp = reader.array("<u2", (cells, bins)).astype(np.uint16)
        residual = reader.array("i1", (size, size))
        reader.finish()
        if not np.all(np.isfinite(keypoints)) or not all(np.isfinite(values)):
            raise TemplateFormatError("template holds non-finite numbers")
        features = Features(
            keypoints=keypoints, descriptors=descriptors, lbp=lbp, residual=residual
        )
        return cls(
            features=features,
            quality=QualityMeasures(**dict(zip(_MEASURE_NAMES, values, strict=True))),
            code_text=code,
            located_by_code=bool(flags & 1),
        )


class FieldReader:
    """Reads consecutive fields of ``data``; a short read is a format error.

    Shared by the versioned byte formats (this template, `fingerprint.hologram.template`).
    """

    def __init__(self, data: bytes, offset: int) -> None:
        self._data = data
        self._offset = offset

    def take(self, count: int) -> bytes:
        end = self._offset + count
        if end > len(self._data):
            raise TemplateFormatError(
                f"template truncated: need {end} bytes, have {len(self._data)}"
            )
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def array(self, dtype: str, shape: tuple[int, int]) -> NDArray[Any]:
        count = shape[0] * shape[1]
        raw = self.take(count * np.dtype(dtype).itemsize)
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()

    def finish(self) -> None:
        if self._offset != len(self._data):
            raise TemplateFormatError(
                f"template has {len(self._data) - self._offset} unexpected trailing bytes"
            )
