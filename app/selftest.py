"""``hallmark selftest``: check that this installation fingerprints and matches at full speed.

Run after installing and by ``packaging/ci.sh`` on the frozen bundle. It raises
:class:`SelfTestError` (the command prints it and exits 1) when

- Numba's JIT is off (``NUMBA_DISABLE_JIT``), or a public function of
  ``fingerprint._kernels`` is not a Numba dispatcher: the engine would run as plain
  Python, about a hundred times slower (pyside6-deploy/Nuitka does this silently);
- after the sample run, a kernel has no nopython machine code;
- the bundled sample (``resources/sample/``, written by ``packaging/make_sample.py``)
  does not come out *genuine* for a new capture of the enrolled item and *counterfeit*
  for another item printed with the same serial.

Its first run compiles the kernels into Numba's on-disk cache, so it doubles as the
warm-up (the main window runs it in the thread pool at start); the report says whether
each kernel was loaded from the cache or compiled, and where the cache is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "resources" / "sample"
"""The sample captures: ``resources/`` beside the ``app`` package (also in the bundle)."""
REFERENCE = "reference.jpg"
SAME_ITEM = "same-item.jpg"
COPIED_SERIAL = "copied-serial.jpg"


class SelfTestError(Exception):
    """The installation cannot fingerprint correctly or at full speed; says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelState:
    """One Numba kernel after the run: compiled signatures and where they came from."""

    name: str
    signatures: int
    cache_hits: int
    cache_misses: int
    cache_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfTestReport:
    """A passed self-test: kernel states, the sample's two scores and the time taken."""

    kernels: tuple[KernelState, ...]
    genuine_score: float
    counterfeit_score: float
    seconds: float


def kernels() -> dict[str, Any]:
    """The public functions of ``fingerprint._kernels``, by name."""
    from fingerprint import _kernels

    return {
        name: obj
        for name, obj in vars(_kernels).items()
        if not name.startswith("_")
        and callable(obj)
        and getattr(obj, "__module__", None) == _kernels.__name__
    }


def check_jit(found: dict[str, Any]) -> None:
    """Raise unless Numba's JIT is on and every function in ``found`` is a dispatcher."""
    from numba import config
    from numba.core.dispatcher import Dispatcher

    if config.DISABLE_JIT:  # type: ignore[attr-defined]  # read from the environment
        raise SelfTestError(
            "Numba's JIT is disabled (NUMBA_DISABLE_JIT is set): kernels would run as "
            "plain Python; unset it"
        )
    if not found:
        raise SelfTestError("fingerprint._kernels defines no kernels: the bundle is broken")
    plain = sorted(name for name, obj in found.items() if not isinstance(obj, Dispatcher))
    if plain:
        raise SelfTestError(
            f"kernels not compiled by Numba, would run as plain Python: {', '.join(plain)}"
        )


def kernel_states(found: dict[str, Any]) -> tuple[KernelState, ...]:
    """State of each dispatcher; raise if one has no nopython signature yet."""
    states = []
    for name, dispatcher in found.items():
        if not dispatcher.nopython_signatures:
            raise SelfTestError(
                f"kernel {name} has no nopython machine code after the sample run "
                f"(signatures: {dispatcher.signatures or 'none'})"
            )
        stats = dispatcher.stats
        states.append(
            KernelState(
                name=name,
                signatures=len(dispatcher.nopython_signatures),
                cache_hits=sum(stats.cache_hits.values()),
                cache_misses=sum(stats.cache_misses.values()),
                cache_path=str(stats.cache_path),
            )
        )
    return tuple(states)


def run(sample_dir: Path = SAMPLE_DIR) -> SelfTestReport:
    """Check the JIT, fingerprint and match the sample, check the kernels' code."""
    start = time.perf_counter()
    found = kernels()
    check_jit(found)

    import fingerprint

    paths = [sample_dir / name for name in (REFERENCE, SAME_ITEM, COPIED_SERIAL)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SelfTestError(f"sample captures missing: {', '.join(missing)}")
    reference, same_item, copied_serial = (fingerprint.extract(p) for p in paths)
    enrolled = fingerprint.Template.from_bytes(reference.to_bytes())
    if enrolled.to_bytes() != reference.to_bytes():
        raise SelfTestError("template bytes changed in a round trip through the codec")
    genuine = fingerprint.match(enrolled, same_item)
    copy = fingerprint.match(enrolled, copied_serial)
    for verdict, want, what in (
        (genuine, fingerprint.Decision.GENUINE, "a new capture of the enrolled item"),
        (copy, fingerprint.Decision.COUNTERFEIT, "another item with the same serial"),
    ):
        if verdict.decision is not want:
            raise SelfTestError(
                f"sample: {what} came out {verdict.decision.value} "
                f"(score {verdict.score:+.2f}), want {want.value}"
            )
    return SelfTestReport(
        kernels=kernel_states(found),
        genuine_score=genuine.score,
        counterfeit_score=copy.score,
        seconds=time.perf_counter() - start,
    )


def describe(report: SelfTestReport) -> str:
    """The report as lines for a terminal."""
    from numba import __version__ as numba_version

    lines = [
        f"self-test passed in {report.seconds:.1f} s",
        f"sample: same item genuine (score {report.genuine_score:+.2f}), "
        f"copied serial counterfeit (score {report.counterfeit_score:+.2f})",
        f"kernels (Numba {numba_version}, nopython):",
    ]
    for k in report.kernels:
        source = "loaded from cache" if k.cache_misses == 0 else "compiled and cached"
        lines.append(f"  {k.name:<22} {k.signatures} signature(s), {source}")
    lines.extend(f"cache: {path}" for path in sorted({k.cache_path for k in report.kernels}))
    return "\n".join(lines)
