"""Code-offset fuzzy commitment to an item's surface code, and its byte format.

Enrolment (Juels and Wattenberg 1999 [1]_; a fuzzy extractor in the sense of Dodis
et al. 2004 [2]_): the ``K`` most reliable bits ``w`` of the item's code are chosen
(``mask``); a random secret ``s`` is encoded as BCH codewords, each codeword bit
repeated ``r`` times, giving ``c``; the helper data is ``δ = c ⊕ w``; the key is
``BLAKE2b(s; salt, person)`` and the commitment stores only ``H(key ‖ salt)``, and the
enrolment windows' texture level (`texture`, one byte) for the print-copy check.

Opening: a probe's values ``v'`` at the mask (signed reals, `code.band_values`) are
turned by ``δ`` into soft votes for ``c`` (``v'`` where ``δ = 0``, ``−v'`` where
``δ = 1``); each codeword bit is the sign of the sum of its ``r`` votes (soft-decision
decoding of the repetition code, which gives strong values more say than weak ones),
the BCH decoder corrects up to ``t`` wrong bits per block, and the re-derived key's
hash must equal the stored one. An opening also says which committed bits the probe
read otherwise than the recovered code ``w = c ⊕ δ`` (for `copy_evidence`). Nothing in
the commitment is the code itself; what the mask, helper data and texture level reveal
is measured in docs/commitment.md.

Layout of the committed bits: the j-th masked position (in code order) carries bit
``j mod n`` of the ``n`` outer bits, and outer bit ``g`` belongs to block ``g mod B``
at place ``g // B``; so the ``r`` copies of a bit, and the bits of a block, come from
all over the band.

Byte layout (little-endian), format version 3::

    magic b"HMFC"                   4 bytes
    version                         u16
    band shortest, longest px       u8, u8
    repeat r                        u8
    BCH m, t, data bytes, blocks B  u8, u8, u8, u8
    texture level                   u8: the level is −byte / 32 (`texture`)
    salt                            16 bytes
    check H(key ‖ salt)             32 bytes (BLAKE2b-256)
    mask                            ceil(P / 8) bytes, exactly K = r · B · block bits set
    helper data δ                   ceil(K / 8) bytes

Unused bits of the last mask and helper bytes are zero. Nothing else follows. The
SHA-256 of the bytes is the hash on the ledger. Versions 1 (a spectral code read
under alignment hypotheses) and 2 (this code without the texture level, so that a
print copy could not be told from the item) are refused with the reason.

References
----------
.. [1] A. Juels and M. Wattenberg, "A fuzzy commitment scheme", ACM CCS 1999.
   :DOI:`10.1145/319709.319714`
.. [2] Y. Dodis, L. Reyzin and A. Smith, "Fuzzy extractors: how to generate strong keys
   from biometrics and other noisy data", EUROCRYPT 2004. :DOI:`10.1007/978-3-540-24676-3_31`
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fingerprint.commitment.code import Enrolled, band_size, band_values, enrol
from fingerprint.commitment.errors import CommitmentFormatError
from fingerprint.commitment.frame import Framed
from fingerprint.commitment.params import CommitmentParams
from fingerprint.commitment.texture import (
    LEVEL_STEP,
    enrolled_level,
    quantise,
    texture_level,
    to_byte,
)

MAGIC = b"HMFC"
VERSION = 3
SCHEME = "commitment"
"""`ProductRecord.scheme` of items registered by commitment."""
SALT_BYTES = 16
CHECK_BYTES = 32
_KEY_PERSON = b"hallmark.fc.key"
_CHECK_PERSON = b"hallmark.fc.chk"
_HEADER = struct.Struct("<4sHBBBBBBBB")
_REFUSED = {
    1: "1 (the spectral code) cannot be opened by this version",
    2: "2 (no texture level: print copies could not be told from the item) is not judged "
    "by this version",
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Commitment:
    """What the ledger holds instead of a template (compare by `to_bytes`).

    ``mask``: (P,) bool, the committed positions of the band's values; ``helper``:
    (K,) uint8 0/1, ``δ``; ``check``: H(key ‖ salt); ``texture_level``: the enrolment's
    (`texture`), a multiple of ``−1/32`` in [−255/32, 0].
    """

    params: CommitmentParams
    texture_level: float
    salt: bytes = field(repr=False)
    check: bytes = field(repr=False)
    mask: NDArray[np.bool_] = field(repr=False)
    helper: NDArray[np.uint8] = field(repr=False)

    def __post_init__(self) -> None:
        p = self.params
        if quantise(self.texture_level) != self.texture_level:
            raise ValueError(
                f"texture level must be a multiple of −{LEVEL_STEP} in [−255/32, 0], "
                f"got {self.texture_level}"
            )
        if len(self.salt) != SALT_BYTES or len(self.check) != CHECK_BYTES:
            raise ValueError(
                f"want a {SALT_BYTES}-byte salt and {CHECK_BYTES}-byte check, "
                f"got {len(self.salt)} and {len(self.check)}"
            )
        pool = band_size(p.shortest_px, p.longest_px)
        if self.mask.dtype != np.bool_ or self.mask.shape != (pool,):
            raise ValueError(f"want a ({pool},) bool mask, got {self.mask.dtype} {self.mask.shape}")
        if (weight := int(self.mask.sum())) != p.code_bits:
            raise ValueError(f"mask selects {weight} bits, want {p.code_bits}")
        if self.helper.shape != (p.code_bits,) or self.helper.dtype != np.uint8:
            raise ValueError(f"want helper data ({p.code_bits},) uint8, got {self.helper.shape}")
        if self.helper.max(initial=0) > 1:
            raise ValueError("helper data must be bits (0 or 1)")
        self.mask.flags.writeable = False
        self.helper.flags.writeable = False

    def to_bytes(self) -> bytes:
        p = self.params
        header = _HEADER.pack(
            MAGIC,
            VERSION,
            p.shortest_px,
            p.longest_px,
            p.repeat,
            p.m,
            p.t,
            p.data_bytes,
            p.blocks,
            to_byte(self.texture_level),
        )
        packed = (np.packbits(self.mask).tobytes(), np.packbits(self.helper).tobytes())
        return b"".join((header, self.salt, self.check, *packed))

    def digest(self) -> str:
        """SHA-256 of the commitment bytes, lower-case hex."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes) -> Commitment:
        """Decode commitment bytes; raise `CommitmentFormatError` naming what is wrong."""
        if len(data) < 6 or data[:4] != MAGIC:
            raise CommitmentFormatError(
                f"not a Hallmark commitment: starts {data[:4]!r}, want {MAGIC!r}"
            )
        (version,) = struct.unpack_from("<H", data, 4)
        if version in _REFUSED:
            raise CommitmentFormatError(
                f"commitment format version {_REFUSED[version]}, which reads {VERSION}: "
                "re-enrol the item"
            )
        if version != VERSION:
            raise CommitmentFormatError(
                f"commitment format version {version}, this reads {VERSION}"
            )
        if len(data) < _HEADER.size:
            raise CommitmentFormatError(
                f"commitment truncated: {len(data)} bytes, the header alone is {_HEADER.size}"
            )
        _, _, shortest, longest, repeat, m, t, data_bytes, blocks, level = _HEADER.unpack_from(data)
        try:
            params = CommitmentParams(
                shortest_px=shortest,
                longest_px=longest,
                repeat=repeat,
                m=m,
                t=t,
                data_bytes=data_bytes,
                blocks=blocks,
            )
        except ValueError as exc:
            raise CommitmentFormatError(f"commitment parameters: {exc}") from exc
        pool = band_size(shortest, longest)
        sizes = (SALT_BYTES, CHECK_BYTES, -(-pool // 8), -(-params.code_bits // 8))
        if len(data) != (want := _HEADER.size + sum(sizes)):
            state = "truncated" if len(data) < want else "has trailing bytes"
            raise CommitmentFormatError(f"commitment {state}: {len(data)} bytes, want {want}")
        cut = itertools.accumulate((_HEADER.size, *sizes))
        salt, check, mask, helper = (data[a:b] for a, b in itertools.pairwise(cut))
        try:
            return cls(
                params=params,
                texture_level=-level * LEVEL_STEP,
                salt=salt,
                check=check,
                mask=_unpack(mask, pool, "mask").astype(np.bool_),
                helper=_unpack(helper, params.code_bits, "helper data"),
            )
        except ValueError as exc:
            raise CommitmentFormatError(f"commitment: {exc}") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """Whether a probe opened a commitment; if so, the key, how many outer bits the BCH
    decoder corrected (over all blocks), and which committed bits (K,) the probe read
    otherwise than the recovered code."""

    opened: bool
    key: bytes | None = field(default=None, repr=False)
    corrected: int | None = None
    flipped: NDArray[np.bool_] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.flipped is not None:
            self.flipped.flags.writeable = False


def commit(
    code: Enrolled,
    params: CommitmentParams = CommitmentParams(),
    *,
    level: float,
    secret: bytes | None = None,
    salt: bytes | None = None,
) -> tuple[Commitment, bytes]:
    """Commit to ``code`` (from `code.enrol`) and the enrolment's texture ``level``
    (`texture.enrolled_level`); the commitment and its key.

    ``secret`` and ``salt`` are fresh random bytes unless given (tests only). Raises
    ``ValueError`` if the code is not the band's length, the band is too short, or the
    level is not on the stored grid.
    """
    pool = band_size(params.shortest_px, params.longest_px)
    if code.signs.shape != (pool,):
        raise ValueError(f"code has {code.signs.size} values, the band {pool}")
    if params.code_bits > pool:
        raise ValueError(f"{params.code_bits} bits to commit, the band holds {pool}")
    secret = secrets.token_bytes(params.secret_bytes) if secret is None else secret
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    if len(secret) != params.secret_bytes:
        raise ValueError(f"want a {params.secret_bytes}-byte secret, got {len(secret)}")
    mask = code.mask(params.code_bits)
    helper = _codeword(params, secret) ^ code.signs[mask]
    key = _derive_key(secret, salt)
    commitment = Commitment(
        params=params,
        texture_level=level,
        salt=salt,
        check=_check_value(key, salt),
        mask=mask,
        helper=helper,
    )
    return commitment, key


def open_commitment(commitment: Commitment, values: NDArray[np.float32]) -> Opening:
    """Does a probe whose `code.band_values` are ``values`` (P,) open ``commitment``?"""
    p = commitment.params
    if values.shape != commitment.mask.shape:
        raise ValueError(f"want values {commitment.mask.shape}, got {values.shape}")
    votes = np.where(commitment.helper == 1, -1.0, 1.0) * values[commitment.mask]
    received = (outer_sums(p, votes) > 0).astype(np.uint8)
    decoded = [p.bch.decode(received[b :: p.blocks]) for b in range(p.blocks)]
    if any(d is None for d in decoded):
        return Opening(opened=False)
    secret = b"".join(d[0] for d in decoded if d is not None)
    key = _derive_key(secret, commitment.salt)
    if not hmac.compare_digest(_check_value(key, commitment.salt), commitment.check):
        return Opening(opened=False)
    recovered = _codeword(p, secret) ^ commitment.helper
    return Opening(
        opened=True,
        key=key,
        corrected=sum(d[1] for d in decoded if d is not None),
        flipped=(values[commitment.mask] > 0) != recovered.astype(np.bool_),
    )


def commit_to(
    windows: Sequence[Framed], params: CommitmentParams = CommitmentParams()
) -> tuple[Commitment, bytes]:
    """Commit to an item from its enrolment captures' windows, cut at the refined frame."""
    band = (params.shortest_px, params.longest_px)
    code = enrol([band_values(w.patch, *band) for w in windows])
    level = enrolled_level([texture_level(w.patch, w.contrast) for w in windows])
    return commit(code, params, level=level)


def open_with(commitment: Commitment, patch: NDArray[np.uint8]) -> Opening:
    """Does this capture's window (S, S) uint8 open ``commitment``?"""
    p = commitment.params
    return open_commitment(commitment, band_values(patch, p.shortest_px, p.longest_px))


def outer_sums(params: CommitmentParams, votes: NDArray[np.floating]) -> NDArray[np.float64]:
    """Each outer bit's soft value (outer_bits,): the sum of the votes (K,) of its copies."""
    sums = np.zeros(params.outer_bits)
    np.add.at(sums, _outer_index(params), votes)
    return sums


def _codeword(params: CommitmentParams, secret: bytes) -> NDArray[np.uint8]:
    """The committed codeword (K,) 0/1 of ``secret``: BCH blocks interleaved, repeated."""
    outer = np.zeros(params.outer_bits, np.uint8)
    size = params.data_bytes
    for b in range(params.blocks):
        outer[b :: params.blocks] = params.bch.encode(secret[b * size : (b + 1) * size])
    return outer[_outer_index(params)]


def _outer_index(params: CommitmentParams) -> NDArray[np.intp]:
    """For each committed bit (K,), the outer bit it repeats."""
    return np.arange(params.code_bits) % params.outer_bits


def _unpack(data: bytes, bits: int, name: str) -> NDArray[np.uint8]:
    unpacked = np.unpackbits(np.frombuffer(data, np.uint8))
    if unpacked[bits:].any():
        raise ValueError(f"{name} has padding bits set")
    return np.asarray(unpacked[:bits], np.uint8)


def _derive_key(secret: bytes, salt: bytes) -> bytes:
    return hashlib.blake2b(secret, digest_size=32, salt=salt, person=_KEY_PERSON).digest()


def _check_value(key: bytes, salt: bytes) -> bytes:
    return hashlib.blake2b(key + salt, digest_size=CHECK_BYTES, person=_CHECK_PERSON).digest()
