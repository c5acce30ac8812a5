"""Code-offset fuzzy commitment to an item's surface code, and its byte format.

Enrolment (Juels and Wattenberg 1999 [1]_; a fuzzy extractor in the sense of Dodis
et al. 2004 [2]_): the ``K`` most reliable bits ``w`` of the item's code are chosen
(``mask``); a random secret ``s`` is encoded as BCH codewords ``c``; the helper data
is ``δ = c ⊕ w``; the key is ``BLAKE2b(s; salt, person)`` and the commitment stores
only ``H(key ‖ salt)``. Opening: read a probe's bits ``w'`` at the mask, decode
``w' ⊕ δ = c ⊕ (w ⊕ w')`` back to ``s`` when at most ``t`` bits of a block differ,
re-derive the key and compare hashes. Nothing in the commitment is the code itself;
what the mask and helper data do reveal is measured in docs/commitment.md.

Codewords are interleaved: bit ``i`` of the selected code belongs to block ``i mod B``,
so each block draws bits from every frequency band.

Byte layout (little-endian), format version 1::

    magic b"HMFC"                 4 bytes
    version                       u16
    pool bits P                   u16  (a multiple of 64)
    BCH m, t, blocks B            u8, u8, u8
    salt                          16 bytes
    check H(key ‖ salt)           32 bytes (BLAKE2b-256)
    mask                          P / 8 bytes, exactly K = B · block bits set
    helper data δ                 ceil(K / 8) bytes, padding bits zero

Nothing else follows. The SHA-256 of the bytes is the hash on the ledger.

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

from fingerprint.bitcode import MAX_BITS, WORD_BITS, BitCode
from fingerprint.commitment.bch import BchCode
from fingerprint.commitment.code import enrolled_code, probe_bits, selected_bits
from fingerprint.commitment.errors import CommitmentFormatError

MAGIC = b"HMFC"
VERSION = 1
SCHEME = "commitment"
"""`ProductRecord.scheme` of items registered by commitment."""
SALT_BYTES = 16
CHECK_BYTES = 32
_KEY_PERSON = b"hallmark.fc.key"
_CHECK_PERSON = b"hallmark.fc.chk"
_HEADER = struct.Struct("<4sHHBBB")


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitmentParams:
    """Code length and error correction.

    ``pool_bits`` spectral bits are read; ``blocks`` BCH codewords over GF(2^``m``)
    correcting ``t`` errors each cover the most reliable ``code_bits`` of them. The
    default (2 × BCH(508, 136), t = 54: 1,016 bits, 10.6% correctable per block, a
    272-bit secret) was chosen with `hallmark commit eval` (docs/commitment.md).
    """

    pool_bits: int = 2048
    m: int = 9
    t: int = 54
    blocks: int = 2

    def __post_init__(self) -> None:
        if not (
            isinstance(self.pool_bits, int)
            and self.pool_bits % WORD_BITS == 0
            and WORD_BITS <= self.pool_bits <= MAX_BITS
        ):
            raise ValueError(
                f"pool_bits must be a multiple of {WORD_BITS} in {WORD_BITS}..{MAX_BITS}, "
                f"got {self.pool_bits!r}"
            )
        if not (isinstance(self.blocks, int) and self.blocks >= 1):
            raise ValueError(f"blocks must be a positive integer, got {self.blocks!r}")
        if self.code_bits > self.pool_bits:
            raise ValueError(
                f"{self.blocks} blocks of {self.bch.block_bits} bits need {self.code_bits} "
                f"bits, more than the pool's {self.pool_bits}"
            )

    @property
    def bch(self) -> BchCode:
        return BchCode(self.m, self.t)

    @property
    def code_bits(self) -> int:
        """Bits committed to (the mask's weight)."""
        return self.blocks * self.bch.block_bits

    @property
    def secret_bytes(self) -> int:
        return self.blocks * self.bch.data_bytes


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Commitment:
    """What the ledger holds instead of a template (compare by `to_bytes`).

    ``mask``: (pool_bits // 8,) uint8, packed; ``helper``: (ceil(code_bits / 8),)
    uint8, packed; ``check``: H(key ‖ salt).
    """

    params: CommitmentParams
    salt: bytes = field(repr=False)
    check: bytes = field(repr=False)
    mask: NDArray[np.uint8] = field(repr=False)
    helper: NDArray[np.uint8] = field(repr=False)

    def __post_init__(self) -> None:
        p = self.params
        if len(self.salt) != SALT_BYTES or len(self.check) != CHECK_BYTES:
            raise ValueError(
                f"want a {SALT_BYTES}-byte salt and {CHECK_BYTES}-byte check, "
                f"got {len(self.salt)} and {len(self.check)}"
            )
        if self.mask.dtype != np.uint8 or self.mask.shape != (p.pool_bits // 8,):
            raise ValueError(f"want mask ({p.pool_bits // 8},) uint8, got {self.mask.shape}")
        if (weight := int(np.unpackbits(self.mask).sum())) != p.code_bits:
            raise ValueError(f"mask selects {weight} bits, want {p.code_bits}")
        want = (-(-p.code_bits // 8),)
        if self.helper.dtype != np.uint8 or self.helper.shape != want:
            raise ValueError(f"want helper data {want} uint8, got {self.helper.shape}")
        if np.unpackbits(self.helper)[p.code_bits :].any():
            raise ValueError("helper data has padding bits set")
        self.mask.flags.writeable = False
        self.helper.flags.writeable = False

    def to_bytes(self) -> bytes:
        p = self.params
        header = _HEADER.pack(MAGIC, VERSION, p.pool_bits, p.m, p.t, p.blocks)
        return b"".join((header, self.salt, self.check, self.mask.tobytes(), self.helper.tobytes()))

    def digest(self) -> str:
        """SHA-256 of the commitment bytes, lower-case hex."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes) -> Commitment:
        """Decode commitment bytes; raise `CommitmentFormatError` naming what is wrong."""
        if len(data) < _HEADER.size or data[:4] != MAGIC:
            raise CommitmentFormatError(
                f"not a Hallmark commitment: starts {data[:4]!r}, want {MAGIC!r}"
            )
        _, version, pool_bits, m, t, blocks = _HEADER.unpack_from(data)
        if version != VERSION:
            raise CommitmentFormatError(
                f"commitment format version {version}, this reads {VERSION}"
            )
        try:
            params = CommitmentParams(pool_bits=pool_bits, m=m, t=t, blocks=blocks)
        except ValueError as exc:
            raise CommitmentFormatError(f"commitment parameters: {exc}") from exc
        sizes = (SALT_BYTES, CHECK_BYTES, pool_bits // 8, -(-params.code_bits // 8))
        if len(data) != (want := _HEADER.size + sum(sizes)):
            state = "truncated" if len(data) < want else "has trailing bytes"
            raise CommitmentFormatError(f"commitment {state}: {len(data)} bytes, want {want}")
        cut = itertools.accumulate((_HEADER.size, *sizes))
        salt, check, mask, helper = (data[a:b] for a, b in itertools.pairwise(cut))
        try:
            return cls(
                params=params,
                salt=salt,
                check=check,
                mask=np.frombuffer(mask, np.uint8).copy(),
                helper=np.frombuffer(helper, np.uint8).copy(),
            )
        except ValueError as exc:
            raise CommitmentFormatError(f"commitment: {exc}") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """Whether a probe opened a commitment; if so, the key, the alignment hypothesis
    (a row of `code.probe_bits`) and how many bits the BCH decoder corrected."""

    opened: bool
    key: bytes | None = field(default=None, repr=False)
    hypothesis: int | None = None
    corrected: int | None = None


def commit(
    code: BitCode,
    params: CommitmentParams = CommitmentParams(),
    *,
    secret: bytes | None = None,
    salt: bytes | None = None,
) -> tuple[Commitment, bytes]:
    """Commit to ``code`` (at least ``params.pool_bits`` long); the commitment and its key.

    ``secret`` and ``salt`` are fresh random bytes unless given (tests only).
    """
    if code.n_bits != params.pool_bits:
        raise ValueError(f"code has {code.n_bits} bits, params want {params.pool_bits}")
    secret = secrets.token_bytes(params.secret_bytes) if secret is None else secret
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    if len(secret) != params.secret_bytes:
        raise ValueError(f"want a {params.secret_bytes}-byte secret, got {len(secret)}")
    mask = code.mask(params.code_bits)
    codeword = np.zeros(params.code_bits, np.uint8)
    size = params.bch.data_bytes
    for b in range(params.blocks):
        codeword[b :: params.blocks] = params.bch.encode(secret[b * size : (b + 1) * size])
    helper = np.packbits(codeword ^ selected_bits(code, mask))
    key = _derive_key(secret, salt)
    commitment = Commitment(
        params=params, salt=salt, check=_check_value(key, salt), mask=mask, helper=helper
    )
    return commitment, key


def open_commitment(commitment: Commitment, candidates: NDArray[np.uint8]) -> Opening:
    """Try each row of ``candidates`` (H, code_bits) 0/1 until one opens the commitment."""
    p = commitment.params
    if candidates.ndim != 2 or candidates.shape[1] != p.code_bits:
        raise ValueError(f"want candidates (H, {p.code_bits}), got {candidates.shape}")
    offset = np.unpackbits(commitment.helper)[: p.code_bits]
    for row, bits in enumerate(candidates):
        received = bits ^ offset
        decoded = [p.bch.decode(received[b :: p.blocks]) for b in range(p.blocks)]
        if any(d is None for d in decoded):
            continue
        secret = b"".join(d[0] for d in decoded if d is not None)
        key = _derive_key(secret, commitment.salt)
        if hmac.compare_digest(_check_value(key, commitment.salt), commitment.check):
            corrected = sum(d[1] for d in decoded if d is not None)
            return Opening(opened=True, key=key, hypothesis=row, corrected=corrected)
    return Opening(opened=False)


def commit_to(
    residuals: Sequence[NDArray[np.int8]], params: CommitmentParams = CommitmentParams()
) -> tuple[Commitment, bytes]:
    """Commit to an item from the residuals (S, S) int8 of its enrolment captures."""
    return commit(enrolled_code(residuals, params.pool_bits), params)


def open_with(commitment: Commitment, residual: NDArray[np.int8]) -> Opening:
    """Does this capture's residual (S, S) int8 open ``commitment``?"""
    return open_commitment(commitment, probe_bits(residual, commitment.mask))


def _derive_key(secret: bytes, salt: bytes) -> bytes:
    return hashlib.blake2b(secret, digest_size=32, salt=salt, person=_KEY_PERSON).digest()


def _check_value(key: bytes, salt: bytes) -> bytes:
    return hashlib.blake2b(key + salt, digest_size=CHECK_BYTES, person=_CHECK_PERSON).digest()
