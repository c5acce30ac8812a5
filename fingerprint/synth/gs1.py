"""GS1 element strings and their DataMatrix symbols for synthetic items.

Every synthetic item carries the same four application identifiers with fixed-length
values, so its GS1 DataMatrix is always the same 22×22 square symbol::

    (01) GTIN-14   (17) expiry YYMMDD   (10) lot "B" + 4 digits   (21) serial "SN" + 6 digits

References
----------
GS1 General Specifications, release 24.0, §3.2 (application identifiers) and §7.9.1
(check digit calculation).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import zxingcpp
from numpy.typing import NDArray

from fingerprint.gs1 import check_digit

#: Side of the square DataMatrix symbol every synthetic GS1 string encodes to, in modules.
CODE_MODULES = 22

#: GS1 company prefix of the GS1 Global Office examples (``9506000134352``).
_COMPANY_PREFIX = "950600013"
_MAX_SERIAL = 999_999
_SERIAL = re.compile(r"\(21\)SN(\d{6})$")


def element_string(*, product: int, serial: int) -> str:
    """The GS1 element string (HRI form) of one synthetic item.

    Parameters
    ----------
    product : int
        Item reference inside the company prefix, 0–999 (one per material).
    serial : int
        Serial number of the item, 0–999999.

    Returns
    -------
    str
        For example ``(01)09506000130012(17)271231(10)B0000(21)SN000123``.
    """
    if not 0 <= product <= 999:
        raise ValueError(f"product must be in 0..999, got {product}")
    if not 0 <= serial <= _MAX_SERIAL:
        raise ValueError(f"serial must be in 0..{_MAX_SERIAL}, got {serial}")
    body = f"0{_COMPANY_PREFIX}{product:03d}"
    gtin = f"{body}{check_digit(body)}"
    lot = f"B{serial // 100:04d}"
    return f"(01){gtin}(17)271231(10){lot}(21)SN{serial:06d}"


def serial_of(gs1: str) -> int:
    """The serial number in a synthetic element string (see :func:`element_string`)."""
    match = _SERIAL.search(gs1)
    if match is None:
        raise ValueError(f"no (21)SNdddddd serial at the end of {gs1!r}")
    return int(match.group(1))


@lru_cache(maxsize=256)
def _modules_cached(gs1: str) -> NDArray[np.bool_]:
    barcode = zxingcpp.create_barcode(
        gs1, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, force_square=True
    )
    image = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))
    if image.shape != (CODE_MODULES, CODE_MODULES):
        raise ValueError(
            f"{gs1!r} encodes to a {image.shape[0]}×{image.shape[1]} DataMatrix, "
            f"want {CODE_MODULES}×{CODE_MODULES}"
        )
    dark = image < 128
    dark.flags.writeable = False
    return dark


def datamatrix_modules(gs1: str) -> NDArray[np.bool_]:
    """The dark modules of the square GS1 DataMatrix encoding ``gs1``.

    Parameters
    ----------
    gs1 : str
        GS1 element string in HRI form, ``(AI)value…``.

    Returns
    -------
    NDArray[np.bool_]
        Shape (22, 22), read-only, True where a module is printed. Row 0 is the top
        edge (the dotted timing pattern), column 0 the solid left edge of the "L".
    """
    return _modules_cached(gs1)
