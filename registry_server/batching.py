"""The sequencer: concurrent appends collected for a few milliseconds, logged as one batch.

One worker thread owns writing. It takes the first waiting request, gathers more for
``window`` seconds (or until ``max_batch``), admits each (signature, key trust,
duplicate items, including within the batch; the products' signatures together on
a thread pool, their items in one query), appends the admitted ones in one
`Ledger.append` — one checkpoint for the lot — and resolves each request's future with
its leaf index or its own error. A failed append fails every request of that batch.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from registry_client import signatures
from registry_client.embedded import Admission
from registry_client.errors import RegistryError
from registry_client.ledger import NewEntry
from registry_client.records import SignedEnvelope
from registry_client.registry import ITEM, DuplicateItemError
from registry_server.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    envelope: SignedEnvelope
    template: bytes | None  # None: a verification event
    hologram: bytes | None = None  # a product record's hologram template, if it names one
    future: Future[int] = field(default_factory=Future)

    @property
    def admission(self) -> Admission:
        """What `Store.admit_products` takes for this product record."""
        assert self.template is not None
        if self.hologram is None:
            return (self.envelope, self.template)
        return (self.envelope, self.template, self.hologram)


class Sequencer:
    """Batches appends to ``registry`` on one worker thread (see the module docstring)."""

    def __init__(self, registry: Store, *, window: float = 0.005, max_batch: int = 256) -> None:
        self._registry = registry
        self._window = window
        self._max_batch = max_batch
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sequencer", daemon=True)

    def start(self) -> None:
        """Start the worker thread (and get the batch signature kernel ready)."""
        signatures.warm()
        self._thread.start()

    def stop(self) -> None:
        """Finish the requests already queued, then stop the worker."""
        self._jobs.put(None)
        self._thread.join()

    def submit(
        self, envelope: SignedEnvelope, template: bytes | None, hologram: bytes | None = None
    ) -> Future[int]:
        """Queue a product record (with its template and, if it names one, its hologram
        template) or an event (``template=None``)."""
        job = _Job(envelope=envelope, template=template, hologram=hologram)
        self._jobs.put(job)
        return job.future

    def _run(self) -> None:
        while (first := self._jobs.get()) is not None:
            batch, stopping = [first], False
            deadline = time.monotonic() + self._window
            while len(batch) < self._max_batch:
                try:
                    job = self._jobs.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            self._append(batch)
            if stopping:
                return

    def _append(self, batch: list[_Job]) -> None:
        products = [job for job in batch if job.template is not None]
        outcomes: dict[int, NewEntry | RegistryError | ValueError] = {}
        try:
            admitted_products = self._registry.admit_products([job.admission for job in products])
        except Exception as exc:  # the index or a tile failed: every request hears of it
            for job in batch:
                job.future.set_exception(exc)
            return
        outcomes.update(zip(map(id, products), admitted_products, strict=True))
        admitted: list[tuple[_Job, NewEntry]] = []
        for job in batch:
            try:
                if job.template is None:
                    entry = self._registry.admit_event(job.envelope)
                else:
                    outcome = outcomes[id(job)]
                    if isinstance(outcome, Exception):
                        raise outcome
                    entry = outcome
            except (RegistryError, ValueError) as exc:
                job.future.set_exception(exc)
            else:
                admitted.append((job, entry))
        while admitted:
            try:
                leaves = self._registry.append([entry for _, entry in admitted])
            except DuplicateItemError as exc:  # another server process logged it first
                key = (ITEM, exc.item.format())
                kept = [(job, entry) for job, entry in admitted if key not in entry.keys]
                if len(kept) == len(admitted):  # names no item of this batch: fail them all
                    kept = []
                for job, entry in admitted:
                    if key in entry.keys or not kept:
                        job.future.set_exception(exc)
                admitted = kept  # then the rest of the batch, without the item that lost
                continue
            except Exception as exc:  # the one boundary: every waiting request must hear of it
                for job, _ in admitted:
                    job.future.set_exception(exc)
                return
            for (job, _), leaf in zip(admitted, leaves, strict=True):
                job.future.set_result(leaf)
            return
