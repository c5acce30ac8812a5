"""Every tunable number of the commitment scheme, each with the run that set it.

Development set (never the set the figures in docs/commitment.md come from)::

    hallmark synth runs/issue8/train300 --items 6 --captures 8 --seed 300

compared by exploratory runs on its cached windows (docs/commitment.md, "How the
parameters were chosen"), then checked with ``hallmark commit eval runs/issue8/train300``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fingerprint.commitment.bch import BchCode

PATCH_SIZE = 256
"""Side of the window the code is read from, px (22 code modules: 11.6 px per module)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameParams:
    """Refining the code's frame to a fraction of a pixel (`fingerprint.commitment.frame`)."""

    px_per_module: int = 8  # the drawn symbol's scale (captures: 5.6–11 px per module)
    quiet_modules: int = 2  # white margin rendered around the symbol (GS1: at least 1)
    iterations: int = 100
    # ECC coefficient: every train300 capture reached 0.987 or more; started half a module
    # or more off (10 captures), ECC stopped in a wrong place at 0.72–0.92
    min_correlation: float = 0.95
    # refined window corners vs zxing's estimate: train300 at most 1.56 (99% within 0.96)
    max_shift_modules: float = 3.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitmentParams:
    """The code and its error correction; all of it is written into the commitment.

    The code is the signs of the real and imaginary parts of the window's DFT at
    wavelengths ``shortest_px`` … ``longest_px`` (of the 256-px window). Each outer bit is
    repeated ``repeat`` times (soft-decision majority), and the outer bits form ``blocks``
    BCH codewords over GF(2^``m``), each ``data_bytes`` of secret and correcting ``t``
    errors. Defaults (train300): 7–16 px, the band a twin from the same mould does not
    share (it keeps structure coarser than 17 px) and a 5.6-px-per-module capture still
    resolves; 3 × 2 × BCH(232, 64), t = 26 (11.2%): 1,392 committed bits, a 128-bit
    secret. On train300 the genuine probes' outer bits were at most 8.2% wrong (5.8% from
    three enrolment captures), twins' at least 21.1%, other items' about 50%.
    """

    shortest_px: int = 7
    longest_px: int = 16
    repeat: int = 3
    m: int = 8
    t: int = 26
    data_bytes: int = 8
    blocks: int = 2

    def __post_init__(self) -> None:
        for name in ("shortest_px", "longest_px", "repeat", "blocks"):
            value = getattr(self, name)
            if not (isinstance(value, int) and 1 <= value <= 255):
                raise ValueError(f"{name} must be an integer in 1..255, got {value!r}")
        if not 2 <= self.shortest_px < self.longest_px <= PATCH_SIZE // 2:
            raise ValueError(
                f"want 2 ≤ shortest_px < longest_px ≤ {PATCH_SIZE // 2}, "
                f"got {self.shortest_px} and {self.longest_px}"
            )
        self.bch  # noqa: B018 - validates m, t and data_bytes

    @property
    def bch(self) -> BchCode:
        return BchCode(self.m, self.t, self.data_bytes)

    @property
    def outer_bits(self) -> int:
        """Bits of the BCH codewords (each one read ``repeat`` times)."""
        return self.blocks * self.bch.block_bits

    @property
    def code_bits(self) -> int:
        """Bits committed to (the mask's weight)."""
        return self.repeat * self.outer_bits

    @property
    def secret_bytes(self) -> int:
        return self.blocks * self.data_bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyParams:
    """The print-copy check on a capture that opened a commitment
    (`fingerprint.commitment.copy_evidence`).

    ``coarse_px``: the part of the code's band whose sign flips are counted and whose
    texture level the commitment stores (every usable capture resolves it; a twin does
    not reach it); ``screen_px``: where a copier's halftone screen is looked for.
    The score is ``bias + weights · CopyEvidence.features``; at or above ``genuine_at``
    the capture is genuine, below ``counterfeit_below`` a copy, in between a retake.
    """

    # Bands chosen on runs/issue2/train20 (seed 100) by exploratory scripts: sign flips at
    # 12–16 px, genuine at most 1.1% of the committed coefficients there (paper 9%, a
    # faint texture), print copies that opened at least 1.2% (paper 11%); flips in finer
    # parts of the band mixed copies with blurred genuine captures. Screen peaks 4.5–9 px:
    # genuine captures of every material but PRINT at most 14, copies mostly 15–80.
    coarse_px: tuple[float, float] = (12.0, 16.0)
    screen_px: tuple[float, float] = (4.5, 9.0)
    # Fitted by `hallmark synth runs/issue2/train20 --items 20 --captures 5
    # --print-copies 10 --seed 100 && hallmark commit eval runs/issue2/train20 --enrol 2,3
    # --fit` (2026-12-07; 583 genuine probes and 1,637 print copies that opened, over
    # both enrolment counts); thresholds in the training gap (lowest genuine +1.48,
    # highest copy −0.06). Order: flip log-odds, log screen peak, enrolled level.
    weights: tuple[float, ...] = (-2.3339, -2.0473, -3.4599)
    bias: float = -17.2023
    genuine_at: float = 0.7093
    counterfeit_below: float = -0.0602

    def __post_init__(self) -> None:
        for name in ("coarse_px", "screen_px"):
            lo, hi = getattr(self, name)
            if not 2 <= lo < hi <= PATCH_SIZE / 2:
                raise ValueError(
                    f"{name}: want 2 ≤ shortest < longest ≤ {PATCH_SIZE // 2}, got {lo}, {hi}"
                )
        if len(self.weights) != 3:
            raise ValueError(f"want 3 weights (CopyEvidence.features), got {len(self.weights)}")
        if not self.counterfeit_below <= self.genuine_at:
            raise ValueError(
                f"want counterfeit_below ≤ genuine_at, "
                f"got {self.counterfeit_below} > {self.genuine_at}"
            )
