"""Binary BCH codes as bit vectors, through bchlib (the Linux kernel's BCH library).

A codeword is ``8 · data_bytes`` message bits followed by ``ecc_bits`` parity bits
(systematic, shortened from length 2^m − 1 to the message asked for), most significant
bit of each byte first; up to ``t`` flipped bits anywhere in it are corrected
(bounded-distance decoding [1]_). bchlib was chosen over galois 0.4.11 by measurement
(docs/commitment.md): it decodes about 5,000× faster and builds a code in
milliseconds, not minutes; its limit is t ≤ 64 per codeword, so longer codes are made
of several blocks.

References
----------
.. [1] S. Lin and D. J. Costello, "Error Control Coding", 2nd ed., ch. 6 (BCH codes,
   Berlekamp–Massey decoding), Pearson 2004.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import bchlib
import numpy as np
from numpy.typing import NDArray

MAX_T = 64
"""Most errors bchlib corrects in one codeword."""

_local = threading.local()


@dataclass(frozen=True, slots=True)
class BchCode:
    """The BCH code over GF(2^``m``) correcting ``t`` errors, shortened to ``data_bytes``
    message bytes (5 ≤ m ≤ 15, 1 ≤ t ≤ 64, 1 ≤ data_bytes ≤ what the code leaves room for).
    """

    m: int
    t: int
    data_bytes: int

    def __post_init__(self) -> None:
        if not all(isinstance(v, int) for v in (self.m, self.t, self.data_bytes)):
            raise ValueError(
                f"m, t and data_bytes must be integers, got {self.m!r}, {self.t!r}, "
                f"{self.data_bytes!r}"
            )
        if not (5 <= self.m <= 15 and 1 <= self.t <= MAX_T):
            raise ValueError(f"want 5 ≤ m ≤ 15 and 1 ≤ t ≤ {MAX_T}, got m={self.m}, t={self.t}")
        if not 1 <= self.data_bytes <= (room := _layout(self.m, self.t)[0]):
            raise ValueError(
                f"BCH m={self.m}, t={self.t} has room for 1..{room} message bytes, "
                f"got data_bytes={self.data_bytes}"
            )

    @property
    def ecc_bits(self) -> int:
        """Parity bits per codeword."""
        return _layout(self.m, self.t)[1]

    @property
    def block_bits(self) -> int:
        """Codeword length in bits: message then parity."""
        return 8 * self.data_bytes + self.ecc_bits

    def encode(self, data: bytes) -> NDArray[np.uint8]:
        """The codeword (block_bits,) of 0/1 uint8 for ``data_bytes`` message bytes.

        bchlib pads the parity to whole bytes of ``ceil(m·t / 8)`` with zeros; the
        padding is dropped here and restored by `decode`.
        """
        if len(data) != self.data_bytes:
            raise ValueError(f"want {self.data_bytes} message bytes, got {len(data)}")
        ecc = bytes(_codec(self.m, self.t).encode(bytes(data)))
        return np.unpackbits(np.frombuffer(data + ecc, np.uint8))[: self.block_bits]

    def decode(self, word: NDArray[np.uint8]) -> tuple[bytes, int] | None:
        """The message and the number of bits corrected, or ``None`` past ``t`` errors.

        ``word`` is (block_bits,) 0/1 uint8. A word more than ``t`` bits from every
        codeword is usually reported as undecodable but may decode to a wrong message:
        callers check the result (here: against the commitment's hash).
        """
        if word.shape != (self.block_bits,):
            raise ValueError(f"want {self.block_bits} bits, got shape {word.shape}")
        codec = _codec(self.m, self.t)
        raw = np.packbits(word).tobytes().ljust(self.data_bytes + codec.ecc_bytes, b"\0")
        data, ecc = bytearray(raw[: self.data_bytes]), bytearray(raw[self.data_bytes :])
        errors = codec.decode(data, ecc)
        if errors < 0:
            return None
        codec.correct(data, ecc)
        return bytes(data), int(errors)


@functools.cache
def _layout(m: int, t: int) -> tuple[int, int]:
    """(message bytes, parity bits) of the code; raises ValueError if bchlib refuses it."""
    try:
        codec = bchlib.BCH(t, m=m)
    except RuntimeError as exc:
        raise ValueError(f"bchlib has no BCH code with m={m}, t={t}") from exc
    return (codec.n - codec.ecc_bits) // 8, int(codec.ecc_bits)


def _codec(m: int, t: int) -> bchlib.BCH:
    """A bchlib codec for this thread (a codec keeps decoding state, so it is not shared)."""
    cache: dict[tuple[int, int], bchlib.BCH] = _local.__dict__.setdefault("codecs", {})
    if (m, t) not in cache:
        cache[m, t] = bchlib.BCH(t, m=m)
    return cache[m, t]
