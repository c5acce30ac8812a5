"""``MjpegUrl`` against a real MJPEG server on 127.0.0.1, and its multipart splitter."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from capture_samples import jpeg, marker, multipart
from hypothesis import assume, given
from hypothesis import strategies as st

from app.capture.errors import SourceFailed, SourceNotFound, StreamEnded, UnreadableImage
from app.capture.mjpeg import MjpegUrl, MultipartSplitter
from app.capture.source import Frame

_STREAMS = {  # path: (Content-Type, body)
    "/video": (
        "multipart/x-mixed-replace; boundary=frame",
        multipart([jpeg(i) for i in range(5)]),
    ),
    # How some IP-webcam apps do it: the boundary declared with its dashes, no lengths,
    # bare LF line ends.
    "/sloppy": (
        "multipart/x-mixed-replace;boundary=--frame",
        multipart([jpeg(i) for i in range(3)], content_length=False, newline=b"\n"),
    ),
    "/unnamed": ("multipart/x-mixed-replace", multipart([jpeg(7), jpeg(8)])),
    "/garbage": (
        "multipart/x-mixed-replace; boundary=frame",
        multipart([jpeg(1), b"not a jpeg", jpeg(2)]),
    ),
}


class _Camera(BaseHTTPRequestHandler):
    """An IP webcam: fixed streams, an endless live stream, snapshots, a stall."""

    shots = itertools.count()
    release_stall = threading.Event()  # cleared and set by the ``stall`` fixture

    def do_GET(self) -> None:
        if self.path in _STREAMS:
            content_type, body = _STREAMS[self.path]
            self._head(200, content_type)
            self.wfile.write(body)
        elif self.path == "/live":
            self._head(200, "multipart/x-mixed-replace; boundary=frame")
            parts = [multipart([jpeg(i)]) for i in range(12)]
            try:
                for part in itertools.cycle(parts):
                    self.wfile.write(part)
            except OSError:  # the client hung up: that is how a live stream ends
                return
        elif self.path == "/shot.jpg":
            self._head(200, "image/jpeg")
            self.wfile.write(jpeg(next(self.shots) % 12))
        elif self.path == "/stall":
            self._head(200, "multipart/x-mixed-replace; boundary=frame")
            self.wfile.flush()
            self.release_stall.wait(timeout=30)
        elif self.path == "/page":
            self._head(200, "text/html")
            self.wfile.write(b"<html>login first</html>")
        else:
            self._head(404, "text/plain")

    def _head(self, status: int, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def camera_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Camera)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-camera"
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _read(source: MjpegUrl) -> Frame:
    frame = source.read(timeout=10)
    assert frame is not None, "no frame within 10 s"
    return frame


def _read_to_end(source: MjpegUrl) -> list[Frame]:
    frames: list[Frame] = []
    while True:
        try:
            frame = source.read(timeout=10)
        except StreamEnded:
            return frames
        assert frame is not None, "no frame within 10 s"
        frames.append(frame)


@pytest.mark.parametrize(
    ("path", "markers"),
    [("/video", [0, 1, 2, 3, 4]), ("/sloppy", [0, 1, 2]), ("/unnamed", [7, 8])],
)
def test_streams_are_read_to_their_end(camera_url: str, path: str, markers: list[int]) -> None:
    """/sloppy and /unnamed bend the format as some IP-webcam apps do."""
    with MjpegUrl(f"{camera_url}{path}") as source:
        frames = _read_to_end(source)
    # Newest-only: a slow reader may miss frames, but never the last, nor the order.
    seen = [marker(frame.image) for frame in frames]
    assert seen[-1] == markers[-1] and seen == sorted(set(seen)) and set(seen) <= set(markers)
    assert [frame.index for frame in frames] == sorted({frame.index for frame in frames})
    assert frames[0].image.shape == (64, 96, 3)
    assert frames[0].source == f"stream {camera_url}{path}"


def test_a_bad_part_is_reported_and_the_stream_goes_on(camera_url: str) -> None:
    source = MjpegUrl(f"{camera_url}/garbage")
    outcomes: list[int | str] = []
    with source:
        for _ in range(3):
            try:
                frame = source.read(timeout=10)
            except UnreadableImage as exc:
                outcomes.append(exc.name)
            except StreamEnded:
                break
            else:
                assert frame is not None
                outcomes.append(marker(frame.image))
    # Newest-only may overwrite the bad part or the first frame, never reorder them.
    assert outcomes[-1] == 2
    assert set(outcomes) <= {1, "frame 1", 2}


def test_a_live_stream_gives_fresh_frames_and_stops_on_close(camera_url: str) -> None:
    source = MjpegUrl(f"{camera_url}/live")
    source.open()
    indices = [_read(source).index for _ in range(5)]
    source.close()  # the reader thread is gone: the thread check would fail otherwise
    assert indices == sorted(set(indices))


def test_a_snapshot_url_is_polled(camera_url: str) -> None:
    with MjpegUrl(f"{camera_url}/shot.jpg", snapshot_interval=0) as source:
        frames = [_read(source) for _ in range(3)]
    assert [f.index for f in frames] == sorted({f.index for f in frames})
    assert all(f.image.shape == (64, 96, 3) for f in frames)


@pytest.fixture
def stall() -> Iterator[None]:
    """Lets the /stall handler finish when the test is over."""
    _Camera.release_stall.clear()
    yield
    _Camera.release_stall.set()


@pytest.mark.usefixtures("stall")
def test_a_stalled_stream_fails_after_the_timeout(camera_url: str) -> None:
    source = MjpegUrl(f"{camera_url}/stall", timeout=0.3)
    with source, pytest.raises(SourceFailed, match=r"no data for 0\.3 s"):
        source.read(timeout=10)


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("/nothing", SourceNotFound, r"stream .*/nothing not found"),
        ("/page", SourceFailed, "expected multipart/x-mixed-replace or image/\\*, got text/html"),
    ],
)
def test_http_answers_that_are_no_stream_are_named(
    camera_url: str, path: str, error: type[Exception], message: str
) -> None:
    source = MjpegUrl(f"{camera_url}{path}")
    with source, pytest.raises(error, match=message):
        source.read(timeout=10)


def test_a_closed_port_cannot_connect() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Camera) as server:
        port = server.server_address[1]  # bound, then closed: nobody listens there
    source = MjpegUrl(f"http://127.0.0.1:{port}/video")
    with source, pytest.raises(SourceFailed, match="cannot connect"):
        source.read(timeout=10)


def test_credentials_in_the_url_are_never_shown() -> None:
    source = MjpegUrl("http://admin:hunter2@10.0.0.7:8080/video")
    assert source.describe() == "stream http://10.0.0.7:8080/video"


_JPEG_LIKE = st.binary(max_size=300).map(lambda data: b"\xff\xd8" + data + b"\xff\xd9")


@given(
    bodies=st.lists(_JPEG_LIKE, min_size=1, max_size=5),
    content_length=st.booleans(),
    newline=st.sampled_from([b"\r\n", b"\n"]),
    closed=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_splitting_does_not_depend_on_how_bytes_arrive(
    bodies: list[bytes], content_length: bool, newline: bytes, closed: bool, cuts: list[int]
) -> None:
    """Whether the stream ends with a close delimiter or just stops, in any chunks."""
    assume(content_length or not any(b"--frame" in body for body in bodies))
    stream = multipart(bodies, content_length=content_length, newline=newline)
    if closed:
        stream += b"--frame--" + newline
    splitter = MultipartSplitter("frame", name="test", max_part_bytes=10_000)
    got = []
    edges = [0, *sorted(cut % (len(stream) + 1) for cut in cuts), len(stream)]
    for start, end in itertools.pairwise(edges):
        got += splitter.feed(stream[start:end])
    got += splitter.end()
    assert got == bodies


def test_a_stream_without_parts_is_refused_before_it_fills_memory() -> None:
    splitter = MultipartSplitter("frame", name="stream x", max_part_bytes=1000)
    with pytest.raises(SourceFailed, match=r"stream x failed: no complete part in 1500 bytes"):
        splitter.feed(b"x" * 1500)


@pytest.mark.parametrize("length", [b"lots", b"999999"])
def test_a_bad_content_length_is_refused(length: bytes) -> None:
    splitter = MultipartSplitter("frame", name="stream x", max_part_bytes=1000)
    with pytest.raises(SourceFailed, match="declares Content-Length"):
        splitter.feed(b"--frame\r\nContent-Length: " + length + b"\r\n\r\n")
