"""Many Ed25519 verifications in one call that runs without the GIL.

PyNaCl releases the GIL for each verification, but takes it back between them, and a
thread waiting for it stalls until the thread holding it gives it up (every 5 ms by
default, `sys.getswitchinterval`): threads verifying one signature at a time beside a
parsing thread end up taking turns with it. Here a Numba loop (``nogil=True``) calls
libsodium's ``crypto_sign_verify_detached`` — the very function PyNaCl's ``verify``
reaches, from the library PyNaCl ships — for a whole chunk, so a pool thread verifies
while the caller's thread parses.

The function's address is passed to the compiled loop as an integer and called
through an LLVM ``inttoptr`` (`_call_verify`), which keeps the loop free of
process-specific globals and so cacheable (``cache=True``).

References
----------
RFC 8032 §5.1.7, Edwards-Curve Digital Signature Algorithm (EdDSA), verification.
libsodium, ``crypto_sign_verify_detached`` (``crypto_sign/ed25519/ref10/open.c``).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Sequence
from typing import Any

import nacl._sodium
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]  # numba's code generator
from numba import njit, types
from numba.extending import intrinsic
from numpy.typing import NDArray

SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32


def verify_many(jobs: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Whether each ``(public_key, message, signature)`` is a valid Ed25519 signature.

    The same answers, job for job, as ``nacl.signing.VerifyKey(public_key).verify(
    message, signature)`` succeeding. Raises ``ValueError`` for a key that is not 32
    bytes or a signature that is not 64.
    """
    public_keys, messages, signatures = zip(*jobs, strict=True) if jobs else ((), (), ())
    wrong_keys = set(map(len, public_keys)) - {PUBLIC_KEY_SIZE}
    if wrong_keys or set(map(len, signatures)) - {SIGNATURE_SIZE}:
        raise ValueError(f"want {PUBLIC_KEY_SIZE}-byte keys and {SIGNATURE_SIZE}-byte signatures")
    keys = {key: n for n, key in enumerate(dict.fromkeys(public_keys))}
    offsets = np.zeros(len(jobs) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, messages), np.int64, len(jobs)), out=offsets[1:])
    verified = np.zeros(len(jobs), np.int32)
    _verify_all(
        _verify_detached_address(),
        np.frombuffer(b"".join(signatures), np.uint8),
        np.frombuffer(b"".join(messages) or b"\0", np.uint8),
        offsets,
        np.frombuffer(b"".join(keys) or b"\0", np.uint8),
        np.fromiter(map(keys.__getitem__, public_keys), np.int64, len(jobs)),
        verified,
    )
    answers: list[bool] = verified.astype(bool).tolist()
    return answers


@functools.cache
def _verify_detached_address() -> int:
    """The address of libsodium's ``crypto_sign_verify_detached`` in PyNaCl's module."""
    library = ctypes.CDLL(nacl._sodium.__file__)
    address = ctypes.cast(library.crypto_sign_verify_detached, ctypes.c_void_p).value
    assert address is not None
    return address


def _type_call_verify(
    typingctx: Any, function: Any, signature: Any, message: Any, length: Any, key: Any
) -> Any:
    """Type ``_call_verify(fn, sig, msg, len, pk) -> int32``, all addresses as intp, and
    lower it to a call of ``int fn(const uint8_t *sig, const uint8_t *m, uint64 mlen,
    const uint8_t *pk)`` through ``inttoptr``."""
    if any(arg != types.intp for arg in (function, signature, message, length, key)):
        return None

    def codegen(context: Any, builder: Any, signature_: Any, args: Any) -> Any:
        address, sig, msg, mlen, pk = args
        byte_ptr = ir.IntType(8).as_pointer()
        arguments = [byte_ptr, byte_ptr, ir.IntType(64), byte_ptr]
        callee_type = ir.FunctionType(ir.IntType(32), arguments)
        callee = builder.inttoptr(address, callee_type.as_pointer())
        pointers = [builder.inttoptr(a, byte_ptr) for a in (sig, msg, pk)]
        return builder.call(callee, [pointers[0], pointers[1], mlen, pointers[2]])

    return types.int32(types.intp, types.intp, types.intp, types.intp, types.intp), codegen


# Assigned rather than decorated: numba's stub types the intrinsic's call as the typer's.
_call_verify: Any = intrinsic(_type_call_verify)


@njit(cache=True, nogil=True)
def _verify_all(
    function: int,
    signatures: NDArray[np.uint8],
    messages: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    keys: NDArray[np.uint8],
    key_of: NDArray[np.int64],
    out: NDArray[np.int32],
) -> None:
    """``out[i] = 1`` where signature ``i`` (64 bytes at ``64 i``) by key ``key_of[i]``
    (32 bytes at ``32 key_of[i]``) covers ``messages[offsets[i]:offsets[i + 1]]``."""
    for i in range(out.size):
        start = offsets[i]
        status = _call_verify(
            function,
            signatures.ctypes.data + SIGNATURE_SIZE * i,
            messages.ctypes.data + start,
            offsets[i + 1] - start,
            keys.ctypes.data + PUBLIC_KEY_SIZE * key_of[i],
        )
        out[i] = status == 0
