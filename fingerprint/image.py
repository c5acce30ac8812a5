"""Images in: files and arrays, checked and brought to 8-bit grey.

Files are decoded with Pillow, which reads the header first (so a decompression bomb is
refused before any pixel is decoded), notices truncated data, and applies the EXIF
orientation phones write. Arrays may be 8- or 16-bit, grey, BGR or BGRA.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from fingerprint.errors import ImageError

MIN_SIDE = 64
"""Smallest accepted side in pixels: below it there is no texture to fingerprint."""
MAX_PIXELS = 64_000_000
"""Largest accepted image (64 MP, twice a 32 MP industrial sensor); bigger is refused."""
MAX_FILE_BYTES = 256 * 1024 * 1024

ImageInput = str | os.PathLike[str] | bytes | NDArray[np.generic]


def load(source: str | os.PathLike[str] | bytes) -> NDArray[np.uint8 | np.uint16]:
    """Decode an image file (path or its bytes) to an array: grey (H, W), BGR or BGRA.

    Accepts PNG, JPEG, TIFF, BMP, GIF (first frame) and WebP, 8- or 16-bit.

    Raises
    ------
    ImageError
        Missing, empty, huge, truncated or non-image input, with the reason.
    """
    if isinstance(source, bytes):
        data, name = source, "<bytes>"
    else:
        path = Path(source)
        name = str(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise ImageError(f"{name} is {size} bytes; the limit is {MAX_FILE_BYTES}")
            data = path.read_bytes()  # a folder or an unreadable file fails here
        except OSError as exc:
            raise ImageError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if not data:
        raise ImageError(f"{name} is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{name} is {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
    return _decode(data, name)


def _decode(data: bytes, name: str) -> NDArray[np.uint8 | np.uint16]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"{name} is {width}×{height} = {width * height} pixels; "
                    f"the limit is {MAX_PIXELS}"
                )
            img.load()
            oriented = ImageOps.exif_transpose(img)
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError(f"{name} is not an image in a known format") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{name} looks like a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name} is damaged or truncated: {exc}") from exc
    return _pil_to_array(oriented, name)


def _pil_to_array(img: Image.Image, name: str) -> NDArray[np.uint8 | np.uint16]:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(img, dtype=np.uint16).copy()
    if mode in ("I", "F"):
        values = np.asarray(img)
        if values.min() < 0 or values.max() > 65535:
            raise ImageError(f"{name}: {mode}-mode values outside 0..65535")
        return values.astype(np.uint16)
    if mode in ("1", "L", "LA", "P", "PA") and _is_grey(img):
        return np.asarray(img.convert("L"), dtype=np.uint8).copy()
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.uint8)
        return np.asarray(cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA), dtype=np.uint8)
    rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8)


def _is_grey(img: Image.Image) -> bool:
    if img.mode != "P":
        return img.mode in ("1", "L")
    palette = img.getpalette() or []
    rgb = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    return bool(np.all(rgb[:, 0] == rgb[:, 1]) and np.all(rgb[:, 1] == rgb[:, 2]))


def to_gray(image: ImageInput) -> NDArray[np.uint8]:
    """Any accepted input as a C-contiguous 8-bit grey image, shape (H, W).

    16-bit data is shifted down by its used bit depth, so left- or right-aligned 10-, 12-
    and 16-bit sensor data all land in 0..255.
    """
    array = image if isinstance(image, np.ndarray) else load(image)
    return _gray_u8(_checked(array))


def _checked(array: NDArray[np.generic]) -> NDArray[np.uint8 | np.uint16]:
    if array.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"image dtype must be uint8 or uint16, got {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(
            f"image must be (H, W) grey, (H, W, 3) BGR or (H, W, 4) BGRA, got shape {array.shape}"
        )
    height, width = array.shape[:2]
    if height * width == 0:
        raise ImageError("image is empty")
    if min(height, width) < MIN_SIDE:
        raise ImageError(f"image is {width}×{height}; each side must be at least {MIN_SIDE} px")
    if height * width > MAX_PIXELS:
        raise ImageError(f"image has {height * width} pixels; the limit is {MAX_PIXELS}")
    return array  # type: ignore[return-value]


def _gray_u8(array: NDArray[np.uint8 | np.uint16]) -> NDArray[np.uint8]:
    if array.dtype == np.uint16:
        bits = max(8, int(array.max()).bit_length())
        array = (array >> (bits - 8)).astype(np.uint8)
    if array.ndim == 3:
        code = cv2.COLOR_BGR2GRAY if array.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        array = cv2.cvtColor(np.ascontiguousarray(array), code)
    return np.ascontiguousarray(array, dtype=np.uint8)
