"""``hallmark identify``: which registered item is this surface, with no serial to go by?

1. The probe is fingerprinted as for verification. Its window is located by the printed
   code when one is readable, whatever serial it carries (unknown, destroyed, copied);
   without a code the whole image is the window.
2. Its bit code is searched in an index of every registered item's code
   (`fingerprint.identify.Index`), built from the registry (`registry_client.catalog`)
   and kept in a file that names what it was built from; a ledger that grew since is
   brought up to date from the index's size on. A registry server cannot be walked from
   here: its own index is asked instead (`ServerIndex`, ``POST /identify``), sent the
   codes only.
3. Each candidate is looked up through the registry (every signature, proof and the
   template hash checked, `Registry.lookup`) and matched with the full matcher; the
   best verdict decides. The index, local or the server's, only proposes: it is never
   evidence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import fingerprint
from fingerprint import Template
from fingerprint.identify import (
    Candidate,
    Index,
    IndexFormatError,
    Method,
    Ranked,
    enrolled_code,
    query_for,
    rerank,
)
from fingerprint.image import ImageInput
from fingerprint.template import SCHEME as TEMPLATE_SCHEME
from registry_client.catalog import NotWalkableError, enrolled, resume_at, source_of
from registry_client.client import HttpRegistry
from registry_client.item import ItemId
from registry_client.registry import Registry, VerifiedRecord

N_BITS = 256
"""Code length of the index (`fingerprint.bitcode`)."""


class Outcome(enum.StrEnum):
    """What identification concluded; `exit_code` is the CLI's status for it."""

    IDENTIFIED = "identified"
    RETAKE = "retake"
    NOT_FOUND = "not found"

    @property
    def exit_code(self) -> int:
        """0 identified, 4 retake, 5 not found (as ``hallmark verify``'s not registered)."""
        return {"identified": 0, "retake": 4, "not found": 5}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class Identified:
    """A candidate re-ranked by the full matcher, with its proven record."""

    ranked: Ranked
    proven: VerifiedRecord


@dataclass(frozen=True, slots=True)
class ServerIndex:
    """A registry server's index, searched over HTTP; its answers are only proposals."""

    registry: HttpRegistry
    n_bits: int = N_BITS

    def search(
        self, codes: NDArray[np.uint8], k: int, radius: int, method: Method
    ) -> tuple[Candidate, ...]:
        """The server's nearest items; it picks the radius and method by the number of
        codes as `query_for` does, so ``radius`` and ``method`` are not sent."""
        found = self.registry.identify(
            [row.tobytes() for row in codes.reshape(-1, codes.shape[-1])], k
        )
        return tuple(
            Candidate(label=c.item.format(), template_sha256=c.template_sha256, distance=c.distance)
            for c in found
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Identification:
    """The outcome, the best candidates (best first) and what the search saw.

    ``located_by_code`` tells whether the probe's window came from a printed code;
    ``index_size`` is None when the registry server searched its own index.
    """

    outcome: Outcome
    candidates: tuple[Identified, ...]
    located_by_code: bool
    index_size: int | None

    @property
    def best(self) -> Identified | None:
        return self.candidates[0] if self.candidates else None


def identify(
    image: ImageInput, *, registry: Registry, index: Index | ServerIndex, k: int = 5
) -> Identification:
    """Identify ``image`` among the items of ``index``, verifying candidates in ``registry``."""
    probe = fingerprint.extract(image)
    query = query_for(probe, index.n_bits)
    proven: dict[str, VerifiedRecord] = {}

    def ranked_top(count: int) -> tuple[Ranked, ...]:
        found = index.search(query.codes, k=count, radius=query.radius, method=query.method)
        for c in found:
            proven[c.label] = proven.get(c.label) or _proven(registry, c)
        return rerank(probe, found, lambda c: Template.from_bytes(proven[c.label].template))

    # The nearest code alone first: multi-index hashing stops as soon as it is proven
    # (0.5 ms at a million codes, against 14 ms for five: docs/identify.md). More
    # candidates are fetched only if it is not a genuine match.
    ranked = ranked_top(1)
    if k > 1 and not (ranked and ranked[0].match.decision is fingerprint.Decision.GENUINE):
        ranked = ranked_top(k)
    candidates = tuple(Identified(ranked=r, proven=proven[r.candidate.label]) for r in ranked)
    return Identification(
        outcome=_outcome(candidates),
        candidates=candidates,
        located_by_code=probe.located_by_code,
        index_size=len(index) if isinstance(index, Index) else None,
    )


def build_index(registry: Registry, previous: Index | None = None) -> Index:
    """An index of every item ``registry`` holds now.

    ``previous``, an index of an earlier checkpoint of the same ledger, is extended
    with the entries appended since; otherwise the registry is walked whole.
    """
    start = resume_at(registry, previous.source) if previous is not None else 0
    index = previous if previous is not None and start else Index(N_BITS)
    for item in enrolled(registry, start, scheme=TEMPLATE_SCHEME):
        code = enrolled_code(item.template, index.n_bits)
        if code is not None:
            index.add(code, item.item.format(), item.template_sha256)
    index.source = source_of(registry)
    return index


def index_of(registry: Registry, path: Path) -> Index | ServerIndex:
    """`cached_index` of ``registry``, or the server's index if it is a registry server."""
    try:
        return cached_index(registry, path)
    except NotWalkableError:
        if isinstance(registry, HttpRegistry):
            return ServerIndex(registry)
        raise


def cached_index(registry: Registry, path: Path) -> Index:
    """The index of ``registry`` kept in the file ``path``: loaded, brought up to date
    (and saved) if the registry changed, built if the file is absent or unreadable."""
    try:
        previous: Index | None = Index.load(path)
    except (FileNotFoundError, IndexFormatError):
        previous = None  # a cache: rebuilt from the registry
    if previous is not None and previous.source == source_of(registry):
        return previous
    index = build_index(registry, previous)
    path.parent.mkdir(parents=True, exist_ok=True)
    index.save(path)
    return index


def _proven(registry: Registry, candidate: Candidate) -> VerifiedRecord:
    """The candidate's record, verified by the registry; its template must be the one
    indexed (else the index, local or the server's, is stale or forged: `IndexFormatError`)."""
    proven = registry.lookup(ItemId.parse(candidate.label))
    if proven.record.template_sha256 != candidate.template_sha256:
        raise IndexFormatError(
            f"index entry {candidate.label} names template {candidate.template_sha256.hex()}, "
            f"the registry {proven.record.template_sha256.hex()}: rebuild the index"
        )
    return proven


def _outcome(candidates: tuple[Identified, ...]) -> Outcome:
    if not candidates:
        return Outcome.NOT_FOUND
    decision = candidates[0].ranked.match.decision
    if decision is fingerprint.Decision.GENUINE:
        return Outcome.IDENTIFIED
    if decision is fingerprint.Decision.RETAKE:
        return Outcome.RETAKE
    return Outcome.NOT_FOUND
