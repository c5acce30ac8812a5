"""Burst input: counts, sizes, colour, files and videos, each with a clear error."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fingerprint.hologram import BurstError, check_burst, load_burst


def frames(count: int, shape: tuple[int, ...] = (240, 320, 3)) -> list[np.ndarray]:
    rng = np.random.default_rng(count)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(count)]


def test_a_good_burst_comes_back_read_only_and_bgr() -> None:
    given = frames(10, (240, 320, 4))
    checked = check_burst(given)
    assert len(checked) == 10
    assert checked[0].shape == (240, 320, 3)
    assert not checked[0].flags.writeable
    np.testing.assert_array_equal(checked[3], given[3][:, :, :3])


@pytest.mark.parametrize(
    ("burst", "message"),
    [
        (frames(9), "at least 10 frames, got 9"),
        (frames(61), "at most 60 frames, got 61"),
        (frames(10, (240, 320)), "must be colour"),
        ([*frames(9), frames(1, (240, 322, 3))[0]], "frame 9 is 322×240"),
        ([*frames(9), np.zeros((240, 320, 3), np.uint16)], "frame 9 must be a uint8 array"),
        (frames(10, (200, 320, 3)), "at least 240 px"),
    ],
)
def test_bad_bursts_are_refused_with_the_reason(burst: list[np.ndarray], message: str) -> None:
    with pytest.raises(BurstError, match=message):
        check_burst(burst)


def test_a_folder_of_images_is_read_in_name_order(tmp_path: Path) -> None:
    given = frames(10)
    for k, frame in enumerate(given):
        cv2.imwrite(str(tmp_path / f"f{k:02d}.png"), frame)
    (tmp_path / "notes.txt").write_text("not a frame")
    loaded = load_burst(tmp_path)
    assert len(loaded) == 10
    np.testing.assert_array_equal(loaded[7], given[7])


def test_a_broken_frame_in_a_folder_names_the_file(tmp_path: Path) -> None:
    for k, frame in enumerate(frames(10)):
        cv2.imwrite(str(tmp_path / f"f{k:02d}.png"), frame)
    (tmp_path / "f05.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(BurstError, match="f05.png"):
        load_burst(tmp_path)


def test_a_long_video_is_sampled_down_to_sixty_frames(tmp_path: Path) -> None:
    path = tmp_path / "tilt.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30, (320, 240))
    assert writer.isOpened()
    for frame in frames(75):
        writer.write(frame)
    writer.release()
    loaded = load_burst(path)
    assert len(loaded) == 60
    assert loaded[0].shape == (240, 320, 3)


def test_a_file_that_is_no_video_and_a_missing_path_are_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"not a video")
    with pytest.raises(BurstError):
        load_burst(bogus)
    with pytest.raises(BurstError, match="neither a video file nor a folder"):
        load_burst(tmp_path / "missing")
