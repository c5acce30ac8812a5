import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fingerprint.errors import ImageError
from fingerprint.image import MAX_PIXELS, load, to_gray


@pytest.fixture
def bgr() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (80, 120, 3), dtype=np.uint8)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".tiff", ".bmp", ".webp"])
def test_reads_common_formats_from_unicode_paths(tmp_path: Path, bgr: np.ndarray, ext: str) -> None:
    path = tmp_path / f"étiquette-标签{ext}"
    ok, data = cv2.imencode(ext, bgr)
    assert ok
    path.write_bytes(data.tobytes())
    gray = to_gray(path)
    assert gray.shape == (80, 120)
    assert gray.dtype == np.uint8
    if ext in (".png", ".tiff", ".bmp"):
        assert np.array_equal(gray, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))


def test_reads_gif(tmp_path: Path, bgr: np.ndarray) -> None:
    path = tmp_path / "a.gif"
    Image.fromarray(bgr[:, :, 0]).save(path)
    assert np.array_equal(to_gray(path), bgr[:, :, 0])


def test_sixteen_bit_png_keeps_its_range(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 100 * 100).reshape(100, 100).astype(np.uint16)
    path = tmp_path / "deep.png"
    cv2.imwrite(str(path), ramp)
    assert load(path).dtype == np.uint16
    gray = to_gray(path)
    assert gray.max() >= 254 and gray.min() == 0


def test_twelve_bit_data_in_sixteen_bit_container_is_not_dark() -> None:
    data = np.full((64, 64), 4000, np.uint16)
    assert to_gray(data).min() > 240


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_array_layouts(channels: int) -> None:
    array = np.full((70, 70, channels), 100, np.uint8)
    assert to_gray(array).shape == (70, 70)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((0, 0), np.uint8), "empty"),
        (np.zeros((10, 200), np.uint8), "at least"),
        (np.zeros((100, 100), np.float32), "dtype"),
        (np.zeros((100, 100, 2), np.uint8), "shape"),
    ],
)
def test_bad_arrays_are_refused(array: np.ndarray, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        to_gray(array)


def test_truncated_file_is_refused(tmp_path: Path, bgr: np.ndarray) -> None:
    _, data = cv2.imencode(".png", bgr)
    path = tmp_path / "cut.png"
    path.write_bytes(data.tobytes()[: len(data) // 2])
    with pytest.raises(ImageError, match="truncated|damaged"):
        to_gray(path)


def test_truncated_jpeg_is_refused(bgr: np.ndarray) -> None:
    _, data = cv2.imencode(".jpg", np.tile(bgr, (4, 4, 1)))
    with pytest.raises(ImageError, match="truncated|damaged"):
        load(data.tobytes()[: len(data) // 2])


def test_non_image_missing_folder_and_empty(tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ImageError, match="not an image"):
        to_gray(text)
    with pytest.raises(ImageError, match="cannot read"):
        to_gray(tmp_path / "missing.png")
    folder = tmp_path / "scans.png"
    folder.mkdir()
    with pytest.raises(ImageError, match="cannot read .*scans.png: Is a directory"):
        to_gray(folder)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        to_gray(empty)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    side = int(np.sqrt(MAX_PIXELS)) + 100
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG")
    with pytest.raises(ImageError, match="limit|bomb"):
        load(buffer.getvalue())


def test_exif_orientation_is_applied() -> None:
    tall = np.zeros((120, 80, 3), np.uint8)
    image = Image.fromarray(tall)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert load(buffer.getvalue()).shape[:2] == (80, 120)
