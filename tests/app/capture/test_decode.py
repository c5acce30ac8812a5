"""Image bytes to BGR pixels; what kind of image bytes claim to be."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from capture_samples import jpeg, marker, synthetic_frame
from PIL import Image

from app.capture.decode import ImageKind, decode_image, sniff
from app.capture.errors import UnreadableImage


def _encoded(suffix: str) -> bytes:
    ok, data = cv2.imencode(suffix, synthetic_frame(3))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (_encoded(".jpg"), ImageKind.JPEG),
        (_encoded(".png"), ImageKind.PNG),
        (_encoded(".webp"), ImageKind.WEBP),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", ImageKind.HEIC),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", ImageKind.HEIC),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", None),  # an MP4
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_sniff_reads_magic_bytes(data: bytes, kind: ImageKind | None) -> None:
    assert sniff(data) is kind


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_decode_gives_bgr_bytes(suffix: str) -> None:
    image = decode_image(_encoded(suffix), name="x")
    assert image.shape == (64, 96, 3) and image.dtype == np.uint8
    assert marker(image) == 3


def test_grey_and_16_bit_images_become_8_bit_bgr() -> None:
    grey16 = np.full((64, 96), 40_000, dtype=np.uint16)
    ok, data = cv2.imencode(".png", grey16)
    assert ok
    image = decode_image(data.tobytes(), name="deep.png")
    assert image.shape == (64, 96, 3)
    assert image[0, 0].tolist() == [40_000 >> 8] * 3


def test_decode_applies_the_exif_orientation_phones_write() -> None:
    upright = Image.new("RGB", (96, 64), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    upright.save(out, format="JPEG", exif=exif)
    assert decode_image(out.getvalue(), name="phone.jpg").shape == (96, 64, 3)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello", "the image is not an image in a known format"),
        (jpeg(1)[:200], "the image is damaged or truncated"),
        (b"", "the image is empty"),
    ],
)
def test_undecodable_bytes_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableImage, match=f"cannot read upload: {reason}") as caught:
        decode_image(data, name="upload")
    assert caught.value.name == "upload"
    assert caught.value.reason.startswith(reason)
