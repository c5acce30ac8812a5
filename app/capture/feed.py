"""``FrameFeed``: frames from any ``FrameSource`` to the UI thread, as Qt signals."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from app.capture.errors import CaptureError, FrameRejected, StreamEnded
from app.capture.source import Frame, FrameSource

log = logging.getLogger(__name__)


class _WorkerSignals(QObject):
    """What one run's worker thread emits. A child of the application, not of the feed,
    so it outlives a feed deleted with its parent while the worker finishes (the queued
    calls to the deleted feed are dropped instead of failing in the worker); the worker
    ends by `deleteLater`, so it is destroyed on the UI thread it lives on, never on the
    worker (app/ui/ui_thread_gc.py says why that matters)."""

    arrived = Signal()
    failed = Signal(object)
    ended = Signal()


class FrameFeed(QObject):
    """Reads a source on a worker thread and emits its frames on the UI thread.

    ``frame`` carries a ``Frame``; ``failed`` an error (a ``FrameRejected`` while reading
    goes on, anything else just before the end); ``finished`` comes last, once the source
    has ended or been stopped and is closed. With ``drop_stale`` (a live view), a frame
    the UI has not taken yet is replaced by a newer one, so the view never lags; without
    it (a folder to import, photos from the phone) the worker waits for the UI to take
    each frame, and none is lost. With ``paced`` (a video file played as a camera) the
    worker waits until the UI calls `ack`, e.g. when it has analysed the frame, so a
    file is read as fast as it is used and nothing piles up.

    The source is opened by ``start`` on the calling thread, so a missing device raises
    there; it is read and closed on the worker. Stop the feed and let ``finished``
    arrive (or ``wait``) before deleting it.
    """

    frame = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(
        self,
        source: FrameSource,
        *,
        drop_stale: bool = True,
        paced: bool = False,
        poll_interval: float = 0.1,
        parent: QObject | None = None,
    ) -> None:
        """``poll_interval`` bounds how long ``stop`` takes to be noticed, in seconds."""
        super().__init__(parent)
        self._source = source
        self._drop_stale = drop_stale and not paced
        self._paced = paced
        self._poll_interval = poll_interval
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._dropped = 0
        self._consumed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """From ``start`` until just before ``finished`` is emitted."""
        return self._thread is not None

    @property
    def dropped(self) -> int:
        """Frames replaced by newer ones before the UI took them (``drop_stale`` only)."""
        with self._lock:
            return self._dropped

    def start(self) -> None:
        """Open the source here and start reading it on a worker thread.

        Raises the source's ``CaptureError`` (e.g. ``SourceNotFound``) from ``open``.
        """
        if self._thread is not None:
            raise RuntimeError("FrameFeed is already running")
        self._source.open()
        self._stop.clear()
        worker = _WorkerSignals(QCoreApplication.instance())
        worker.arrived.connect(self._deliver)
        worker.failed.connect(self._report)
        worker.ended.connect(self._on_worker_ended)
        self._thread = threading.Thread(
            target=self._run, args=(worker,), name=f"feed {self._source.describe()}", daemon=True
        )
        self._thread.start()

    @property
    def paced(self) -> bool:
        """Whether the worker waits for `ack` after each frame."""
        return self._paced

    def ack(self) -> None:
        """Let a ``paced`` feed read the next frame (no effect otherwise)."""
        if self._paced:
            self._consumed.set()

    def stop(self) -> None:
        """Ask the worker to stop; ``finished`` follows within about ``poll_interval``."""
        self._stop.set()

    def wait(self, timeout: float) -> bool:
        """Block until the worker has ended (for shutdown); ``True`` if it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _run(self, worker: _WorkerSignals) -> None:
        try:
            try:
                self._read_until_stopped(worker)
            finally:
                self._source.close()
        except Exception as exc:  # the worker boundary: every error reaches the UI thread
            if not isinstance(exc, CaptureError):
                log.exception("reading %s failed", self._source.describe())
            worker.failed.emit(exc)
        finally:
            worker.ended.emit()
            worker.deleteLater()

    def _read_until_stopped(self, worker: _WorkerSignals) -> None:
        while not self._stop.is_set():
            try:
                frame = self._source.read(self._poll_interval)
            except StreamEnded:
                return
            except FrameRejected as exc:
                worker.failed.emit(exc)
                continue
            if frame is not None:
                self._post(frame, worker)

    def _post(self, frame: Frame, worker: _WorkerSignals) -> None:
        """Hand ``frame`` to the UI thread, notifying it only if it has nothing pending."""
        with self._lock:
            notify = self._latest is None
            if not notify:
                self._dropped += 1
            self._latest = frame
            self._consumed.clear()
        if notify:
            worker.arrived.emit()
        if not self._drop_stale:
            while not self._consumed.wait(self._poll_interval):
                if self._stop.is_set():
                    return

    @Slot()
    def _deliver(self) -> None:
        with self._lock:
            frame, self._latest = self._latest, None
        if not self._paced:
            self._consumed.set()
        if frame is not None:
            self.frame.emit(frame)

    @Slot(object)
    def _report(self, error: Exception) -> None:
        self.failed.emit(error)

    @Slot()
    def _on_worker_ended(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.finished.emit()
