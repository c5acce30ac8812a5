"""Uploaded videos: telling them by their magic bytes, noticing cut-short containers, and
sampling their frames evenly, in order, within the limits."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from capture_samples import VIDEO_SIZE, every_frame, jpeg, video
from hypothesis import given
from hypothesis import strategies as st

from app.capture.clip import VideoKind, check_whole, sample_video, sniff_video
from app.capture.decode import sniff
from app.capture.errors import UnreadableVideo

_EBML = b"\x1a\x45\xdf\xa3"


def _box(kind: bytes, payload: bytes, *, large: bool) -> bytes:
    """An ISO-BMFF box, with a 64-bit size field when ``large``."""
    if large:
        return (1).to_bytes(4, "big") + kind + (16 + len(payload)).to_bytes(8, "big") + payload
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def _vint(value: int, length: int) -> bytes:
    """``value`` as an EBML variable-size integer of ``length`` bytes (RFC 8794 §4)."""
    return (value | 1 << (7 * length)).to_bytes(length, "big")


def _element(id_length: int, size_length: int, payload: bytes) -> bytes:
    return _vint(1, id_length) + _vint(len(payload), size_length) + payload


_boxes = st.lists(
    st.builds(_box, st.binary(min_size=4, max_size=4), st.binary(max_size=40), large=st.booleans()),
    min_size=1,
    max_size=5,
)
_elements = st.lists(
    st.builds(_element, st.integers(1, 4), st.integers(1, 8), st.binary(max_size=40)),
    min_size=1,
    max_size=5,
)


containers = pytest.mark.parametrize(
    ("fourcc", "suffix", "kind"),
    [("mp4v", ".mp4", VideoKind.ISO_BMFF), ("VP80", ".webm", VideoKind.MATROSKA)],
)
"""The containers OpenCV writes here, each with a codec FFmpeg decodes."""


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00", VideoKind.ISO_BMFF),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00", VideoKind.ISO_BMFF),  # a MOV
        (_EBML + b"\x9fB\x86\x81\x01", VideoKind.MATROSKA),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", None),  # a HEIC photo
        (jpeg(1), None),
        (b"\x00\x00\x00\x18moov", None),
        (b"", None),
    ],
)
def test_videos_are_told_by_their_magic_bytes(head: bytes, kind: VideoKind | None) -> None:
    assert sniff_video(head) is kind


@given(st.binary(max_size=24))
def test_nothing_sniffs_as_both_a_photo_and_a_video(data: bytes) -> None:
    assert sniff(data) is None or sniff_video(data) is None


@given(st.binary(min_size=4, max_size=4), st.binary(max_size=24))
def test_any_ftyp_brand_but_heif_is_a_video(brand: bytes, rest: bytes) -> None:
    data = b"\x00\x00\x00\x18ftyp" + brand + rest
    assert sniff_video(data) is (None if sniff(data) else VideoKind.ISO_BMFF)


@given(
    st.one_of(
        st.tuples(st.just(VideoKind.ISO_BMFF), _boxes),
        st.tuples(st.just(VideoKind.MATROSKA), _elements),
    ),
    st.data(),
)
def test_a_box_or_element_cut_anywhere_is_noticed(
    parts: tuple[VideoKind, list[bytes]], data: st.DataObject
) -> None:
    kind, pieces = parts
    whole = b"".join(pieces)
    check_whole(io.BytesIO(whole), kind)
    ends = {sum(len(piece) for piece in pieces[: n + 1]) for n in range(len(pieces))}
    cut = data.draw(st.integers(1, len(whole) - 1).filter(lambda n: n not in ends))
    with pytest.raises(UnreadableVideo, match="the video is cut short"):
        check_whole(io.BytesIO(whole[:cut]), kind)


@given(st.binary(max_size=64))
def test_sizes_unknown_until_the_end_run_to_the_end(rest: bytes) -> None:
    live_segment = _vint(1, 4) + b"\x01\xff\xff\xff\xff\xff\xff\xff"  # 8-byte "unknown"
    check_whole(io.BytesIO(_element(4, 1, b"header") + live_segment + rest), VideoKind.MATROSKA)
    check_whole(io.BytesIO(_box(b"ftyp", b"isom", large=False) + bytes(4) + b"mdat" + rest),
                VideoKind.ISO_BMFF)  # fmt: skip


@pytest.mark.parametrize(
    ("data", "kind", "reason"),
    [
        (_box(b"ftyp", b"isom", large=False) + (3).to_bytes(4, "big") + b"free",
         VideoKind.ISO_BMFF, "a box of 3 bytes at byte 12"),
        ((1).to_bytes(4, "big") + b"mdat" + (15).to_bytes(8, "big"),
         VideoKind.ISO_BMFF, "a box of 15 bytes at byte 0"),
        (b"\x00\x00\x00\x04ftyp", VideoKind.ISO_BMFF, "a box of 4 bytes at byte 0"),
        (_EBML + b"\x00", VideoKind.MATROSKA, "a bad element header at byte 0"),
        (_box(b"free", b"", large=False) * 1025, VideoKind.ISO_BMFF, "more than 1024"),
    ],
)  # fmt: skip
def test_malformed_containers_are_damaged(data: bytes, kind: VideoKind, reason: str) -> None:
    with pytest.raises(UnreadableVideo, match=f"the video file is damaged: {reason}"):
        check_whole(io.BytesIO(data), kind)


@containers
def test_a_long_video_is_sampled_evenly_in_order(
    tmp_path: Path, fourcc: str, suffix: str, kind: VideoKind
) -> None:
    path = tmp_path / f"upload{suffix}"
    path.write_bytes(video(tmp_path, 80, fourcc=fourcc, suffix=suffix))
    frames = sample_video(path, kind, keep=60, max_frames=100, max_pixels=10**6)
    reference = every_frame(path)
    picks = np.linspace(0, 79, 60).round().astype(int)
    assert len(reference) == 80 and len(frames) == 60
    assert all(
        np.array_equal(frame, reference[pick]) for frame, pick in zip(frames, picks, strict=True)
    )
    assert frames[0].shape == (VIDEO_SIZE[1], VIDEO_SIZE[0], 3)


def test_a_short_video_gives_every_frame(tmp_path: Path) -> None:
    path = tmp_path / "upload.mp4"
    path.write_bytes(video(tmp_path, 20))
    frames = sample_video(path, VideoKind.ISO_BMFF, keep=60, max_frames=100, max_pixels=10**6)
    reference = every_frame(path)
    assert len(frames) == len(reference) == 20
    assert all(np.array_equal(a, b) for a, b in zip(frames, reference, strict=True))


@pytest.mark.parametrize(
    ("max_frames", "max_pixels", "reason"),
    [
        (50, 10**6, "the video has 80 frames; the limit is 50"),
        (100, 160 * 120 - 1, "the video's frames are 160×120; the limit is 0.0 megapixels"),
    ],
)
def test_videos_over_the_limits_are_refused(
    tmp_path: Path, max_frames: int, max_pixels: int, reason: str
) -> None:
    path = tmp_path / "upload.mp4"
    path.write_bytes(video(tmp_path, 80))
    with pytest.raises(UnreadableVideo, match=reason):
        sample_video(
            path, VideoKind.ISO_BMFF, keep=60, max_frames=max_frames, max_pixels=max_pixels
        )


@containers
def test_the_first_half_of_a_video_is_refused(
    tmp_path: Path, fourcc: str, suffix: str, kind: VideoKind
) -> None:
    whole = video(tmp_path, 40, fourcc=fourcc, suffix=suffix)
    path = tmp_path / f"half{suffix}"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UnreadableVideo, match="the video is cut short"):
        sample_video(path, kind, keep=60, max_frames=100, max_pixels=10**6)


def test_a_container_of_garbage_does_not_decode(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mp4"
    path.write_bytes(_box(b"ftyp", b"isom", large=False) + _box(b"mdat", bytes(500), large=False))
    with pytest.raises(UnreadableVideo, match="the video does not decode"):
        sample_video(path, VideoKind.ISO_BMFF, keep=60, max_frames=100, max_pixels=10**6)


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keep must be >= 1, got 0"):
        sample_video(tmp_path / "x.mp4", VideoKind.ISO_BMFF, keep=0, max_frames=1, max_pixels=1)
